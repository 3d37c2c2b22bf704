/**
 * Just enough of PostgreSQL's lexer to read the SQL pg_restore and pg_dump print: statements split
 * at top-level semicolons, each as tokens with their offsets, so a database name can be replaced
 * and role names read without ever touching the inside of a string literal (a comment on a
 * database may well contain "DATABASE prod;"). psql meta-commands (\connect, \restrict) and SQL
 * comments are dropped.
 */
export interface Token {
  readonly kind: 'word' | 'quoted' | 'string' | 'punct';
  /** Words upper-cased, quoted identifiers and strings unescaped. */
  readonly value: string;
  readonly start: number;
  readonly end: number;
  /** Parenthesis depth the token sits at (0: top level). */
  readonly depth: number;
}

export interface Statement {
  readonly text: string;
  readonly tokens: readonly Token[];
}

export function splitStatements(sql: string): Statement[] {
  const statements: Statement[] = [];
  let tokens: Token[] = [];
  let depth = 0;
  let begin = -1;
  let i = 0;
  const push = (kind: Token['kind'], value: string, start: number, end: number) => {
    if (begin < 0) begin = start;
    tokens.push({ kind, value, start: start - begin, end: end - begin, depth });
  };
  const finish = (end: number) => {
    if (begin >= 0) statements.push({ text: sql.slice(begin, end), tokens });
    tokens = [];
    begin = -1;
    depth = 0;
  };
  while (i < sql.length) {
    const c = sql[i] as string;
    const atLineStart = i === 0 || sql[i - 1] === '\n';
    if (c === '\\' && atLineStart) {
      i = lineEnd(sql, i);
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      i = lineEnd(sql, i);
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? sql.length : close + 2;
    } else if (c === "'" || ((c === 'E' || c === 'e') && sql[i + 1] === "'")) {
      const escapes = c !== "'";
      const start = i;
      const { value, next } = readString(sql, escapes ? i + 1 : i, escapes);
      push('string', value, start, next);
      i = next;
    } else if (c === '"') {
      const { value, next } = readQuoted(sql, i);
      push('quoted', value, i, next);
      i = next;
    } else if (c === '$' && /^\$[A-Za-z_]*\$/.test(sql.slice(i, i + 64))) {
      const tag = (sql.slice(i).match(/^\$[A-Za-z_]*\$/) as RegExpMatchArray)[0];
      const close = sql.indexOf(tag, i + tag.length);
      const next = close < 0 ? sql.length : close + tag.length;
      push('string', sql.slice(i + tag.length, close < 0 ? sql.length : close), i, next);
      i = next;
    } else if (/[A-Za-z0-9_\u0080-\uffff]/.test(c)) {
      const start = i;
      while (i < sql.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i] as string)) i++;
      push('word', sql.slice(start, i).toUpperCase(), start, i);
    } else if (c === ';') {
      finish(i + 1);
      i++;
    } else {
      if (c === ')') depth = Math.max(0, depth - 1);
      push('punct', c, i, i + 1);
      if (c === '(') depth++;
      i++;
    }
  }
  finish(sql.length);
  return statements;
}

function lineEnd(sql: string, from: number): number {
  const newline = sql.indexOf('\n', from);
  return newline < 0 ? sql.length : newline + 1;
}

function readString(sql: string, open: number, escapes: boolean) {
  let value = '';
  let i = open + 1;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (escapes && c === '\\') {
      value += sql[i + 1] ?? '';
      i += 2;
    } else if (c === "'" && sql[i + 1] === "'") {
      value += "'";
      i += 2;
    } else if (c === "'") {
      return { value, next: i + 1 };
    } else {
      value += c;
      i++;
    }
  }
  return { value, next: sql.length };
}

function readQuoted(sql: string, open: number) {
  let value = '';
  let i = open + 1;
  while (i < sql.length) {
    if (sql[i] === '"' && sql[i + 1] === '"') {
      value += '"';
      i += 2;
    } else if (sql[i] === '"') {
      return { value, next: i + 1 };
    } else {
      value += sql[i];
      i++;
    }
  }
  return { value, next: sql.length };
}

/** The name an identifier token stands for (unquoted words fold to lower case, as the server does). */
export function identifierValue(token: Token | undefined): string | undefined {
  if (!token) return undefined;
  if (token.kind === 'quoted') return token.value;
  if (token.kind === 'word') return token.value.toLowerCase();
  return undefined;
}

/** Whether the statement starts with these keywords. */
export function startsWith(statement: Statement, ...words: string[]): boolean {
  return words.every((word, i) => {
    const token = statement.tokens[i];
    return token?.kind === 'word' && token.value === word;
  });
}

/**
 * The roles a GRANT, REVOKE or ALTER DEFAULT PRIVILEGES statement names: grantees (after the
 * top-level TO/FROM), the FOR ROLE of default privileges and a GRANTED BY. PUBLIC is not a role.
 */
export function rolesInAcl(statement: Statement): string[] {
  const tokens = statement.tokens;
  const roles: string[] = [];
  const readList = (from: number, stops: readonly string[]) => {
    for (let i = from; i < tokens.length; i++) {
      const token = tokens[i] as Token;
      if (token.kind === 'punct' && token.value === ',') continue;
      if (token.kind === 'word' && stops.includes(token.value)) break;
      const name = identifierValue(token);
      if (name !== undefined && !(token.kind === 'word' && token.value === 'PUBLIC')) roles.push(name);
    }
  };
  const topLevel = (word: string) =>
    tokens.findIndex((t) => t.depth === 0 && t.kind === 'word' && t.value === word);
  const forRole = tokens.findIndex(
    (t, i) => t.kind === 'word' && t.value === 'FOR' && ['ROLE', 'USER'].includes(tokens[i + 1]?.value ?? ''),
  );
  if (startsWith(statement, 'ALTER', 'DEFAULT', 'PRIVILEGES') && forRole >= 0)
    readList(forRole + 2, ['IN', 'GRANT', 'REVOKE']);
  const verb = tokens.findIndex((t) => t.kind === 'word' && (t.value === 'GRANT' || t.value === 'REVOKE'));
  const direction = tokens[verb]?.value === 'GRANT' ? 'TO' : 'FROM';
  let target = -1;
  tokens.forEach((t, i) => {
    if (i > verb && t.depth === 0 && t.kind === 'word' && t.value === direction) target = i;
  });
  if (target >= 0) readList(target + 1, ['WITH', 'GRANTED', 'CASCADE', 'RESTRICT']);
  const grantedBy = topLevel('GRANTED');
  if (grantedBy >= 0) readList(grantedBy + 2, ['CASCADE', 'RESTRICT']);
  return roles;
}
