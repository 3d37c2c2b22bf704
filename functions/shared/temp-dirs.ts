import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/**
 * pgmaint's scratch directories (a downloaded archive, a directory-format dump, pg_restore lists).
 * A run killed outright (a Lambda timeout, SIGKILL, the OOM killer) cannot remove its own, and a
 * Lambda execution environment keeps /tmp across invocations: the next run on it would find less
 * disk than it needs, and a restore would refuse or a backup drop to one dump job. So each name says
 * which process (and thread) made it, `pgmaint-<purpose>.<host>.<pid>.<thread>-XXXXXX`, and every run
 * first removes those of processes that are gone.
 */
const PREFIX = 'pgmaint-';

/** Directories this process made: a later process reusing its pid (a Lambda runtime restarted) is not it. */
const ours = new Set<string>();
/** makeTempDir calls under way: a directory they made may not be in `ours` yet (runs in parallel in one process). */
let making = 0;

/** The host part of a name: containers that share a /tmp have hostnames (and pid namespaces) of their own. */
const HOST =
  hostname()
    .replace(/[^A-Za-z0-9-]/g, '_')
    .slice(0, 64) || 'host';

/** The start of a scratch directory's name, before mkdtemp's six characters: who made it, for what. */
export function scratchDirPrefix(purpose: string, pid = process.pid, thread = threadId): string {
  return `${PREFIX}${purpose}.${HOST}.${pid}.${thread}-`;
}

/** A new, empty scratch directory under `parent` (the OS temp dir by default). */
export async function makeTempDir(purpose: string, parent = tmpdir()): Promise<string> {
  making++;
  try {
    const dir = await mkdtemp(join(parent, scratchDirPrefix(purpose)));
    ours.add(dir);
    return dir;
  } finally {
    making--;
  }
}

/**
 * Removes the scratch directories under `parent` left by pgmaint processes of this host that no
 * longer run, and returns them. Directories of a live process (another pgmaint run on the same box)
 * are never touched, nor anything not named by makeTempDir.
 */
export async function removeStaleTempDirs(parent = tmpdir()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const owner = ownerOf(name);
    if (!owner || owner.host !== HOST) continue;
    const dir = join(parent, name);
    if (owner.pid === process.pid) {
      // Another thread of this process keeps its own list: its directories are its to remove.
      if (owner.thread !== threadId || ours.has(dir) || making > 0) continue;
    } else if (isRunning(owner.pid)) continue;
    try {
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Another user's (a pgmaint run as root, then one as you): left to them.
    }
  }
  return removed;
}

function ownerOf(name: string): { host: string; pid: number; thread: number } | undefined {
  const match = /^pgmaint-[a-z]+\.([A-Za-z0-9_-]{1,64})\.(\d+)\.(\d+)-[A-Za-z0-9]{6}$/.exec(name);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { host: match[1], pid: Number(match[2]), thread: Number(match[3]) };
}

/** Signal 0 checks a process exists; EPERM means it does, only under another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
