import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { JobError } from './errors';

export interface StoredObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

/**
 * Where pgmaint keeps what it produces (backups, manifests, health state): an S3 bucket when
 * deployed, a local folder (`file:///abs/path`) for CLI and demo runs. Keys use "/" either way.
 */
export interface ObjectStore {
  /** s3://bucket or file:///path, safe to print. */
  readonly location: string;
  put(key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  /** The object's bytes, or undefined when there is no such key. */
  get(key: string): Promise<Buffer | undefined>;
  getStream(key: string): Promise<Readable>;
  /** Every object under the prefix, in key order. */
  list(prefix: string): Promise<StoredObject[]>;
  delete(keys: readonly string[]): Promise<void>;
}

export function openStore(location: string, s3: () => S3Client): ObjectStore {
  return location.startsWith('file://') ? fileStore(fileURLToPath(location)) : s3Store(s3(), location);
}

export function s3Store(client: S3Client, bucket: string): ObjectStore {
  return {
    location: `s3://${bucket}`,
    async put(key, body, contentType) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
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
  };
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
    async list(prefix) {
      const objects: StoredObject[] = [];
      const walk = async (dir: string): Promise<void> => {
        let entries: import('node:fs').Dirent[];
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw error;
        }
        for (const entry of entries) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) await walk(path);
          else if (entry.isFile() && !entry.name.includes('.partial-')) {
            const key = relative(root, path).split(sep).join('/');
            if (key.startsWith(prefix)) {
              const info = await stat(path);
              objects.push({ key, size: info.size, lastModified: info.mtime });
            }
          }
        }
      };
      await walk(root);
      return objects.sort((a, b) => a.key.localeCompare(b.key));
    },
    async delete(keys) {
      for (const key of keys) await rm(pathOf(key), { force: true });
    },
  };
}
