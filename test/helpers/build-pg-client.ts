import { ensurePgClient } from './pg-client-build';

// `npm run pg-client`: builds (or reuses) the newest PostgreSQL client and prints its bindir,
// e.g. PGMAINT_PG_BINDIR=$(npm run -s pg-client) pgmaint backup ...
ensurePgClient().then(
  (bindir) => process.stdout.write(`${bindir}\n`),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
