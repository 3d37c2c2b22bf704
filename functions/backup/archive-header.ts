/**
 * The first bytes of a custom-format archive: "PGDMP", then the archive version (major, minor,
 * revision). A stream that does not start this way is not a pg_dump archive, whatever its size.
 */
const MAGIC = Buffer.from('PGDMP', 'ascii');
export const ARCHIVE_HEADER_BYTES = MAGIC.length + 3;

export function readArchiveVersion(head: Buffer): string | undefined {
  if (head.length < ARCHIVE_HEADER_BYTES || !head.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  return `${head[5]}.${head[6]}.${head[7]}`;
}
