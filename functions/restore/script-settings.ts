import { Transform } from 'node:stream';

/**
 * pg_restore 17 and newer open every restore with the same settings block (pg_backup_archiver.c,
 * _doSetFixedOutputState), including `SET transaction_timeout = 0;` whatever the server version.
 * PostgreSQL 13-16 have no such setting and reject it, so a direct restore into them fails on its
 * first statement. Restoring through a script lets us leave that one line out.
 */
export function restoresThroughScript(pgRestoreMajor: number, serverVersionNum: number): boolean {
  return pgRestoreMajor >= 17 && serverVersionNum < 170_000;
}

/** The block as pg_restore writes it; the header comes before any data, so its first match is the header's. */
const SETTINGS_BLOCK =
  'SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET idle_in_transaction_session_timeout = 0;\n';
const TRANSACTION_TIMEOUT = 'SET transaction_timeout = 0;\n';
/** The header (comments, \restrict, BEGIN, the settings) is a few hundred bytes; past this there is nothing to drop. */
const HEADER_LIMIT = 64 * 1024;

/**
 * Passes a pg_restore script through, without the `SET transaction_timeout = 0;` of its opening
 * settings block. Only the header is buffered; everything after it streams untouched.
 */
export function withoutTransactionTimeout(): Transform {
  let head: Buffer | undefined = Buffer.alloc(0);
  const release = (self: Transform, text: Buffer) => {
    head = undefined;
    self.push(text);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (!head) return done(null, chunk);
      head = Buffer.concat([head, chunk]);
      const line = head.indexOf(SETTINGS_BLOCK + TRANSACTION_TIMEOUT);
      if (line >= 0) {
        const cut = line + SETTINGS_BLOCK.length;
        release(
          this,
          Buffer.concat([head.subarray(0, cut), head.subarray(cut + TRANSACTION_TIMEOUT.length)]),
        );
      } else if (head.length > HEADER_LIMIT) {
        release(this, head);
      }
      done();
    },
    flush(done) {
      if (head) this.push(head);
      done();
    },
  });
}
