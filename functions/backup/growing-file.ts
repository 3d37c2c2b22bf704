import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { JobError } from '../shared/errors';

/** How long a reader at the end of a file pg_dump is still writing waits before it looks again. */
const GROWING_WAIT_MS = 100;
/** At most this much is read from a file at once (and buffered by its reader). */
export const READ_BYTES = 1024 * 1024;

/**
 * A file's bytes, read while pg_dump may still be appending to it: at its end the reader waits
 * for more until the file is closed for good. `closed` is asked before each read, so a read that
 * finds nothing after the file was already closed is truly the end.
 */
export function growingFile(path: string, closed: () => boolean, abandoned: () => boolean): Readable {
  async function* chunks() {
    const handle = await open(path, 'r');
    try {
      let position = 0;
      for (;;) {
        const final = closed();
        const available = (await handle.stat()).size - position;
        if (available > 0) {
          // Sized to what is there: a small chunk does not pin a large buffer while it waits for its part.
          const buffer = Buffer.allocUnsafe(Math.min(available, READ_BYTES));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
          position += bytesRead;
          if (bytesRead > 0) yield buffer.subarray(0, bytesRead);
          continue;
        }
        if (final) return;
        if (abandoned()) throw new JobError(`the upload of ${path} was abandoned`);
        await new Promise((resolve) => setTimeout(resolve, GROWING_WAIT_MS));
      }
    } finally {
      await handle.close();
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: READ_BYTES });
}
