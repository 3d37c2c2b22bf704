import { quietSdkNodeVersionWarning } from '../../functions/cli/quiet-warnings';
import { ensurePgClient } from '../helpers/pg-client-build';
import { BENCHMARKS } from './index';

/** `npm run bench [-- name-filter]`: runs each benchmark and prints its figures and verdict. */
async function runBenchmarks(filter: string | undefined): Promise<number> {
  const chosen = BENCHMARKS.filter((b) => !filter || b.name.toLowerCase().includes(filter.toLowerCase()));
  if (chosen.length === 0) {
    process.stderr.write(
      `no benchmark matches "${filter}"; known: ${BENCHMARKS.map((b) => b.name).join('; ')}\n`,
    );
    return 2;
  }
  // Measure the client the Lambda image ships (zstd dumps), built or reused like the tests' one.
  process.env.PGMAINT_PG_BINDIR = await ensurePgClient();
  let failed = 0;
  for (const bench of chosen) {
    process.stdout.write(`\n## ${bench.name}\n   target: ${bench.target}\n`);
    const started = Date.now();
    try {
      const outcome = await bench.run();
      for (const line of outcome.lines) process.stdout.write(`   ${line}\n`);
      process.stdout.write(
        `   ${outcome.pass ? 'PASS' : 'FAIL'} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
      );
      if (!outcome.pass) failed++;
    } catch (error) {
      failed++;
      process.stdout.write(`   ERROR: ${(error as Error).stack ?? error}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

quietSdkNodeVersionWarning();
runBenchmarks(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  },
);
