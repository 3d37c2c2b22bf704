import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { compressArg, dumpCompression } from '../../functions/backup/run-backup';
import { libpqEnv, settingsFromUrl } from '../../functions/shared/credentials';
import { pgToolPath, pgToolVersion } from '../../functions/shared/pg-tools';
import { serverBindir, startLocalPostgres } from '../helpers/local-postgres';
import { startMoto } from '../helpers/moto';
import { NEWEST_SERVER_MAJOR } from '../helpers/server-versions';
import {
  adminQuery,
  compileCli,
  cpuMeter,
  databaseBytes,
  describeCpu,
  run,
  runTracked,
} from './backup-restore.bench';
import type { Benchmark } from './bench-context';

const MB = 1024 * 1024;
/** PGMAINT_BENCH_PARALLEL_MB (default 1100): the database's size as measured, split over the tables. */
const SIZE_MB = Number(process.env.PGMAINT_BENCH_PARALLEL_MB ?? 1100);
/** PGMAINT_BENCH_PARALLEL_TABLES (default 4): similar-sized tables, so two jobs have work to share. */
const TABLES = Number(process.env.PGMAINT_BENCH_PARALLEL_TABLES ?? 4);
/** PGMAINT_BENCH_PARALLEL_ROUNDS (default 2): pipe, parallel, single-stream, pipe, this many times. */
const ROUNDS = Number(process.env.PGMAINT_BENCH_PARALLEL_ROUNDS ?? 2);
/** Verdicts need a database this big: below it, fixed costs weigh more than they do in production. */
const VERDICT_MIN_BYTES = 1024 * MB;
const RSS_LIMIT_BYTES = 256 * MB;

interface BackupJson {
  readonly key: string;
  readonly bytes: number;
  readonly format: string;
  readonly phases: Record<string, number>;
}

/**
 * What most Lambda backup tools do, `pg_dump -Fc | multipart upload` with no verification, against
 * pgmaint's parallel backup (backup.jobs 2: directory format, files uploaded as they complete,
 * verified) and its single stream (backup.jobs 1), same compression, same emulator, each a process
 * of its own, PostgreSQL 18 server and client. Each round runs the pipe before and after (its mean
 * is that round's baseline); the verdict is on the sums over the rounds. Then restore: pgmaint's
 * (download, SHA-256, pg_restore, exact counts) against `pg_restore -j 1` of the same archive from
 * a local file, A-B-B-A. Peak RSS: the job's Node process, and the job with every process it
 * started (pg_dump and its workers, pg_restore), summed at each sample. Each round and the sums
 * also say what this machine allows at best (`ceiling`): the server and the emulator share the
 * job's cores here, as they do not in production.
 */
export const backupParallelBench: Benchmark = {
  name: 'backup: pgmaint parallel (-j 2) and single-stream vs pg_dump -Fc | S3 multipart upload; restore vs pg_restore -j 1',
  target:
    'parallel ≥ 1.5× faster than the pipe; single-stream ≤ 1.10× of it; peak RSS ≤ 256 MB (with child processes); restore ratio printed',
  async run() {
    const server = await startLocalPostgres({
      bindir: serverBindir(NEWEST_SERVER_MAJOR),
      extraSettings: { max_wal_size: "'4GB'" },
    });
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
      const s3 = new S3Client({
        forcePathStyle: true,
        endpoint: aws.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
      });
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const cli = compileCli(work);
      const dumpVersion = await pgToolVersion('pg_dump');
      const compression = dumpCompression(dumpVersion.major);
      const url = await createTablesDatabase(server.url, 'bench_parallel', SIZE_MB, TABLES);
      const dbBytes = await databaseBytes(url);
      const libpq = { ...process.env, ...env, ...libpqEnv(settingsFromUrl(url), 'bench') };
      const uploader = writeUploader(work);
      const config = join(work, 'config.json');
      const configFor = (jobs: number) => {
        const path = join(work, `jobs-${jobs}.json`);
        writeFileSync(
          path,
          JSON.stringify({ backupBucket: bucket, targets: { bench: { url, backup: { jobs } } } }),
        );
        return path;
      };
      writeFileSync(config, JSON.stringify({ backupBucket: bucket, targets: { bench: { url } } }));

      const meter = cpuMeter(server.dataDir, aws.pid);
      let pipeRuns = 0;
      const pipe = async () => ({
        ...(await meter.timed(() =>
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
        )),
        load: loadAverage(),
      });
      const backup = async (jobs: number) => {
        const t = await meter.timed(() =>
          runTracked(
            'node',
            [cli, 'backup', '--config', configFor(jobs), '--target', 'bench', '--json'],
            env,
          ),
        );
        return {
          ms: t.ms,
          cpu: t.cpu,
          rss: t.value,
          result: JSON.parse(t.value.stdout) as BackupJson,
          load: loadAverage(),
        };
      };
      const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
      const described = (b: Awaited<ReturnType<typeof backup>>) =>
        `${seconds(b.ms)} (${b.result.format}, ${mb(b.result.bytes)} stored; phases ${phaseList(b.result.phases, seconds)}; ` +
        `peak RSS ${mb(b.rss.peakRssBytes)} Node, ${mb(b.rss.peakTreeRssBytes)} with child processes; ${describeCpu(b.cpu)}; ${b.load})`;

      lines.push(
        `${mb(dbBytes)} database in ${TABLES} tables, PostgreSQL ${dumpVersion.major}.${dumpVersion.minor} client and ${NEWEST_SERVER_MAJOR} server, ${compression} on every side, ${ROUNDS} round(s)`,
      );
      let pipeTotalMs = 0;
      let parallelTotalMs = 0;
      let singleTotalMs = 0;
      const cpuTotals = { pipe: 0, parallel: 0, single: 0 };
      const total = (cpu: { job: number; postgres: number; s3: number }) => cpu.job + cpu.postgres + cpu.s3;
      const cores = availableParallelism();
      let peak = 0;
      let lastSingle: BackupJson | undefined;
      let lastParallel: BackupJson | undefined;
      for (let round = 1; round <= ROUNDS; round++) {
        const p1 = await pipe();
        const parallel = await backup(2);
        const single = await backup(1);
        const p2 = await pipe();
        const pipeMs = (p1.ms + p2.ms) / 2;
        pipeTotalMs += pipeMs;
        parallelTotalMs += parallel.ms;
        singleTotalMs += single.ms;
        cpuTotals.pipe += (total(p1.cpu) + total(p2.cpu)) / 2;
        cpuTotals.parallel += total(parallel.cpu);
        cpuTotals.single += total(single.cpu);
        peak = Math.max(peak, parallel.rss.peakTreeRssBytes, single.rss.peakTreeRssBytes);
        lastSingle = single.result;
        lastParallel = parallel.result;
        const pipeCpu = (total(p1.cpu) + total(p2.cpu)) / 2;
        lines.push(
          `round ${round}: pg_dump -Fc | S3 multipart upload ${seconds(p1.ms)} / ${seconds(p2.ms)} (mean ${seconds(pipeMs)}; ${describeCpu(p1.cpu)}, ${p1.load} / ${describeCpu(p2.cpu)}, ${p2.load})`,
          `  pgmaint parallel (-j 2): ${described(parallel)}`,
          `  pgmaint single-stream: ${described(single)}`,
          `  round ${round}: parallel ${(pipeMs / parallel.ms).toFixed(2)}× faster than the pipe; single-stream ${(single.ms / pipeMs).toFixed(2)}× the pipe's time`,
          `  round ${round}: ${ceiling({ cores, pipeCpu, pipeMs, parallelCpu: total(parallel.cpu), singleCpu: total(single.cpu) })}`,
        );
      }
      const speedup = pipeTotalMs / parallelTotalMs;
      const singleRatio = singleTotalMs / pipeTotalMs;
      lines.push(
        `all rounds: parallel is ${speedup.toFixed(2)}× faster than the pipe (target ≥ 1.5×); single-stream takes ${singleRatio.toFixed(2)}× the pipe's time (target ≤ 1.10×); peak RSS with child processes ${mb(peak)} (target ≤ 256 MB)`,
        `all rounds, CPU time (job, PostgreSQL and S3 emulator together): pipe ${cpuTotals.pipe.toFixed(1)} s, parallel ${cpuTotals.parallel.toFixed(1)} s (${(cpuTotals.parallel / cpuTotals.pipe).toFixed(2)}×), single-stream ${cpuTotals.single.toFixed(1)} s (${(cpuTotals.single / cpuTotals.pipe).toFixed(2)}×)`,
        `all rounds: ${ceiling({ cores, pipeCpu: cpuTotals.pipe, pipeMs: pipeTotalMs, parallelCpu: cpuTotals.parallel, singleCpu: cpuTotals.single })}`,
      );

      // Restore: the single-stream backup's archive, downloaded once beforehand for the baseline.
      const archive = join(work, 'archive.dump');
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: lastSingle?.key }));
      await pipeline(object.Body as NodeJS.ReadableStream, createWriteStream(archive));
      let restores = 0;
      const baselineRestore = async () => {
        const into = `restored_${++restores}`;
        await adminQuery(url, `create database ${into} template template0`);
        const t = await meter.timed(() =>
          run(
            pgToolPath('pg_restore'),
            ['--no-owner', '--no-privileges', '--exit-on-error', '--jobs=1', `--dbname=${into}`, archive],
            { ...libpq, PGDATABASE: into },
          ),
        );
        await adminQuery(url, `drop database ${into}`);
        return { ms: t.ms, cpu: t.cpu };
      };
      const pgmaintRestore = async (key: string) => {
        const into = `restored_${++restores}`;
        const t = await meter.timed(() =>
          runTracked(
            'node',
            [
              cli,
              'restore',
              '--config',
              config,
              '--target',
              'bench',
              '--backup',
              key,
              '--into',
              into,
              '--json',
            ],
            env,
          ),
        );
        await adminQuery(url, `drop database ${into}`);
        const result = JSON.parse(t.value.stdout) as { phases: Record<string, number> };
        return { ms: t.ms, cpu: t.cpu, phases: result.phases, rss: t.value };
      };
      const key = lastSingle?.key ?? '';
      const r1 = await baselineRestore();
      const o1 = await pgmaintRestore(key);
      const o2 = await pgmaintRestore(key);
      const r2 = await baselineRestore();
      const restoreRatio = (o1.ms + o2.ms) / (r1.ms + r2.ms);
      lines.push(
        `restore of the single-stream backup (${mb(lastSingle?.bytes ?? 0)} archive): pg_restore -j 1 from a local file ${seconds(r1.ms)} / ${seconds(r2.ms)} (${describeCpu(r1.cpu)} / ${describeCpu(r2.cpu)}); ` +
          `pgmaint restore from S3 ${seconds(o1.ms)} / ${seconds(o2.ms)} (phases ${phaseList(o2.phases, seconds)}; peak RSS ${mb(Math.max(o1.rss.peakRssBytes, o2.rss.peakRssBytes))} Node, ${mb(Math.max(o1.rss.peakTreeRssBytes, o2.rss.peakTreeRssBytes))} with child processes; ${describeCpu(o1.cpu)} / ${describeCpu(o2.cpu)}); ` +
          `ratio ${restoreRatio.toFixed(2)}× pg_restore -j 1's time`,
      );
      if (lastParallel) {
        const directory = await pgmaintRestore(lastParallel.key);
        lines.push(
          `restore of the parallel (directory) backup: pgmaint ${seconds(directory.ms)} (phases ${phaseList(directory.phases, seconds)}); ` +
            `${(directory.ms / ((r1.ms + r2.ms) / 2)).toFixed(2)}× the time of pg_restore -j 1 of the custom archive above`,
        );
      }
      const bigEnough = dbBytes >= VERDICT_MIN_BYTES;
      if (!bigEnough)
        lines.push(`the database is under 1 GB: no verdict (set PGMAINT_BENCH_PARALLEL_MB higher)`);
      const pass = bigEnough && speedup >= 1.5 && singleRatio <= 1.1 && peak <= RSS_LIMIT_BYTES;
      return { lines, pass };
    } finally {
      rmSync(work, { recursive: true, force: true });
      await aws.stop();
      await server.stop();
    }
  },
};

/**
 * What this machine lets any job reach, beside the measured ratios. Everything here (the job, the
 * PostgreSQL server's COPY, the S3 emulator) shares `cores`: a pipe that keeps b of them busy
 * leaves room for at most cores / b of a speed-up to a job doing the same work, however parallel.
 * And a job's own CPU (all sides) on `cores` takes at least cpu / cores of wall time. In
 * production the server and S3 run elsewhere, and those limits are the job's alone.
 */
function ceiling(m: {
  cores: number;
  pipeCpu: number;
  pipeMs: number;
  parallelCpu: number;
  singleCpu: number;
}): string {
  const busy = m.pipeCpu / (m.pipeMs / 1000);
  const floorMs = (cpu: number) => (cpu / m.cores) * 1000;
  return (
    `the pipe kept ${busy.toFixed(2)} of the ${m.cores} cores busy: no job doing its work can be more than ${(m.cores / busy).toFixed(2)}× faster here; ` +
    `with their own CPU on ${m.cores} cores, parallel can be at most ${(m.pipeMs / floorMs(m.parallelCpu)).toFixed(2)}× faster and single-stream no less than ${(floorMs(m.singleCpu) / m.pipeMs).toFixed(2)}× the pipe's time`
  );
}

/** `load 2.71`: the 1-minute load average as a run ends, beside its figures (other work shares the machine). */
function loadAverage(): string {
  return `load ${loadavg()[0]?.toFixed(2)}`;
}

function phaseList(phases: Record<string, number>, seconds: (ms: number) => string): string {
  return Object.entries(phases)
    .map(([name, ms]) => `${name.replace(/Ms$/, '')} ${seconds(ms)}`)
    .join(', ');
}

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
    const rowsPerMb = 6_250; // ~170 bytes a row with its index entry, as measured
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
