import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { restoresThroughScript, withoutTransactionTimeout } from '../../functions/restore/script-settings';

const settings = (transactionTimeout: boolean) =>
  [
    'SET statement_timeout = 0;',
    'SET lock_timeout = 0;',
    'SET idle_in_transaction_session_timeout = 0;',
    ...(transactionTimeout ? ['SET transaction_timeout = 0;'] : []),
    "SET client_encoding = 'UTF8';",
    'SET standard_conforming_strings = on;',
    "SELECT pg_catalog.set_config('search_path', '', false);",
    'SET check_function_bodies = false;',
  ].join('\n');

/** A pg_restore --single-transaction script's opening, as pg_restore 18.6 writes it. */
const script = (transactionTimeout: boolean, body: string) =>
  `--\n-- PostgreSQL database dump\n--\n\n\\restrict abc123\n\n-- Dumped from database version 15.14\n` +
  `-- Dumped by pg_dump version 18.6\n\nBEGIN;\n\n${settings(transactionTimeout)}\n\n${body}COMMIT;\n`;

/** The whole script through the filter, in chunks of `size` bytes so lines split across chunks. */
async function filtered(input: string, size: number): Promise<string> {
  const bytes = Buffer.from(input);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return text(Readable.from(chunks).pipe(withoutTransactionTimeout()));
}

describe('restoring with pg_restore 17+ into an older server', () => {
  it.each([
    [18, 150_014, true],
    [17, 130_020, true],
    [18, 160_010, true],
    [18, 170_006, false],
    [18, 180_001, false],
    [16, 150_014, false],
    [15, 130_020, false],
  ])('pg_restore %i into server %i goes through a script: %s', (major, server, expected) => {
    expect(restoresThroughScript(major, server)).toBe(expected);
  });

  const table = 'CREATE TABLE public.notes (body text);\n\nCOPY public.notes (body) FROM stdin;\n';
  // A row that is, byte for byte, the settings block: data is never touched.
  const rows = `${settings(true).split('\n').slice(0, 4).join('\n')}\n`.replaceAll('\n', '\\n\n');
  const verbatim = `${settings(true)}\n`;

  it.each([1, 7, 64, 100_000])(
    'drops only the header line, whatever the chunk size (%i bytes)',
    async (size) => {
      const body = `${table}${rows}${verbatim}\\.\n\n`;
      expect(await filtered(script(true, body), size)).toBe(script(false, body));
    },
  );

  it('passes a script without the line through unchanged (pg_restore 16 and older)', async () => {
    const body = `${table}\\.\n\n`;
    expect(await filtered(script(false, body), 13)).toBe(script(false, body));
  });
});
