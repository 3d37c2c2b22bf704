import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { growingFile } from '../../functions/backup/growing-file';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('growingFile: a file read while it is still being written', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgmaint-growing-'));
    path = join(dir, '1234.dat.zst');
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('yields every byte appended until the writer closes it, not stopping at an early end', async () => {
    await writeFile(path, Buffer.alloc(0));
    let closed = false;
    const reading = readAll(
      growingFile(
        path,
        () => closed,
        () => false,
      ),
    );
    const written: Buffer[] = [];
    for (let i = 0; i < 6; i++) {
      // The reader reaches the end of the file between appends and must wait, not finish.
      await new Promise((resolve) => setTimeout(resolve, 150));
      const part = randomBytes(300_000 + i);
      written.push(part);
      await appendFile(path, part);
    }
    closed = true;
    expect((await reading).equals(Buffer.concat(written))).toBe(true);
  });

  it('reads a file closed before the first read in full, in chunks of at most 1 MiB', async () => {
    const content = randomBytes(2.5 * 1024 * 1024);
    await writeFile(path, content);
    const sizes: number[] = [];
    const stream = growingFile(
      path,
      () => true,
      () => false,
    );
    const chunks: Buffer[] = [];
    for await (const chunk of stream) {
      sizes.push((chunk as Buffer).length);
      chunks.push(chunk as Buffer);
    }
    expect(Buffer.concat(chunks).equals(content)).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1024 * 1024);
  });

  it('fails instead of waiting forever when its upload is abandoned before the file is closed', async () => {
    await writeFile(path, randomBytes(1000));
    let abandoned = false;
    const reading = readAll(
      growingFile(
        path,
        () => false,
        () => abandoned,
      ),
    );
    setTimeout(() => {
      abandoned = true;
    }, 200);
    await expect(reading).rejects.toThrow('was abandoned');
  });
});
