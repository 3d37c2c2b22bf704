import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { sdk } from './aws';
import { errorMessage, JobError } from './errors';

export interface StoredObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

/** S3 Object Lock retention set on an object as it is written (backup.objectLock). */
export interface ObjectLock {
  readonly mode: 'GOVERNANCE' | 'COMPLIANCE';
  readonly until: Date;
}

/** What a permanent delete did: versions S3 refused to remove because they are still locked stay. */
export interface PurgeResult {
  readonly purged: readonly string[];
  readonly locked: readonly string[];
}

/**
 * Where pgmaint keeps what it produces (backups, manifests, health state): an S3 bucket when
 * deployed, a local folder (`file:///abs/path`) for CLI and demo runs. Keys use "/" either way.
 */
export interface ObjectStore {
  /** s3://bucket or file:///path, safe to print. */
  readonly location: string;
  put(key: string, body: string | Uint8Array, contentType?: string, lock?: ObjectLock): Promise<void>;
  /** The object's bytes, or undefined when there is no such key. */
  get(key: string): Promise<Buffer | undefined>;
  getStream(key: string): Promise<Readable>;
  /**
   * Streams `body` to `key`. The object appears only if the body ends cleanly: when the body
   * errors (destroy it with an error to cancel), the promise rejects and nothing is left under
   * the key, neither an object nor an incomplete multipart upload.
   */
  putStream(key: string, body: Readable, contentType?: string, lock?: ObjectLock): Promise<void>;
  /** Every object under the prefix, in key order. */
  list(prefix: string): Promise<StoredObject[]>;
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Whether the store can lock objects (S3: the bucket has Object Lock enabled). A file store
   * cannot; a store that cannot tell (no permission) throws.
   */
  objectLockEnabled(): Promise<boolean>;
  /**
   * Removes every version of each key (and its delete markers), for good. On a versioned bucket a
   * plain delete only hides the current version behind a delete marker; this is what "deleted"
   * means for a locked backup whose lock has expired. A version S3 refuses to delete because it
   * is still locked is left, and its key reported in `locked`.
   */
  purge(keys: readonly string[]): Promise<PurgeResult>;
  /**
   * Cancels uploads under `prefix` begun before `startedBefore` and never completed (a run killed
   * mid-upload: SIGKILL, a crash), so their parts stop costing storage. Returns how many.
   */
  abortStaleUploads(prefix: string, startedBefore: Date): Promise<number>;
}

/** An upload that failed and whose parts could not be aborted: something is left under the key. */
export class IncompleteUploadError extends JobError {}

export function openStore(location: string, s3: () => S3Client): ObjectStore {
  return location.startsWith('file://') ? fileStore(fileURLToPath(location)) : s3Store(s3(), location);
}

export function s3Store(client: S3Client, bucket: string): ObjectStore {
  const {
    AbortMultipartUploadCommand,
    DeleteObjectsCommand,
    GetObjectCommand,
    GetObjectLockConfigurationCommand,
    ListMultipartUploadsCommand,
    ListObjectsV2Command,
    ListObjectVersionsCommand,
    NoSuchKey,
    PutObjectCommand,
  } = sdk.s3();
  return {
    location: `s3://${bucket}`,
    async put(key, body, contentType, lock) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...lockParams(lock),
        }),
      );
    },
    async get(key) {
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(
          await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
        );
      } catch (error) {
        if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async getStream(key) {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return response.Body as Readable;
    },
    async putStream(key, body, contentType, lock) {
      // lib-storage: bounded memory (partSize × queueSize), each part's SHA-256 signed and checked
      // by S3 on receipt, PutObject for small bodies. It completes only when the body ends.
      const { Upload } = sdk.storage();
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType, ...lockParams(lock) },
        partSize: UPLOAD_PART_BYTES,
        queueSize: UPLOAD_QUEUE,
        leavePartsOnError: false,
      });
      // Cancel at once: without this, lib-storage waits for the parts in flight before giving up.
      body.once('error', () => void upload.abort());
      try {
        await upload.done();
      } catch (error) {
        // lib-storage aborts on failure, but its abort can fail too (the endpoint that broke the
        // upload is often still away): make sure, with patience, that nothing is left behind.
        try {
          await abortIncompleteUploads(client, bucket, key);
        } catch (abortError) {
          throw new IncompleteUploadError(`${errorMessage(error)}; ${errorMessage(abortError)}`);
        }
        throw error;
      }
    },
    async list(prefix) {
      const objects: StoredObject[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const item of page.Contents ?? []) {
          if (item.Key)
            objects.push({
              key: item.Key,
              size: item.Size ?? 0,
              lastModified: item.LastModified ?? new Date(0),
            });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return objects.sort((a, b) => a.key.localeCompare(b.key));
    },
    async delete(keys) {
      // DeleteObjects takes at most 1000 keys per call.
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        const response = await client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = response.Errors ?? [];
        if (failed.length > 0) {
          throw new JobError(
            `could not delete ${failed.length} object(s) from s3://${bucket}: ${failed[0]?.Key}: ${failed[0]?.Message}`,
          );
        }
      }
    },
    async objectLockEnabled() {
      try {
        const response = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
        return response.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
      } catch (error) {
        if ((error as Error).name === 'ObjectLockConfigurationNotFoundError') return false;
        throw error;
      }
    },
    async purge(keys) {
      const purged: string[] = [];
      const locked: string[] = [];
      for (const key of keys) {
        const versions: { Key: string; VersionId: string }[] = [];
        let keyMarker: string | undefined;
        let versionMarker: string | undefined;
        do {
          const page = await client.send(
            new ListObjectVersionsCommand({
              Bucket: bucket,
              Prefix: key,
              KeyMarker: keyMarker,
              VersionIdMarker: versionMarker,
            }),
          );
          for (const item of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])])
            if (item.Key === key && item.VersionId) versions.push({ Key: key, VersionId: item.VersionId });
          keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
          versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
        } while (keyMarker);
        if (versions.length === 0) continue;
        const response = await client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: versions, Quiet: true } }),
        );
        const failed = response.Errors ?? [];
        // Access denied on a version is Object Lock saying "not yet" (the job role may delete
        // objects): keep it, and say so; anything else is a real failure.
        const other = failed.find((e) => e.Code !== 'AccessDenied');
        if (other)
          throw new JobError(
            `could not delete s3://${bucket}/${key} (version ${other.VersionId}): ${other.Message}`,
          );
        if (failed.length > 0) locked.push(key);
        else purged.push(key);
      }
      return { purged, locked };
    },
    async abortStaleUploads(prefix, startedBefore) {
      let aborted = 0;
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      do {
        const page = await client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
        for (const upload of page.Uploads ?? []) {
          // Without a start time its age is unknown: it may be a run going on right now.
          if (!upload.Key?.startsWith(prefix) || !upload.UploadId || !upload.Initiated) continue;
          if (upload.Initiated.getTime() >= startedBefore.getTime()) continue;
          await client.send(
            new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
          );
          aborted++;
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
      return aborted;
    },
  };
}

/**
 * Object Lock on write. S3 requires an integrity checksum with a lock (the client sends none it
 * is not asked for: aws.ts); SHA256 is named so every PutObject and each part of lib-storage's
 * multipart upload carries one.
 */
function lockParams(lock: ObjectLock | undefined) {
  return lock
    ? {
        ObjectLockMode: lock.mode,
        ObjectLockRetainUntilDate: lock.until,
        ChecksumAlgorithm: 'SHA256' as const,
      }
    : {};
}

/** 8 MiB parts, 2 in flight: ≤ 24 MiB buffered whatever the size; 10,000 parts = 80 GiB. Two
 * concurrent part uploads already outpace pg_dump's compression; more only holds more memory. */
const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
const UPLOAD_QUEUE = 2;
const ABORT_RETRY_DELAYS_MS = [0, 1_000, 2_000, 4_000, 8_000, 15_000];

async function abortIncompleteUploads(client: S3Client, bucket: string, key: string): Promise<void> {
  const { AbortMultipartUploadCommand, ListMultipartUploadsCommand } = sdk.s3();
  let lastError: unknown;
  for (const delay of ABORT_RETRY_DELAYS_MS) {
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      const listing = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
      for (const upload of listing.Uploads ?? []) {
        if (upload.Key !== key || !upload.UploadId) continue;
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId }),
        );
      }
      return;
    } catch (error) {
      lastError = error;
    }
  }
  throw new JobError(
    `could not abort the incomplete upload of s3://${bucket}/${key} (${errorMessage(lastError)}); the bucket's lifecycle rule removes it within a day`,
  );
}

export function fileStore(root: string): ObjectStore {
  const pathOf = (key: string) => {
    const path = join(root, ...key.split('/'));
    if (relative(root, path).startsWith('..')) throw new JobError(`key "${key}" escapes the store`);
    return path;
  };
  return {
    location: `file://${root}`,
    async put(key, body) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // Write then rename, so a reader never sees half an object (as with S3).
      const partial = `${path}.partial-${process.pid}`;
      await writeFile(partial, body);
      await rename(partial, path);
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async getStream(key) {
      const path = pathOf(key);
      await stat(path);
      return createReadStream(path);
    },
    async putStream(key, body) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const partial = `${path}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        await pipeline(body, createWriteStream(partial));
        await rename(partial, path);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
    },
    async list(prefix) {
      const objects: StoredObject[] = [];
      for (const path of await filesUnder(root)) {
        const key = relative(root, path).split(sep).join('/');
        if (basename(path).includes('.partial-') || !key.startsWith(prefix)) continue;
        const info = await stat(path);
        objects.push({ key, size: info.size, lastModified: info.mtime });
      }
      return objects.sort((a, b) => a.key.localeCompare(b.key));
    },
    async delete(keys) {
      for (const key of keys) await rm(pathOf(key), { force: true });
    },
    async objectLockEnabled() {
      return false;
    },
    async purge(keys) {
      for (const key of keys) await rm(pathOf(key), { force: true });
      return { purged: [...keys], locked: [] };
    },
    async abortStaleUploads(prefix, startedBefore) {
      // A killed run's `<key>.partial-*` file is this store's incomplete upload.
      let removed = 0;
      for (const path of await filesUnder(root)) {
        const key = relative(root, path).split(sep).join('/');
        if (!basename(path).includes('.partial-') || !key.startsWith(prefix)) continue;
        if ((await stat(path)).mtime.getTime() >= startedBefore.getTime()) continue;
        await rm(path, { force: true });
        removed++;
      }
      return removed;
    },
  };
}

/** Every file below `dir` (none when it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}
