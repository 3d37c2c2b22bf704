import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BackupFile, backupFileKey } from '../shared/backup-catalog';
import { errorMessage, JobError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { hasher } from '../shared/sha256-stream';
import type { ObjectStore } from '../shared/store';
import { makeTempDir } from '../shared/temp-dirs';
import { spawnTool, type ToolProcess } from '../shared/tool-process';
import { ARCHIVE_HEADER_BYTES, readArchiveVersion } from './archive-header';
import { growingFile, READ_BYTES } from './growing-file';

export interface DirectoryArchive {
  readonly files: readonly BackupFile[];
  readonly bytes: number;
  /** SHA-256 of the `sha256sum`-style listing of the files, in name order. */
  readonly sha256: string;
  readonly archiveVersion: string;
  /** performance.now() when pg_dump exited: what follows is the last uploads and the verifier. */
  readonly dumpEndedAt: number;
  /** Files already in the store when pg_dump exited. */
  readonly uploadedDuringDump: number;
}

export interface DirectoryDumpOptions {
  readonly store: ObjectStore;
  /** The backup's prefix: file `f` goes to `<key>/f`. */
  readonly key: string;
  /** Where pg_dump writes; must not exist yet (pg_dump creates it). */
  readonly dir: string;
  readonly pgDump: string;
  readonly pgRestore: string;
  /** pg_dump's arguments besides --format, --jobs and --file. */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly jobs: number;
  readonly logger: Pick<Logger, 'warn'>;
  /** Rejects to cancel the whole run (the Lambda deadline is near). */
  readonly cancelled: Promise<never>;
}

/** How often the directory is looked at while pg_dump runs. */
const POLL_MS = 200;
/** Files uploading at once (each upload holds at most its own few 8 MiB parts). */
const UPLOADS_AT_ONCE = 2;
/** Written by pg_dump's leader when everything else is done: uploaded only after pg_dump exits. */
const TOC = 'toc.dat';

/**
 * pg_dump --format=directory --jobs N writes one file per table (and toc.dat last), each once,
 * from open to close, appending. A data file goes up while pg_dump still writes it (read as it
 * grows, until no pg_dump process, the leader or a worker, holds it open any more); once closed it
 * is hashed again whole, and must equal what was uploaded. A file found already closed is final
 * and uploaded as is. After pg_dump exits 0 the rest go up, and every file already uploaded is
 * checked unchanged (size and mtime) as a backstop. Each file is hashed (SHA-256) from the bytes
 * read for its upload; S3 checks every part against its signed SHA-256 on receipt, so the store
 * holds exactly the hashed bytes. pg_restore then reads the whole archive (toc.dat and every data file,
 * decompressed) from those same unchanged local files, split over N readers (verifierLists), and
 * a listing of the store must show every file at its size. Without /proc (not Linux) nothing is
 * uploaded before pg_dump exits. Any failure kills pg_dump, waits for the uploads in flight and
 * deletes what was uploaded; what cannot be deleted has no manifest, is no backup, and ages out
 * with the other loose files (prune-backups.ts).
 */
export async function dumpDirectoryToStore(options: DirectoryDumpOptions): Promise<DirectoryArchive> {
  const { store, key, dir } = options;
  const dump = spawnTool(
    options.pgDump,
    ['--format=directory', `--jobs=${options.jobs}`, `--file=${dir}`, ...options.args],
    options.env,
  );
  dump.child.stdout?.resume();
  // Closed for good: seen closed by a scan, or every file once pg_dump exited 0.
  const closed = new Set<string>();
  let allClosed = false;
  const uploads = uploadQueue(store, key, dir, (name) => allClosed || closed.has(name));
  let verifiers: ToolProcess[] = [];
  let listsDir: string | undefined;
  const stop = new AbortController();
  const stopped = new Promise<never>((_, reject) => {
    stop.signal.addEventListener('abort', () => reject(stop.signal.reason), { once: true });
  });
  stopped.catch(() => {});
  const fail = (reason: unknown) => {
    if (!stop.signal.aborted) stop.abort(reason);
  };
  options.cancelled.catch(fail);
  uploads.failed.catch(fail);
  const untilStopped = <T>(work: Promise<T>) => Promise.race([work, stopped]);

  try {
    let exited: number | undefined;
    void dump.exited.then((code) => {
      exited = code;
    });
    while (exited === undefined) {
      await untilStopped(Promise.race([dump.exited, new Promise((resolve) => setTimeout(resolve, POLL_MS))]));
      if (exited !== undefined) break;
      const scan = await scanFiles(dir, dump);
      if (!scan) continue;
      for (const name of scan.closed) {
        closed.add(name);
        if (name !== TOC) uploads.add(name);
      }
      // A data file still being written goes up as it grows: at pg_dump's exit little is left to send.
      for (const name of scan.open) if (name !== TOC) uploads.add(name);
    }
    const dumpEndedAt = performance.now();
    const uploadedDuringDump = uploads.startedCount();
    if (exited !== 0) throw new JobError(`pg_dump failed (exit ${exited}): ${dump.stderrTail()}`);
    allClosed = true;

    const names = (await readdir(dir)).sort();
    if (!names.includes(TOC)) throw new JobError(`pg_dump exited 0 but wrote no ${TOC}`);
    const archiveVersion = await readTocVersion(join(dir, TOC));
    await untilStopped(uploads.checkUnchanged());
    for (const name of names) uploads.add(name);
    listsDir = await makeTempDir('verify');
    const lists = await untilStopped(verifierLists(options.pgRestore, dir, listsDir, names, options.jobs));
    verifiers = lists.map((list) =>
      spawnTool(options.pgRestore, ['--file=/dev/null', ...(list ? [`--use-list=${list}`] : []), dir], {}),
    );
    for (const verifier of verifiers) verifier.child.stdout?.resume();
    const [files, verifyExits] = await untilStopped(
      Promise.all([uploads.drain(), Promise.all(verifiers.map((v) => v.exited))]),
    );
    verifyExits.forEach((code, i) => {
      if (code !== 0)
        throw new JobError(
          `pg_restore could not read the archive (exit ${code}): ${verifiers[i]?.stderrTail()}`,
        );
    });
    await untilStopped(checkStored(store, key, files));
    const listing = files.map((f) => `${f.sha256}  ${f.name}\n`).join('');
    return {
      files,
      bytes: files.reduce((sum, f) => sum + f.bytes, 0),
      sha256: createHash('sha256').update(listing).digest('hex'),
      archiveVersion,
      dumpEndedAt,
      uploadedDuringDump,
    };
  } catch (error) {
    const cause = stop.signal.aborted ? stop.signal.reason : error;
    fail(cause);
    dump.kill();
    for (const verifier of verifiers) verifier.kill();
    await dump.exited;
    const keys = await uploads.abandon();
    if (keys.length > 0) {
      await deletePatiently(store, keys).catch((deleteError: unknown) =>
        options.logger.warn(
          `could not delete the ${keys.length} file(s) uploaded under ${store.location}/${key}/ (${errorMessage(deleteError)}); without a manifest they are no backup, and the next backups remove them after a day`,
        ),
      );
    }
    throw cause;
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (listsDir) await rm(listsDir, { recursive: true, force: true });
  }
}

/**
 * The --use-list files of the pg_restore readers that verify the archive, `jobs` of them (one
 * undefined: a single reader of everything). pg_restore runs no parallel jobs into a file, so the
 * archive's entries are split: every entry of `pg_restore --list` in exactly one list, the data
 * entries spread by the size of their files (largest first, to the lightest list), everything
 * else in the first. Each reader reads toc.dat and, decompressed, the data files of its entries:
 * together they read every byte one reader would, in a fraction of the time.
 */
async function verifierLists(
  pgRestore: string,
  dir: string,
  listsDir: string,
  names: readonly string[],
  jobs: number,
): Promise<Array<string | undefined>> {
  if (jobs <= 1) return [undefined];
  const listing = spawnTool(pgRestore, ['--list', dir], {});
  const out: Buffer[] = [];
  listing.child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  const code = await listing.exited;
  if (code !== 0)
    throw new JobError(`pg_restore could not list the archive (exit ${code}): ${listing.stderrTail()}`);
  const sizes = new Map<string, number>();
  for (const name of names) {
    const id = /^(\d+)\.dat/.exec(name)?.[1] ?? /^blobs_(\d+)\.toc$/.exec(name)?.[1];
    if (id) sizes.set(id, (sizes.get(id) ?? 0) + (await stat(join(dir, name))).size);
  }
  const lines = Buffer.concat(out).toString('utf8').split('\n');
  const data = lines
    .map((line, index) => ({ index, id: /^(\d+);/.exec(line)?.[1] }))
    .filter((entry): entry is { index: number; id: string } => entry.id !== undefined && sizes.has(entry.id))
    .sort((a, b) => (sizes.get(b.id) ?? 0) - (sizes.get(a.id) ?? 0));
  const readers = Math.min(jobs, data.length);
  if (readers <= 1) return [undefined];
  const owner = new Map<number, number>();
  const load = new Array<number>(readers).fill(0);
  for (const entry of data) {
    const lightest = load.indexOf(Math.min(...load));
    owner.set(entry.index, lightest);
    load[lightest] = (load[lightest] ?? 0) + (sizes.get(entry.id) ?? 0);
  }
  return Promise.all(
    load.map(async (_, reader) => {
      const path = join(listsDir, `reader-${reader}.list`);
      const mine = lines.filter((_line, index) => (owner.get(index) ?? 0) === reader);
      await writeFile(path, `${mine.join('\n')}\n`);
      return path;
    }),
  );
}

const DELETE_RETRY_DELAYS_MS = [0, 1_000, 2_000, 4_000, 8_000];

/** The store that broke the upload is often still away for a moment: retry before giving up. */
async function deletePatiently(store: ObjectStore, keys: readonly string[]): Promise<void> {
  let lastError: unknown;
  for (const delay of DELETE_RETRY_DELAYS_MS) {
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      return await store.delete(keys);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * The files in `dir`: those no process of pg_dump's tree holds open (closed for good), and those
 * still open; undefined when /proc cannot say.
 */
async function scanFiles(
  dir: string,
  dump: ToolProcess,
): Promise<{ closed: string[]; open: string[] } | undefined> {
  const pid = dump.child.pid;
  if (pid === undefined) return undefined;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined; // not created yet
  }
  // Listed before the open files are read: a file listed and not open any more was closed for good.
  const open = await openPaths(pid);
  if (open === undefined) return undefined;
  const isOpen = (name: string) => open.has(join(dir, name));
  return { closed: names.filter((n) => !isOpen(n)), open: names.filter(isOpen) };
}

/** The paths pg_dump and its workers hold open, or undefined when /proc cannot say. */
async function openPaths(leader: number): Promise<Set<string> | undefined> {
  const pids = [leader, ...(await childPids(leader))];
  const paths = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      if (pid === leader) return undefined;
      continue; // a worker that just exited
    }
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
      if (target) paths.add(target);
    }
  }
  return paths;
}

async function childPids(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // Kernels without CONFIG_PROC_CHILDREN: find them by parent pid.
    const found: number[] = [];
    for (const entry of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(entry)) continue;
      const statText = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      const ppid = Number(statText.slice(statText.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    }
    return found;
  }
}

async function readTocVersion(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(ARCHIVE_HEADER_BYTES);
    await handle.read(head, 0, ARCHIVE_HEADER_BYTES, 0);
    const version = readArchiveVersion(head);
    if (!version) throw new JobError(`pg_dump's ${TOC} does not start with the PGDMP archive header`);
    return version;
  } finally {
    await handle.close();
  }
}

/** Every file must be in the store at the size uploaded, and nothing else under the prefix. */
async function checkStored(store: ObjectStore, key: string, files: readonly BackupFile[]): Promise<void> {
  const stored = new Map((await store.list(`${key}/`)).map((o) => [o.key, o.size]));
  for (const file of files) {
    const size = stored.get(backupFileKey(key, file.name));
    if (size !== file.bytes)
      throw new JobError(
        `${store.location}/${backupFileKey(key, file.name)} is ${size === undefined ? 'missing' : `${size} bytes`} after its upload of ${file.bytes} bytes`,
      );
  }
}

interface Uploaded extends BackupFile {
  readonly mtimeMs: number;
}

/** Read into one buffer, over and over: the file was just written, so this is page cache and SHA-256 only. */
async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  const handle = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return hash.digest('hex');
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

/**
 * Uploads files of `dir` to `<key>/<name>`, a few at a time, each once, hashing as it reads. A
 * file still being written is read as it grows; once it is closed, the whole file is hashed again
 * and must equal what was uploaded, so a byte pg_dump changed after it was read is never missed.
 */
function uploadQueue(store: ObjectStore, key: string, dir: string, isClosed: (name: string) => boolean) {
  const seen = new Set<string>();
  const waiting: string[] = [];
  const done: Uploaded[] = [];
  const running = new Set<Promise<void>>();
  const started: string[] = [];
  let abandoned = false;
  let rejectFailed: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  failed.catch(() => {});
  let idle: () => void = () => {};

  const upload = async (name: string) => {
    const path = join(dir, name);
    const growing = !isClosed(name);
    const before = await stat(path);
    const digest = hasher();
    const source = growing
      ? growingFile(
          path,
          () => isClosed(name),
          () => abandoned,
        )
      : createReadStream(path, { highWaterMark: READ_BYTES });
    source.on('error', (error: Error) => digest.stream.destroy(error));
    const target = backupFileKey(key, name);
    started.push(target);
    try {
      await store.putStream(target, source.pipe(digest.stream), 'application/octet-stream');
    } catch (error) {
      throw new JobError(`upload to ${store.location}/${target} failed: ${errorMessage(error)}`);
    }
    const { bytes, sha256 } = digest.result();
    if (!growing) {
      if (bytes !== before.size)
        throw new JobError(`${name} changed while it was uploaded (${before.size} → ${bytes} bytes)`);
      done.push({ name, bytes, sha256, mtimeMs: before.mtimeMs });
      return;
    }
    const after = await stat(path);
    if (bytes !== after.size || (await fileSha256(path)) !== sha256)
      throw new JobError(`pg_dump changed ${name} after part of it was uploaded; the backup is not used`);
    done.push({ name, bytes, sha256, mtimeMs: after.mtimeMs });
  };
  const pump = () => {
    while (!abandoned && running.size < UPLOADS_AT_ONCE && waiting.length > 0) {
      const name = waiting.shift() as string;
      const work: Promise<void> = upload(name).then(
        () => {
          running.delete(work);
          pump();
        },
        (error: unknown) => {
          running.delete(work);
          rejectFailed(error);
        },
      );
      running.add(work);
    }
    if (running.size === 0 && waiting.length === 0) idle();
  };
  return {
    failed,
    startedCount: () => started.length,
    add(name: string) {
      if (seen.has(name) || name.includes('.partial')) return;
      seen.add(name);
      waiting.push(name);
      pump();
    },
    /** pg_dump has exited: the files uploaded while it ran must be exactly as it left them. */
    async checkUnchanged() {
      for (const file of done) {
        const now = await stat(join(dir, file.name));
        if (now.size !== file.bytes || now.mtimeMs !== file.mtimeMs)
          throw new JobError(`pg_dump changed ${file.name} after it was uploaded; the backup is not used`);
      }
    },
    /** Every file added, uploaded: their names, sizes and hashes in name order. */
    async drain(): Promise<BackupFile[]> {
      await Promise.race([
        failed,
        new Promise<void>((resolve) => {
          idle = resolve;
          pump();
        }),
      ]);
      return done
        .map(({ name, bytes, sha256 }) => ({ name, bytes, sha256 }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    /** Stops taking work, waits for the uploads in flight; the keys that may be in the store. */
    async abandon(): Promise<string[]> {
      abandoned = true;
      waiting.length = 0;
      await Promise.allSettled([...running]);
      return started;
    },
  };
}
