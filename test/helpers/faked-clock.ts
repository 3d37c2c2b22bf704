import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';

/**
 * Under `npm run test:dates` (test/dates/run-dates.sh) every process runs under libfaketime and
 * PGMAINT_TEST_FAKED_NOW holds the instant the faked clock started at. A process the faking did
 * not reach would run today's date and make the run prove nothing, so each clock is checked.
 */
const FAKED_NOW = 'PGMAINT_TEST_FAKED_NOW';

/** The clock may have run on since it started (setup, a long file), but never from today or behind. */
const BEHIND_MS = 5_000;
const AHEAD_MS = 15 * 60_000;

export function fakedNow(): Date | undefined {
  const text = process.env[FAKED_NOW];
  if (!text) return undefined;
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new Error(`${FAKED_NOW}="${text}" is not an ISO date-time`);
  return at;
}

function judge(expected: Date, what: string, seen: Date): string | undefined {
  const off = seen.getTime() - expected.getTime();
  if (off >= -BEHIND_MS && off <= AHEAD_MS) return undefined;
  return `${what} reads ${seen.toISOString()}, not the faked ${expected.toISOString()} (is LD_PRELOAD of libfaketime reaching it?)`;
}

/** Throws naming every clock (this node process, the PostgreSQL server, moto_server) not near the faked date. */
export async function assertFakedClocks(pgAdminUrl: string, awsEndpoint: string): Promise<void> {
  const expected = fakedNow();
  if (!expected) return;
  const node = new Date();

  const client = new Client({ connectionString: pgAdminUrl });
  await client.connect();
  let server: Date;
  let serverZone: string;
  try {
    const row = (
      await client.query<{ now: Date; zone: string }>('select now(), current_setting($1) as zone', [
        'TimeZone',
      ])
    ).rows[0];
    server = row?.now ?? new Date(0);
    serverZone = row?.zone ?? '?';
  } finally {
    await client.end();
  }

  const s3 = new S3Client({
    endpoint: awsEndpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const bucket = `faked-clock-${process.pid}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'probe', Body: 'probe' }));
  const moto =
    (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'probe' }))).LastModified ?? new Date(0);
  s3.destroy();

  const problems = [
    judge(expected, 'node (vitest)', node),
    judge(expected, 'PostgreSQL now()', server),
    judge(expected, 'moto_server (S3 LastModified)', moto),
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new Error(`faked clock not in effect:\n  ${problems.join('\n  ')}`);
  console.log(
    `faked clock: node ${node.toISOString()}, PostgreSQL ${server.toISOString()} (TimeZone ${serverZone}), moto ${moto.toISOString()}`,
  );
}

/** For a test worker process: its own clock must be faked too. */
export function assertFakedWorkerClock(): void {
  const expected = fakedNow();
  if (!expected) return;
  const problem = judge(expected, `test worker ${process.pid}`, new Date());
  if (problem) throw new Error(`faked clock not in effect: ${problem}`);
}
