import { statfs } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { RefusedError } from '../shared/errors';
import { formatBytes } from '../shared/units';

/** Below this, one stream is as fast as parallel jobs: "auto" keeps it. */
const PARALLEL_AUTO_MIN_BYTES = 1024 ** 3;
/** Room kept free on the temp disk beside the dump. */
const DISK_HEADROOM_BYTES = 256 * 1024 ** 2;
/** pg_dump --jobs opens one connection per job: "auto" stays reasonable on a big machine. */
const AUTO_MAX_JOBS = 8;

/**
 * How many pg_dump jobs, and where their files go. The database's size bounds the dump's (pg_dump
 * writes no indexes, and compresses), so the temp disk must have that much free, checked before
 * anything starts.
 */
export async function chooseDumpJobs(
  configured: 'auto' | number,
  databaseBytes: number,
  tmp = tmpdir(),
): Promise<{ jobs: number; tmp: string }> {
  if (configured === 1) return { jobs: 1, tmp };
  const free = await freeBytes(tmp);
  const fits = free - DISK_HEADROOM_BYTES >= databaseBytes;
  if (configured === 'auto') {
    const cpus = availableParallelism();
    const jobs =
      cpus > 1 && databaseBytes >= PARALLEL_AUTO_MIN_BYTES && fits ? Math.min(cpus, AUTO_MAX_JOBS) : 1;
    return { jobs, tmp };
  }
  if (!fits) {
    throw new RefusedError(
      `backup.jobs is ${configured}: a parallel dump of this ${formatBytes(databaseBytes)} database needs up to ` +
        `${formatBytes(databaseBytes + DISK_HEADROOM_BYTES)} free in ${tmp}, which has ${formatBytes(Math.max(free, 0))}; ` +
        'give the task more ephemeral storage, or set backup.jobs to 1 (one stream, nothing on disk); nothing was started',
    );
  }
  return { jobs: configured, tmp };
}

async function freeBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}
