import { ident } from '../shared/pg/sql-names';
import { identifierValue, type Statement, splitStatements, startsWith, type Token } from './sql-statements';

/** Stands for the database's name in statements, so the same definition applies under any name. */
const NAME = '\u0000database\u0000';

/**
 * The database itself as pg_dump describes it (its DATABASE, COMMENT, DATABASE PROPERTIES and ACL
 * entries, what `pg_restore --create` would run): how it is created (encoding, locale, collation
 * provider, ICU locale), its owner, comment, settings, per-role settings and grants. Statements
 * keep pg_dump's own wording with the name taken out, so they can be run under another name and
 * two databases compared statement by statement.
 */
export interface DatabaseDefinition {
  /** The name the database had where it was dumped. */
  readonly name: string;
  /** CREATE DATABASE ... WITH TEMPLATE = template0 ENCODING ... LOCALE ..., name taken out. */
  readonly create: string;
  /** ENCODING, LOCALE_PROVIDER, LC_COLLATE, LC_CTYPE, ICU_LOCALE, ... as CREATE DATABASE says them. */
  readonly options: Readonly<Record<string, string>>;
  readonly owner: string | null;
  readonly comment: readonly string[];
  /** ALTER DATABASE ... SET / CONNECTION LIMIT / ... */
  readonly settings: readonly string[];
  /** ALTER ROLE ... IN DATABASE ... SET, with the role each is for. */
  readonly roleSettings: readonly { readonly role: string; readonly statement: string }[];
  /** GRANT/REVOKE ... ON DATABASE. */
  readonly acl: readonly string[];
}

/** Reads the database's own statements out of SQL that pg_restore/pg_dump printed with --create. */
export function readDatabaseDefinition(sql: string): DatabaseDefinition | null {
  const statements = splitStatements(sql);
  const create = statements.find((s) => startsWith(s, 'CREATE', 'DATABASE'));
  const name = identifierValue(create?.tokens[2]);
  if (!create || name === undefined) return null;
  const definition = {
    name,
    create: withoutName(create, name),
    options: createOptions(create),
    owner: null as string | null,
    comment: [] as string[],
    settings: [] as string[],
    roleSettings: [] as { role: string; statement: string }[],
    acl: [] as string[],
  };
  for (const statement of statements) {
    if (!namesDatabase(statement, name)) continue;
    const text = withoutName(statement, name);
    const t = statement.tokens;
    if (startsWith(statement, 'ALTER', 'DATABASE') && t[3]?.value === 'OWNER') {
      definition.owner = identifierValue(t[5]) ?? null;
    } else if (startsWith(statement, 'ALTER', 'DATABASE')) {
      definition.settings.push(text);
    } else if (startsWith(statement, 'ALTER', 'ROLE') && t[3]?.value === 'IN') {
      definition.roleSettings.push({ role: identifierValue(t[2]) ?? '', statement: text });
    } else if (startsWith(statement, 'COMMENT') || startsWith(statement, 'SECURITY', 'LABEL')) {
      definition.comment.push(text);
    } else if (startsWith(statement, 'GRANT') || startsWith(statement, 'REVOKE')) {
      definition.acl.push(text);
    }
  }
  return definition;
}

/** A definition's statement, for the database called `name`. */
export function forDatabase(statement: string, name: string): string {
  return statement.split(NAME).join(ident(name));
}

export function ownerStatement(owner: string, name: string): string {
  return `ALTER DATABASE ${ident(name)} OWNER TO ${ident(owner)}`;
}

export interface PropertyDifference {
  readonly property: 'encoding and locale' | 'owner' | 'comment' | 'settings' | 'role settings' | 'grants';
  readonly expected: string;
  readonly actual: string;
}

export type ComparedProperty = PropertyDifference['property'];

/** Where `actual` differs from `expected`, in the properties asked about. */
export function compareDefinitions(
  expected: DatabaseDefinition,
  actual: DatabaseDefinition,
  properties: readonly ComparedProperty[],
): PropertyDifference[] {
  const list = (items: readonly string[]) => [...items].sort().join('; ') || '(none)';
  const values: Record<ComparedProperty, (d: DatabaseDefinition) => string> = {
    'encoding and locale': (d) =>
      Object.entries(localeFacts(d.options))
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    owner: (d) => d.owner ?? '(unknown)',
    comment: (d) => list(d.comment),
    settings: (d) => list(d.settings),
    'role settings': (d) => list(d.roleSettings.map((s) => s.statement)),
    grants: (d) => list(d.acl),
  };
  const differences: PropertyDifference[] = [];
  for (const property of properties) {
    const want = values[property](expected);
    const got = values[property](actual);
    if (want !== got) differences.push({ property, expected: readable(want), actual: readable(got) });
  }
  return differences;
}

/** What decides how text is stored and sorted; LOCALE is shorthand for LC_COLLATE and LC_CTYPE. */
function localeFacts(options: Readonly<Record<string, string>>): Record<string, string> {
  const facts: Record<string, string> = {
    ENCODING: options.ENCODING ?? '',
    LOCALE_PROVIDER: options.LOCALE_PROVIDER ?? 'libc',
    LC_COLLATE: options.LC_COLLATE ?? options.LOCALE ?? '',
    LC_CTYPE: options.LC_CTYPE ?? options.LOCALE ?? '',
  };
  for (const key of ['ICU_LOCALE', 'ICU_RULES', 'BUILTIN_LOCALE', 'COLLATION_VERSION'])
    if (options[key] !== undefined && key !== 'COLLATION_VERSION') facts[key] = options[key];
  return facts;
}

function readable(text: string): string {
  return text.split(NAME).join('<database>');
}

function namesDatabase(statement: Statement, name: string): boolean {
  return statement.tokens.some((t, i) => isDatabaseName(statement.tokens, i, name) && t);
}

function isDatabaseName(tokens: readonly Token[], i: number, name: string): boolean {
  const before = tokens[i - 1];
  return before?.kind === 'word' && before.value === 'DATABASE' && identifierValue(tokens[i]) === name;
}

function withoutName(statement: Statement, name: string): string {
  let text = '';
  let at = 0;
  statement.tokens.forEach((token, i) => {
    if (!isDatabaseName(statement.tokens, i, name)) return;
    text += statement.text.slice(at, token.start) + NAME;
    at = token.end;
  });
  return (text + statement.text.slice(at)).replace(/;\s*$/, '').trim();
}

function createOptions(create: Statement): Record<string, string> {
  const options: Record<string, string> = {};
  const tokens = create.tokens;
  for (let i = 3; i < tokens.length; i++) {
    const key = tokens[i];
    const value = tokens[i + 2];
    if (key?.kind === 'word' && tokens[i + 1]?.value === '=' && value) {
      options[key.value] = value.kind === 'word' ? value.value.toLowerCase() : value.value;
      i += 2;
    }
  }
  return options;
}
