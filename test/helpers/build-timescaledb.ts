import { ensureTimescaleDb } from './timescaledb-build';

// `npm run timescaledb`: builds (or reuses) the PostgreSQL 15 install with TimescaleDB and prints its bindir.
const started = Date.now();
ensureTimescaleDb().then(
  (install) => {
    process.stderr.write(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    process.stdout.write(`${install.bindir}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
