import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/** A SHA-256 + byte count pass-through, for checking bytes as they go by (uploads, downloads). */
export function hasher() {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, result: () => ({ sha256: hash.digest('hex'), bytes }) };
}
