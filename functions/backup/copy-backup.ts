import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { backupFileKey } from '../shared/backup-catalog';
import type { BackupConfig } from '../shared/config/schema';
import { errorMessage, JobError } from '../shared/errors';
import { type ObjectStore, s3Store } from '../shared/store';
import { type BackupCopy, type BackupManifest, manifestKey, storedJson } from '../shared/store/layout';

export type CopyDestination = NonNullable<BackupConfig['copies']>[number];

/** CopyObject copies at most 5 GiB in one call; larger objects are copied in parts. */
const SINGLE_COPY_LIMIT = 5 * 1024 ** 3;
const PART_COPY_BYTES = 512 * 1024 ** 2;

/** A client for the destination's region (the endpoint override, in tests, applies to all). */
export function copyClient(destination: CopyDestination): S3Client {
  return new S3Client({
    region: destination.region,
    forcePathStyle: process.env.AWS_ENDPOINT_URL !== undefined,
  });
}

/** The copy in `region` as a store restore can read from. */
export function copyStore(destination: CopyDestination): ObjectStore {
  return s3Store(copyClient(destination), destination.bucket);
}

/** Objects copied at once: server-side copies cost the job nothing but a request each. */
const COPIES_AT_ONCE = 4;

/** One object of a backup to copy, with the sha256 it must have at the destination (dump files). */
interface CopiedObject {
  readonly key: string;
  readonly bytes: number;
  readonly sha256?: string;
}

/**
 * Copies a verified backup to one destination with S3's server-side copy (the bytes never pass
 * through the job): the one custom-format archive, or every file of a directory-format backup,
 * and the globals. Then every dump object is read back there and its sha256 checked against the
 * manifest (a directory backup's listing hash too), and the manifest is written last, as in the
 * primary, so the copy is a backup restore can use on its own. A copy the job makes (not S3
 * replication) is one the job can verify and record, and fail loudly on.
 */
export async function copyBackup(
  sourceBucket: string,
  manifest: BackupManifest,
  destination: CopyDestination,
  now: () => Date,
): Promise<BackupCopy> {
  const client = copyClient(destination);
  const owner = destination.account ? { ExpectedBucketOwner: destination.account } : {};
  const encryption = destination.kmsKey
    ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: destination.kmsKey }
    : {};
  const where = `s3://${destination.bucket} (${destination.region})`;
  try {
    const dumped = dumpObjects(manifest);
    const objects: CopiedObject[] = [...dumped];
    if (manifest.globalsKey) objects.push({ key: manifest.globalsKey, bytes: 0 });
    await eachAtMost(COPIES_AT_ONCE, objects, async ({ key, bytes }) => {
      const source = `${sourceBucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
      if (bytes <= SINGLE_COPY_LIMIT) {
        await client.send(
          new CopyObjectCommand({
            Bucket: destination.bucket,
            Key: key,
            CopySource: source,
            ...owner,
            ...encryption,
          }),
        );
      } else {
        await copyInParts(client, destination.bucket, key, source, bytes, owner, encryption);
      }
    });
    const hashes = await eachAtMost(COPIES_AT_ONCE, dumped, async (object) => {
      const sha256 = await storedSha256(client, destination.bucket, object.key, owner);
      if (sha256 !== object.sha256)
        throw new JobError(`the copy of ${object.key} has sha256 ${sha256}, the backup's ${object.sha256}`);
      return sha256;
    });
    const sha256 =
      manifest.format === 'directory'
        ? createHash('sha256')
            .update((manifest.files ?? []).map((f, i) => `${hashes[i]}  ${f.name}\n`).join(''))
            .digest('hex')
        : (hashes[0] ?? '');
    if (sha256 !== manifest.sha256)
      throw new JobError(`the copy's sha256 is ${sha256}, the backup's ${manifest.sha256}`);
    await client.send(
      new PutObjectCommand({
        Bucket: destination.bucket,
        Key: manifestKey(manifest.key),
        Body: storedJson(manifest),
        ContentType: 'application/json',
        ...owner,
        ...encryption,
      }),
    );
    return {
      bucket: destination.bucket,
      region: destination.region,
      ...(destination.account ? { account: destination.account } : {}),
      sha256,
      verifiedAt: now().toISOString(),
      keys: [...objects.map((o) => o.key), manifestKey(manifest.key)],
    };
  } catch (error) {
    throw new JobError(`copying ${manifest.key} to ${where} failed: ${errorMessage(error)}`);
  }
}

/** The dump's objects with the sha256 each must have: one archive, or every file of a directory. */
function dumpObjects(manifest: BackupManifest): Required<CopiedObject>[] {
  if (manifest.format !== 'directory')
    return [{ key: manifest.key, bytes: manifest.bytes, sha256: manifest.sha256 }];
  const files = manifest.files ?? [];
  if (files.length === 0)
    throw new JobError(`the manifest of the directory backup ${manifest.key} lists no files`);
  return files.map((f) => ({ key: backupFileKey(manifest.key, f.name), bytes: f.bytes, sha256: f.sha256 }));
}

async function storedSha256(
  client: S3Client,
  bucket: string,
  key: string,
  owner: { ExpectedBucketOwner?: string },
): Promise<string> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...owner }));
  const hash = createHash('sha256');
  for await (const chunk of response.Body as Readable) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `work` on every item, at most `limit` at a time; results in the items' order; the first failure wins. */
async function eachAtMost<T, R>(
  limit: number,
  items: readonly T[],
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function copyInParts(
  client: S3Client,
  bucket: string,
  key: string,
  source: string,
  bytes: number,
  owner: { ExpectedBucketOwner?: string },
  encryption: { ServerSideEncryption?: 'aws:kms'; SSEKMSKeyId?: string },
): Promise<void> {
  const upload = await client.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...owner, ...encryption }),
  );
  const parts: Array<{ ETag: string; PartNumber: number }> = [];
  for (let start = 0, part = 1; start < bytes; start += PART_COPY_BYTES, part += 1) {
    const end = Math.min(start + PART_COPY_BYTES, bytes) - 1;
    const copied = await client.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: key,
        UploadId: upload.UploadId,
        PartNumber: part,
        CopySource: source,
        CopySourceRange: `bytes=${start}-${end}`,
        ...owner,
      }),
    );
    parts.push({ ETag: copied.CopyPartResult?.ETag ?? '', PartNumber: part });
  }
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: parts },
      ...owner,
    }),
  );
}
