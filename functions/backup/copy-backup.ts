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

/**
 * Copies a verified backup to one destination with S3's server-side copy (the bytes never pass
 * through the job), reads the dump back there to check its sha256, and writes the manifest last,
 * as in the primary, so the copy is a backup restore can use on its own. A copy the job makes
 * (not S3 replication) is one the job can verify and record, and fail loudly on.
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
    const objects: Array<{ key: string; bytes: number }> = [{ key: manifest.key, bytes: manifest.bytes }];
    if (manifest.globalsKey) objects.push({ key: manifest.globalsKey, bytes: 0 });
    for (const { key, bytes } of objects) {
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
    }
    const response = await client.send(
      new GetObjectCommand({ Bucket: destination.bucket, Key: manifest.key, ...owner }),
    );
    const hash = createHash('sha256');
    for await (const chunk of response.Body as Readable) hash.update(chunk as Buffer);
    const sha256 = hash.digest('hex');
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
