import type { Client } from 'pg';
import type { RetentionRuleConfig } from '../shared/config/schema';
import { errorMessage } from '../shared/errors';
import { ident, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';
import { parseIntervalSeconds } from '../shared/units';
import { type ChunkRule, resolveChunkRule } from './hypertables';

/** A `where` entry as the rule means it: the column as the catalog spells it, values as text, null = IS NULL. */
export interface WhereFilter {
  readonly column: string;
  readonly values: ReadonlyArray<string | null>;
  /** As written in the config, for the result. */
  readonly configured: WhereValue | readonly WhereValue[];
}

type WhereValue = string | number | boolean | null;

export interface RuleBase {
  /** Position in the config's rules list, for messages. */
  readonly index: number;
  readonly schema: string;
  readonly table: string;
  readonly oid: string;
  /** pg_class.reltuples when the run started (0 when never analyzed). */
  readonly estimatedRows: number;
  readonly olderThan: string;
  readonly olderThanSeconds: number;
  /** The time column (for partitions: the partition key). */
  readonly column: string;
}

/**
 * Rows deleted in batches. Plain tables delete the rows a batch locked by ctid (stable while locked, and
 * much cheaper than a second lookup by key); a partitioned table, where ctids repeat across partitions,
 * deletes them by primary key (`key`).
 */
export interface RowRule extends RuleBase {
  readonly kind: 'rows';
  readonly key: readonly string[] | null;
  /** An index leads with the time column: batches walk it in time order instead of rescanning. */
  readonly indexed: boolean;
  readonly where: readonly WhereFilter[];
  readonly maxRowsPerRun: number | undefined;
}

/** Whole partitions dropped, and `premake` partitions kept ahead. */
export interface PartitionRule extends RuleBase {
  readonly kind: 'partitions';
  readonly premake: number;
}

export type ResolvedRule = RowRule | PartitionRule | ChunkRule;

export interface RuleCheck {
  readonly rules: readonly ResolvedRule[];
  /** Each makes the run fail before anything is deleted. */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

interface TableRow {
  oid: string;
  schema: string;
  name: string;
  kind: string;
  estimated_rows: number;
}

interface ColumnRow {
  name: string;
  type: string;
  is_time: boolean;
  leads_an_index: boolean;
}

interface PartitionKeyRow {
  strategy: string;
  key_columns: number;
  column_name: string | null;
  is_time: boolean | null;
}

export const qualifiedName = (rule: { schema: string; table: string }) => `${rule.schema}.${rule.table}`;

/**
 * Checks every rule against the catalog before anything is deleted: the table exists and is a table,
 * the columns exist, the time column is a timestamp or date, each `where` value fits its column.
 * Every problem of every rule is collected, so one run shows them all.
 */
export async function resolveRules(
  client: Client,
  configured: readonly RetentionRuleConfig[],
  path: string,
): Promise<RuleCheck> {
  const rules: ResolvedRule[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const [index, rule] of configured.entries()) {
    const label = `${path}[${index}] (${rule.table})`;
    const ruleProblems: string[] = [];
    const resolved = await resolveRule(client, rule, index, ruleProblems, warnings, label);
    problems.push(...ruleProblems.map((problem) => `${label}: ${problem}`));
    if (resolved && ruleProblems.length === 0) rules.push(resolved);
  }
  return { rules, problems, warnings };
}

async function resolveRule(
  client: Client,
  rule: RetentionRuleConfig,
  index: number,
  problems: string[],
  warnings: string[],
  label: string,
): Promise<ResolvedRule | undefined> {
  // The rule's shape (names, units, which fields go together) was checked with the config.
  const partitioned = rule.partitions === true;
  const olderThanSeconds = parseIntervalSeconds(rule.olderThan);
  if (olderThanSeconds === undefined) problems.push(`olderThan: "${rule.olderThan}" is not an interval`);

  const table = await lookUpTable(client, rule.table, problems);
  if (!table) return undefined;
  const columns = (await client.query<ColumnRow>(loadSql('retention/columns'), [table.oid])).rows;
  const base = {
    index,
    schema: table.schema,
    table: table.name,
    oid: table.oid,
    estimatedRows: Number(table.estimated_rows),
    olderThan: rule.olderThan,
    olderThanSeconds: olderThanSeconds ?? 0,
  };
  const qualified = qualifiedName(base);

  const chunks = await resolveChunkRule(
    client,
    rule,
    base,
    (name) => findColumn(columns, name)?.name,
    problems,
  );
  if (chunks === 'rejected') return undefined;
  if (chunks) return chunks;

  if (partitioned) {
    const key = await partitionKey(client, table, qualified, problems);
    if (!key) return undefined;
    if (rule.column !== undefined && findColumn(columns, rule.column)?.name !== key)
      problems.push(`column "${rule.column}" is not the partition key of ${qualified} (it is "${key}")`);
    return { ...base, kind: 'partitions', column: key, premake: rule.premake ?? 0 };
  }

  if (table.kind !== 'r' && table.kind !== 'p') {
    problems.push(`${qualified} is not a table (relkind ${table.kind})`);
    return undefined;
  }
  const column = rule.column === undefined ? undefined : findColumn(columns, rule.column);
  if (rule.column !== undefined && !column)
    problems.push(`column "${rule.column}" does not exist in ${qualified}`);
  if (column && !column.is_time)
    problems.push(`column ${qualified}.${column.name} is ${column.type}, not a timestamp or date`);

  const where: WhereFilter[] = [];
  for (const [name, value] of Object.entries(rule.where ?? {})) {
    const whereColumn = findColumn(columns, name);
    if (!whereColumn) {
      problems.push(`where: column "${name}" does not exist in ${qualified}`);
      continue;
    }
    const values = (Array.isArray(value) ? value : [value]).map((v) => (v === null ? null : String(v)));
    for (const text of values) {
      if (text === null) continue;
      const fits = await valueFits(client, base, whereColumn.name, text);
      if (fits !== true)
        problems.push(`where.${name}: ${JSON.stringify(text)} does not fit ${whereColumn.type} (${fits})`);
    }
    where.push({ column: whereColumn.name, values, configured: value });
  }
  if (!column || problems.length > 0) return undefined;

  const key =
    table.kind === 'p'
      ? (await client.query<{ name: string }>(loadSql('retention/primary-key'), [table.oid])).rows.map(
          (r) => r.name,
        )
      : [];
  if (key.length === 0 && table.kind === 'p') {
    problems.push(`${qualified} is partitioned and has no primary key: add one, or use "partitions": true`);
    return undefined;
  }
  if (!column.leads_an_index)
    warnings.push(
      `${label}: no index leads with ${qualified}.${column.name}; every batch scans the table (create one to make retention cheap)`,
    );
  return {
    ...base,
    kind: 'rows',
    column: column.name,
    key: table.kind === 'p' ? key : null,
    indexed: column.leads_an_index,
    where,
    maxRowsPerRun: rule.maxRowsPerRun,
  };
}

async function lookUpTable(client: Client, name: string, problems: string[]): Promise<TableRow | undefined> {
  try {
    const row = (await client.query<TableRow>(loadSql('retention/resolve-table'), [name])).rows[0];
    if (!row) problems.push(`table "${name}" does not exist (or is not visible to this role)`);
    return row;
  } catch (error) {
    // to_regclass rejects text that is not a (possibly schema-qualified, quoted) name: 42602.
    problems.push(`table "${name}" is not a valid table name (${errorMessage(error)})`);
    return undefined;
  }
}

async function partitionKey(
  client: Client,
  table: TableRow,
  qualified: string,
  problems: string[],
): Promise<string | undefined> {
  const key = (await client.query<PartitionKeyRow>(loadSql('retention/partition-key'), [table.oid])).rows[0];
  if (!key || table.kind !== 'p') {
    problems.push(`${qualified} is not a partitioned table ("partitions": true needs one)`);
    return undefined;
  }
  if (key.strategy !== 'r' || key.key_columns !== 1 || !key.column_name) {
    problems.push(`${qualified} is not range-partitioned on a single column`);
    return undefined;
  }
  if (!key.is_time) {
    problems.push(`${qualified} is partitioned on "${key.column_name}", not on a timestamp or date`);
    return undefined;
  }
  return key.column_name;
}

/** Exact name first; an unquoted name is folded to lower case as PostgreSQL does; "Quoted" is exact. */
function findColumn(columns: readonly ColumnRow[], name: string): ColumnRow | undefined {
  const quoted = /^"(.+)"$/.exec(name);
  if (quoted?.[1]) return columns.find((c) => c.name === quoted[1]?.replaceAll('""', '"'));
  return columns.find((c) => c.name === name) ?? columns.find((c) => c.name === name.toLowerCase());
}

/** Lets the server parse the value as the column's type (the parameter takes the column's type). */
async function valueFits(
  client: Client,
  table: { schema: string; table: string },
  column: string,
  text: string,
): Promise<true | string> {
  try {
    await client.query(
      sqlWithSlots('retention/value-fits', {
        table: ident(table.schema, table.table),
        column: ident(column),
      }),
      [text],
    );
    return true;
  } catch (error) {
    return errorMessage(error);
  }
}
