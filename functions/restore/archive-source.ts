import { createWriteStream } from 'node:fs';
import { mkdir, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type BackupFile, type BackupManifest, backupFileKey } from '../shared/backup-catalog';
import { errorMessage, RefusedError } from '../shared/errors';
import { hasher } from '../shared/sha256-stream';
import { neverStopped } from '../shared/stop-signals';
import type { ObjectStore } from '../shared/store';
import { makeTempDir } from '../shared/temp-dirs';

/** Where pg_restore reads the archive from: a verified local copy, or the store, streamed. */
export type ArchiveSource =
  | { readonly kind: 'file'; readonly path: string; dispose(): Promise<void> }
  | { readonly kind: 'stream'; dispose(): Promise<void> };

/** Room kept free in /tmp beside the archive. */
const TMP_HEADROOM = 1.1;

/**
 * Proves the stored object is the one the manifest describes (SHA-256 and size) before anything
 * is created. When the archive fits in /tmp it is downloaded once, hashed on the way, and restored
 * from the file with parallel jobs; otherwise it is hashed in a first read and streamed after.
 * `signal` (a stop) aborts the download and removes what was downloaded.
 */
export async function prepareArchive(
  store: ObjectStore,
  manifest: BackupManifest,
  signal: AbortSignal = neverStopped,
): Promise<ArchiveSource> {
  signal.throwIfAborted();
  if (manifest.format === 'directory') return downloadDirectory(store, manifest, signal);
  const free = Math.min(await freeTmpBytes(), tmpLimit());
  if (manifest.bytes * TMP_HEADROOM < free) {
    const dir = await makeTempDir('restore');
    const path = join(dir, 'archive.dump');
    const dispose = () => rm(dir, { recursive: true, force: true });
    try {
      const digest = hasher();
      await pipeline(await store.getStream(manifest.key), digest.stream, createWriteStream(path), { signal });
      checkDigest(manifest, digest.result());
      return { kind: 'file', path, dispose };
    } catch (error) {
      await dispose();
      throw signal.aborted ? signal.reason : error;
    }
  }
  const digest = hasher();
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  await pipeline(await store.getStream(manifest.key), digest.stream, discard, { signal }).catch(
    (error: unknown) => {
      throw signal.aborted ? signal.reason : error;
    },
  );
  checkDigest(manifest, digest.result());
  return { kind: 'stream', dispose: async () => {} };
}

/** Files of a directory-format backup downloading at once. */
const DOWNLOADS_AT_ONCE = 4;

/** A file name of a directory-format archive: pg_dump's own names, never a path. */
const FILE_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * A directory-format backup is restored from local disk (pg_restore -j reads its files): every
 * file is downloaded and checked against the manifest's size and SHA-256 before anything is
 * created. Without room for it in /tmp the restore is refused up front.
 */
async function downloadDirectory(
  store: ObjectStore,
  manifest: BackupManifest,
  signal: AbortSignal,
): Promise<ArchiveSource> {
  const files = manifest.files ?? [];
  const bad = files.find((f) => !FILE_NAME.test(f.name) || f.name === '..' || f.name === '.');
  if (files.length === 0 || bad)
    throw new RefusedError(
      `the manifest of backup ${manifest.key} lists ${bad ? `a bad file name "${bad.name}"` : 'no files'}; nothing was restored`,
    );
  const free = Math.min(await freeTmpBytes(), tmpLimit());
  if (manifest.bytes * TMP_HEADROOM >= free)
    throw new RefusedError(
      `backup ${manifest.key} is a directory-format backup of ${manifest.bytes} bytes, restored from local disk, ` +
        `but ${tmpdir()} has ${free} bytes free; give the task more ephemeral storage; nothing was restored`,
    );
  const dir = await makeTempDir('restore');
  const path = join(dir, 'archive');
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    await mkdir(path);
    // A few files at once: one download at a time leaves the network idle between files.
    let next = 0;
    let failed = false;
    const downloader = async () => {
      while (!failed && next < files.length) {
        signal.throwIfAborted();
        try {
          await downloadFile(files[next++] as BackupFile);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    const downloadFile = async (file: BackupFile) => {
      const key = backupFileKey(manifest.key, file.name);
      const digest = hasher();
      try {
        await pipeline(await store.getStream(key), digest.stream, createWriteStream(join(path, file.name)), {
          signal,
        });
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw new RefusedError(
          `backup ${manifest.key}: file ${file.name} could not be read from ${store.location}/${key} (${errorMessage(error)}); nothing was restored`,
        );
      }
      const actual = digest.result();
      if (actual.sha256 !== file.sha256 || actual.bytes !== file.bytes)
        throw new RefusedError(
          `backup ${manifest.key}: file ${file.name} does not match its manifest (sha256 ${actual.sha256.slice(0, 12)}…, ` +
            `${actual.bytes} bytes; manifest says ${file.sha256.slice(0, 12)}…, ${file.bytes} bytes): ` +
            'the object is corrupt or was replaced; nothing was restored',
        );
    };
    // Every download settled before the first failure is reported (and the folder removed under none).
    const outcomes = await Promise.allSettled(
      Array.from({ length: Math.min(DOWNLOADS_AT_ONCE, files.length) }, downloader),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (signal.aborted) throw signal.reason;
    if (failure) throw failure.reason;
    return { kind: 'file', path, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

export function checkDigest(manifest: BackupManifest, actual: { sha256: string; bytes: number }): void {
  if (actual.sha256 !== manifest.sha256 || actual.bytes !== manifest.bytes) {
    throw new RefusedError(
      `backup ${manifest.key} does not match its manifest (sha256 ${actual.sha256.slice(0, 12)}…, ` +
        `${actual.bytes} bytes; manifest says ${manifest.sha256.slice(0, 12)}…, ${manifest.bytes} bytes): ` +
        'the object is corrupt or was replaced; nothing was restored',
    );
  }
}

/** PGMAINT_RESTORE_TMP_LIMIT_BYTES caps how much of /tmp a restore may use (0: always stream). */
function tmpLimit(): number {
  const text = process.env.PGMAINT_RESTORE_TMP_LIMIT_BYTES;
  const limit = text === undefined || text === '' ? Number.POSITIVE_INFINITY : Number(text);
  return Number.isFinite(limit) && limit >= 0 ? limit : Number.POSITIVE_INFINITY;
}

async function freeTmpBytes(): Promise<number> {
  try {
    const stats = await statfs(tmpdir());
    return stats.bavail * stats.bsize;
  } catch {
    return 0;
  }
}
