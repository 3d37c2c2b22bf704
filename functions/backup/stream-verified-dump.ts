import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, type Writable } from 'node:stream';
import { errorMessage, JobError } from '../shared/errors';
import { IncompleteUploadError, type ObjectStore } from '../shared/store';
import type { ToolProcess } from '../shared/tool-process';
import { ARCHIVE_HEADER_BYTES, readArchiveVersion } from './archive-header';

export interface StreamedArchive {
  readonly bytes: number;
  readonly sha256: string;
  readonly archiveVersion: string;
}

export interface StreamOptions {
  readonly store: ObjectStore;
  readonly key: string;
  /** pg_dump writing the archive to its stdout. */
  readonly dump: ToolProcess;
  /** pg_restore -f /dev/null reading the same bytes on its stdin: a full read of the archive. */
  readonly verifier: ToolProcess;
  /** Rejects to cancel the whole run (the Lambda deadline is near). */
  readonly cancelled: Promise<never>;
}

/**
 * pg_dump's stdout goes, chunk by chunk, into the store upload and into pg_restore at once, with
 * SHA-256 and a byte count on the way: memory stays bounded and nothing touches disk. The upload
 * is allowed to complete only after pg_dump exited 0, the bytes began with the archive header,
 * there were bytes at all, and pg_restore read every one of them back without error. Any other
 * outcome cancels the upload, which leaves nothing under the key.
 */
export async function streamVerifiedDump(options: StreamOptions): Promise<StreamedArchive> {
  const { store, key, dump, verifier } = options;
  const unreadable = (code: number) =>
    new JobError(`pg_restore could not read the archive (exit ${code}): ${verifier.stderrTail()}`);
  const body = new PassThrough({ highWaterMark: ELASTIC_BYTES });
  const uploaded = store.putStream(key, body, 'application/octet-stream');
  // Whichever side fails first decides the error; the loop below races every wait against it.
  const uploadedOrWhy = uploaded.catch((error: unknown) => {
    throw new JobError(`upload to ${store.location}/${key} failed: ${errorMessage(error)}`);
  });
  const uploadFailed = uploadedOrWhy.then(() => new Promise<never>(() => {}));
  // pg_restore failing is fatal at any moment; exiting 0 is checked once all bytes were written.
  const verifierFailed = verifier.exited.then((code) => {
    if (code === 0) return new Promise<never>(() => {});
    throw unreadable(code);
  });
  // Exiting 0 while bytes are still coming would leave part of the archive unread: not verified.
  const stoppedReading = verifier.exited.then((code) => {
    throw new JobError(`pg_restore stopped reading before the archive ended (exit ${code})`);
  });
  stoppedReading.catch(() => {});
  const failure = Promise.race([uploadFailed, verifierFailed, options.cancelled]);
  failure.catch(() => {});
  const race = <T>(work: Promise<T>) => Promise.race([work, failure]);

  const hash = createHash('sha256');
  let bytes = 0;
  let head = Buffer.alloc(0);
  try {
    const stdout = dump.child.stdout;
    const verifierIn = verifier.child.stdin;
    if (!stdout || !verifierIn) throw new Error('pg_dump and pg_restore need piped stdio');
    verifierIn.on('error', () => {}); // EPIPE when pg_restore quits early: its exit code says why.
    for await (const chunk of stdout as AsyncIterable<Buffer>) {
      if (head.length < ARCHIVE_HEADER_BYTES) {
        head = Buffer.concat([head, chunk]).subarray(0, ARCHIVE_HEADER_BYTES);
        if (head.length === ARCHIVE_HEADER_BYTES && !readArchiveVersion(head)) {
          throw new JobError('pg_dump output does not start with the PGDMP archive header');
        }
      }
      hash.update(chunk);
      bytes += chunk.length;
      await race(Promise.all([write(body, chunk), Promise.race([write(verifierIn, chunk), stoppedReading])]));
    }
    const dumpExit = await race(dump.exited);
    if (dumpExit !== 0) throw new JobError(`pg_dump failed (exit ${dumpExit}): ${dump.stderrTail()}`);
    if (bytes === 0) throw new JobError('pg_dump exited 0 but wrote no bytes');
    const archiveVersion = readArchiveVersion(head);
    if (!archiveVersion)
      throw new JobError(`pg_dump wrote ${bytes} bytes that are not a custom-format archive`);

    verifierIn.end();
    const verifyExit = await Promise.race([verifier.exited, uploadFailed, options.cancelled]);
    if (verifyExit !== 0) throw unreadable(verifyExit);

    body.end();
    await Promise.race([uploadedOrWhy, options.cancelled]);
    return { bytes, sha256: hash.digest('hex'), archiveVersion };
  } catch (error) {
    dump.kill();
    verifier.kill();
    body.destroy(error instanceof Error ? error : new Error(String(error)));
    // Wait for the upload to be cancelled and cleaned up before reporting: nothing left behind.
    const cleanup = await uploaded.then(
      () => undefined,
      (uploadError: unknown) => uploadError,
    );
    if (cleanup instanceof IncompleteUploadError) {
      throw new JobError(`${errorMessage(error)}; ${cleanup.message}`);
    }
    throw await explain(error, dump);
  }
}

/** A broken pipe or a killed process is a symptom; pg_dump's own words say what happened. */
async function explain(error: unknown, dump: ToolProcess): Promise<unknown> {
  if (error instanceof JobError) return error;
  const code = await Promise.race([
    dump.exited,
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 2_000)),
  ]);
  if (code !== undefined && code !== 0)
    return new JobError(`pg_dump failed (exit ${code}): ${dump.stderrTail()}`);
  return error;
}

/**
 * How far each consumer may lag before pg_dump is made to wait. pg_dump is the critical path: a
 * 64 KiB pipe would stall it at every hiccup of the upload or the verifier; a few MiB of slack
 * absorbs those, and memory stays bounded.
 */
const ELASTIC_BYTES = 4 * 1024 * 1024;

async function write(stream: Writable, chunk: Buffer): Promise<void> {
  stream.write(chunk);
  if (stream.writableLength >= ELASTIC_BYTES) await once(stream, 'drain');
}
