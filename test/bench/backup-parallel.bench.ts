import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { compressArg, dumpCompression } from '../../functions/backup/run-backup';
import { libpqEnv, settingsFromUrl } from '../../functions/shared/credentials';
import { pgToolPath, pgToolVersion } from '../../functions/shared/pg-tools';
import { startLocalPostgres } from '../helpers/local-postgres';
import { startMoto } from '../helpers/moto';
import { adminQuery, compileCli, databaseBytes, run, runTracked, timed } from './backup-restore.bench';
import type { Benchmark } from './bench-context';

const MB = 1024 * 1024;
/** PGMAINT_BENCH_PARALLEL_MB (default 1024): the database's size, split over the tables. */
const SIZE_MB = Number(process.env.PGMAINT_BENCH_PARALLEL_MB ?? 1024);
/** PGMAINT_BENCH_PARALLEL_TABLES (default 4): similar-sized tables, so two jobs have work to share. */
const TABLES = Number(process.env.PGMAINT_BENCH_PARALLEL_TABLES ?? 4);

/**
 * What most Lambda backup tools do, `pg_dump -Fc | multipart upload` with no verification, against
 * pgmaint's parallel backup (backup.jobs 2: directory format, files uploaded as they complete,
 * verified) and its single stream (backup.jobs 1), same compression, same emulator, each a process
 * of its own. One run of each, the pipe before and after (its mean is the baseline).
 */
export const backupParallelBench: Benchmark = {
  name: 'backup: pgmaint parallel (-j 2) and single-stream vs pg_dump -Fc | S3 multipart upload',
  target: 'parallel ≥ 1.5× faster than the pipe; single-stream ≤ 1.10× of it; peak RSS ≤ 256 MB',
  async run() {
    const server = await startLocalPostgres({ extraSettings: { max_wal_size: "'4GB'" } });
    const aws = await startMoto();
    const work = mkdtempSync(join(tmpdir(), 'pgmaint-bench-parallel-'));
    const lines: string[] = [];
    try {
      const env = {
        ...process.env,
        AWS_ENDPOINT_URL: aws.endpoint,
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_REGION: 'us-east-1',
      };
      const bucket = 'pgmaint-bench';
      await new S3Client({
        forcePathStyle: true,
        endpoint: aws.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
      }).send(new CreateBucketCommand({ Bucket: bucket }));
      const cli = compileCli(work);
      const compression = dumpCompression((await pgToolVersion('pg_dump')).major);
      const url = await createTablesDatabase(server.url, 'bench_parallel', SIZE_MB, TABLES);
      const dbBytes = await databaseBytes(url);
      const libpq = { ...process.env, ...env, ...libpqEnv(settingsFromUrl(url), 'bench') };
      const uploader = writeUploader(work);

      let pipeRuns = 0;
      const pipe = () =>
        timed(() =>
          run(
            'bash',
            [
              '-o',
              'pipefail',
              '-c',
              '"$1" --format=custom --no-password "$2" | node "$3" "$4" "$5"',
              'bash',
              pgToolPath('pg_dump'),
              compressArg(compression),
              uploader,
              bucket,
              `pipe/${++pipeRuns}.dump`,
            ],
            libpq,
          ),
        );
      const pgmaint = (jobs: number) => {
        const config = join(work, `jobs-${jobs}.json`);
        writeFileSync(
          config,
          JSON.stringify({ backupBucket: bucket, targets: { bench: { url, backup: { jobs } } } }),
        );
        return timed(() =>
          runTracked('node', [cli, 'backup', '--config', config, '--target', 'bench', '--json'], env),
        );
      };

      const p1 = await pipe();
      const parallel = await pgmaint(2);
      const single = await pgmaint(1);
      const p2 = await pipe();
      const pipeMs = (p1.ms + p2.ms) / 2;
      const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      const phases = (stdout: string) => {
        const result = JSON.parse(stdout) as {
          phases: Record<string, number>;
          bytes: number;
          format: string;
        };
        return `${result.format}, ${(result.bytes / MB).toFixed(0)} MB stored; phases ${Object.entries(
          result.phases,
        )
          .map(([name, ms]) => `${name.replace(/Ms$/, '')} ${seconds(ms)}`)
          .join(', ')}`;
      };
      const speedup = pipeMs / parallel.ms;
      const singleRatio = single.ms / pipeMs;
      const peak = Math.max(parallel.value.peakRssBytes, single.value.peakRssBytes);
      lines.push(
        `${(dbBytes / MB).toFixed(0)} MB database in ${TABLES} tables, ${compression}`,
        `pg_dump -Fc | S3 multipart upload: ${seconds(p1.ms)} / ${seconds(p2.ms)} (mean ${seconds(pipeMs)})`,
        `pgmaint parallel (-j 2): ${seconds(parallel.ms)} (${phases(parallel.value.stdout)}); peak RSS ${(parallel.value.peakRssBytes / MB).toFixed(0)} MB`,
        `pgmaint single-stream: ${seconds(single.ms)} (${phases(single.value.stdout)}); peak RSS ${(single.value.peakRssBytes / MB).toFixed(0)} MB`,
        `parallel is ${speedup.toFixed(2)}× faster than the pipe (target ≥ 1.5×); single-stream takes ${singleRatio.toFixed(2)}× the pipe's time (target ≤ 1.10×)`,
      );
      const pass = speedup >= 1.5 && singleRatio <= 1.1 && peak <= 256 * MB;
      return { lines, pass };
    } finally {
      rmSync(work, { recursive: true, force: true });
      await aws.stop();
      await server.stop();
    }
  },
};

/** A plain multipart upload of stdin (lib-storage's defaults), nothing checked: the baseline's half. */
function writeUploader(work: string): string {
  const root = join(__dirname, '..', '..', 'node_modules');
  const script = join(work, 'upload-stdin.js');
  writeFileSync(
    script,
    `process.removeAllListeners('warning');
const { S3Client } = require(${JSON.stringify(join(root, '@aws-sdk/client-s3'))});
const { Upload } = require(${JSON.stringify(join(root, '@aws-sdk/lib-storage'))});
const [bucket, key] = process.argv.slice(2);
new Upload({ client: new S3Client({ forcePathStyle: true }), params: { Bucket: bucket, Key: key, Body: process.stdin } })
  .done().catch((error) => { console.error(error); process.exitCode = 1; });\n`,
  );
  return script;
}

/** `tables` orders-like tables of about sizeMb / tables each. */
async function createTablesDatabase(adminUrl: string, name: string, sizeMb: number, tables: number) {
  await adminQuery(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const rowsPerMb = 5_200; // ~200 bytes a row with its index entry
    const perTable = Math.round((sizeMb * rowsPerMb) / tables);
    for (let t = 1; t <= tables; t++) {
      await client.query(`create table orders_${t} (
        id bigint primary key, placed_at timestamptz, customer text, sku text, note text, amount numeric(12,2))`);
      for (let from = 1; from <= perTable; from += 500_000) {
        const to = Math.min(perTable, from + 499_999);
        await client.query(
          `insert into orders_${t} select g, timestamptz '2024-01-01' + g * interval '7 seconds',
             'customer-' || (g % 50000), 'SKU-' || (g % 977), md5(g::text) || ' ' || md5((g * ${t + 6})::text),
             (g % 100000) / 100.0
           from generate_series($1::bigint, $2::bigint) g`,
          [from, to],
        );
      }
    }
    await client.query('vacuum analyze');
  } finally {
    await client.end();
  }
  return url.toString();
}
