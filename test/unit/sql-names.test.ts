import { describe, expect, it } from 'vitest';
import {
  fillSlots,
  fixed,
  ident,
  identifierProblem,
  identList,
  qualifiedNameProblem,
  readableName,
  serverLiteral,
} from '../../functions/shared/pg/sql-names';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('ident: names spliced into SQL', () => {
  it.each([
    [['audit_logs'], '"audit_logs"'],
    [['public', 'audit_logs'], '"public"."audit_logs"'],
    [['Audit Logs'], '"Audit Logs"'],
    [['odd"name'], '"odd""name"'],
    [['""'], '""""""'],
    [['données', 'Größe'], '"données"."Größe"'],
    [['my.schema', 'a.b'], '"my.schema"."a.b"'],
    [['x; drop table y --'], '"x; drop table y --"'],
    [["it's"], `"it's"`],
    [['back\\slash'], '"back\\slash"'],
  ])('quotes %j as %s', (parts, quoted) => expect(ident(...parts)).toBe(quoted));

  it('takes a name of exactly 63 bytes, counted in UTF-8', () => {
    const ascii = 'a'.repeat(63);
    const accented = `${'é'.repeat(31)}a`;
    expect(bytes(accented)).toBe(63);
    expect(ident(ascii)).toBe(`"${ascii}"`);
    expect(ident('public', accented)).toBe(`"public"."${accented}"`);
  });

  it('refuses a name over 63 bytes, which the server would cut to another name', () => {
    expect(() => ident('a'.repeat(64))).toThrow(/longer than PostgreSQL's 63-byte limit/);
    expect(() => ident('public', 'é'.repeat(32))).toThrow(/63-byte/);
  });

  it('refuses a NUL byte and an empty call', () => {
    expect(() => ident('a\u0000b')).toThrow(/NUL/);
    expect(() => ident()).toThrow(/at least one name/);
  });

  it('lists columns each quoted', () => {
    expect(identList(['id', 'Created At', 'a"b'])).toBe('"id", "Created At", "a""b"');
  });
});

describe('serverLiteral', () => {
  it.each([
    ['2026-01-01 00:00:00+00', "'2026-01-01 00:00:00+00'"],
    ["O'Brien", "'O''Brien'"],
    ['a\\b', " E'a\\\\b'"],
    ['', "''"],
  ])('quotes %j as %s', (text, quoted) => expect(serverLiteral(text)).toBe(quoted));

  it('refuses a NUL byte', () => expect(() => serverLiteral('a\u0000')).toThrow(/NUL/));
});

describe('fillSlots', () => {
  it('fills every occurrence of a slot', () => {
    expect(
      fillSlots(
        'select {col} from {table} where {col} > 0',
        { col: ident('a"b'), table: ident('s', 't') },
        'q',
      ),
    ).toBe('select "a""b" from "s"."t" where "a""b" > 0');
  });

  it('refuses a slot it was not given, and a slot the text lacks', () => {
    expect(() => fillSlots('vacuum {table}', {}, 'sql/x.sql')).toThrow(/sql\/x\.sql: no value for \{table\}/);
    expect(() => fillSlots('vacuum {table}', { table: ident('t'), column: fixed('c') }, 'q')).toThrow(
      /no slot \{column\}/,
    );
  });
});

describe('readableName: names in messages a DBA copies', () => {
  it.each([
    [['app_owner'], 'app_owner'],
    [['App Owner'], '"App Owner"'],
    [['Order Items', 'lines'], '"Order Items".lines'],
    [['a"b'], '"a""b"'],
    [['données'], '"données"'],
    [['a$b'], '"a$b"'],
    [['9lives'], '"9lives"'],
  ])('writes %j as %s', (parts, text) => expect(readableName(...parts)).toBe(text));
});

describe('identifiers in the config', () => {
  it.each(['created_at', 'CreatedAt', '"Created At"', '"a""b"', 'données', 'col$1'])(
    'accepts column %s',
    (name) => expect(identifierProblem(name)).toBeUndefined(),
  );

  it.each(['a b', 'a.b', '"unterminated', '1abc', 'x;drop', ''])('rejects column %j', (name) =>
    expect(identifierProblem(name)).toMatch(/is not a column name/),
  );

  it.each(['audit_logs', 'public.audit_logs', '"my.schema"."a.b"', '"Audit Logs"', 'shop."Order ""Items"""'])(
    'accepts table %s',
    (name) => expect(qualifiedNameProblem(name)).toBeUndefined(),
  );

  it.each(['a.b.c', 'public.', '.t', 'public."t'])('rejects table %j', (name) =>
    expect(qualifiedNameProblem(name)).toMatch(/is not a table name/),
  );

  it('counts the 63-byte limit on the unquoted name', () => {
    expect(qualifiedNameProblem(`public."${'""'.repeat(63)}"`)).toBeUndefined();
    expect(qualifiedNameProblem(`public."${'""'.repeat(64)}"`)).toMatch(/63-byte/);
    expect(identifierProblem('é'.repeat(32))).toMatch(/63-byte/);
  });
});
