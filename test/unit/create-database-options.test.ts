import { describe, expect, it } from 'vitest';
import { createDatabaseFor } from '../../functions/restore/create-database-options';

describe('CREATE DATABASE for the server a restore runs on', () => {
  const fromPg18 =
    "CREATE DATABASE \"app\" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';";

  it.each([
    [130_023, "CREATE DATABASE \"app\" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE = 'C.UTF-8';"],
    [140_023, "CREATE DATABASE \"app\" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE = 'C.UTF-8';"],
    [150_018, fromPg18],
    [180_004, fromPg18],
  ])('into server %i', (version, expected) => {
    expect(createDatabaseFor(fromPg18, version)).toBe(expected);
  });

  it('drops what each version lacks, quoted values included', () => {
    const icu =
      "CREATE DATABASE \"sv\" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'sv_SE.UTF-8' ICU_LOCALE = 'sv-SE' ICU_RULES = '&a < ''b''';";
    expect(createDatabaseFor(icu, 150_018)).toBe(
      "CREATE DATABASE \"sv\" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'sv_SE.UTF-8' ICU_LOCALE = 'sv-SE';",
    );
    expect(() => createDatabaseFor(icu, 140_010)).toThrow(
      "the backup's database uses the icu collation provider, which PostgreSQL 14 cannot create; restore it into PostgreSQL 15 or newer",
    );
  });
});
