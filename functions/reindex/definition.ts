import type { Client } from 'pg';
import * as z from 'zod';
import { refuseSeveralDatabases } from '../shared/config/databases';
import type { ReindexConfig } from '../shared/config/schema';
import { reindexSection } from '../shared/config/sections';
import { RefusedError } from '../shared/errors';
import type { JobContext, JobDefinition } from '../shared/job';
import { cancelFromAnotherSession } from '../shared/pg/cancel-on-stop';
import { loadSql } from '../shared/sql';
import {
  formatBytes,
  formatDuration,
  parseIntervalSeconds,
  parsePercent,
  parseSizeBytes,
} from '../shared/units';
import { type EstimateSettings, estimateIndexes, pickCandidates } from './candidates';
import { reindexDatabase } from './database';
import { estimateReindex } from './estimate';
import { dropLeftovers, findLeftovers } from './leftovers';
import { refusal, type ServerFacts } from './preflight';
import { plannedOutcome, rebuildCandidates } from './rebuild';
import type { ReindexResult } from './result';
import { openSession, type Session, tryLock } from './session';
import { vacuumDeadTables } from './vacuum';

export const reindexOptions = z.strictObject({
  /** List candidates with size, estimated bloat and expected gain; rebuild nothing. */
  dryRun: z.boolean({ error: 'expected true or false' }).optional(),
});
export type ReindexOptions = z.output<typeof reindexOptions>;

export const reindexJob: JobDefinition<ReindexOptions, ReindexResult> = {
  name: 'reindex',
  summary: 'rebuild bloated btree indexes with REINDEX CONCURRENTLY, without blocking writes',
  options: reindexOptions,
  flags: {
    'dry-run': {
      type: 'boolean',
      description: 'list candidates with size, bloat and expected gain; rebuild nothing',
    },
  },
  run: (context, options) => {
    refuseSeveralDatabases('reindex', context.targetName, context.target);
    return runReindex(context, options);
  },
  estimate: estimateReindex,
  stopsOnSignal: true,
  render: renderReindex,
  failed: (result) => result.status === 'failed',
};

async function runReindex(context: JobContext, options: ReindexOptions): Promise<ReindexResult> {
  // The section was validated with the config; a target without one runs on the defaults.
  const config: ReindexConfig = context.target.reindex ?? reindexSection.parse({});
  const client = await context.connect();
  const session = openSession(context, client);
  let locked = false;
  try {
    const facts = (await client.query<ServerFacts>(loadSql('reindex/server-facts'))).rows[0];
    if (!facts) throw new Error('the server returned no facts');
    const refused = refusal(facts, config.mode);
    if (refused) throw new RefusedError(refused);
    if (options.dryRun) return await dryRun(context, config, facts, session.client);

    locked = await tryLock(client);
    if (!locked) {
      context.logger.warn(`reindex ${context.targetName}: another reindex holds the lock; not starting`);
      return emptyResult(context.targetName, 'already running', config.mode);
    }
    return await realRun(context, config, facts, session);
  } finally {
    if (locked) await session.close();
    else await session.client.end().catch(() => {});
  }
}

function emptyResult(
  target: string,
  status: ReindexResult['status'],
  mode: ReindexConfig['mode'],
): ReindexResult {
  return {
    target,
    status,
    mode,
    indexes: [],
    notEstimated: [],
    analyzed: [],
    droppedLeftovers: [],
    bytesReclaimed: 0,
    invalidIndexes: [],
    vacuumed: [],
    problems: [],
  };
}

async function realRun(
  context: JobContext,
  config: ReindexConfig,
  facts: ServerFacts,
  session: Session,
): Promise<ReindexResult> {
  const maxTransactionAgeSeconds = parseIntervalSeconds(config.maxTransactionAge) ?? 300;
  // Leftovers go first: REINDEX DATABASE would otherwise make them valid duplicates.
  const cleanup = await dropLeftovers(session.client, null, maxTransactionAgeSeconds * 1000);
  const dimensions = { job: 'reindex', target: context.targetName };
  const invalidIndexes = await listInvalidIndexes(session.client);
  if (invalidIndexes.length > 0) {
    context.logger.warn(`reindex: invalid indexes for a human to look at: ${invalidIndexes.join(', ')}`);
  }

  let result: ReindexResult;
  if (config.mode === 'database') {
    context.progress.update({ phase: 'REINDEX DATABASE' });
    const done = await reindexDatabase(session.client, context.logger);
    result = {
      ...emptyResult(context.targetName, 'ok', config.mode),
      droppedLeftovers: cleanup.dropped.map((d) => d.name),
      bytesReclaimed: done.bytesBefore - done.bytesAfter + sum(cleanup.dropped.map((d) => d.sizeBytes)),
      invalidIndexes,
      problems: [...cleanup.problems],
      durationMs: done.durationMs,
    };
  } else {
    const estimation = await estimateIndexes(session.client, facts, estimateSettings(context, config));
    const candidates = pickCandidates(
      estimation.estimates,
      parsePercent(config.minBloat) ?? 0,
      config.maxPerRun,
    );
    context.logger.info(
      `reindex: ${estimation.estimates.length} btree index(es) of at least ${config.minSize} estimated, ${candidates.length} at least ${config.minBloat} bloated, ${estimation.notEstimated.length} not estimated`,
    );
    const rebuilt = await rebuildCandidates(session, candidates, {
      maxTransactionAgeSeconds,
      remainingMs: context.remainingMs,
      logger: context.logger,
      signal: context.signal,
      progress: context.progress,
      cancelBackend: cancelFromAnotherSession(() => context.connect()),
    });
    const dropped = [...cleanup.dropped, ...rebuilt.droppedLeftovers];
    const shrunk = rebuilt.indexes.map((i) => (i.sizeAfter === null ? 0 : i.sizeBefore - i.sizeAfter));
    result = {
      ...emptyResult(context.targetName, 'ok', config.mode),
      indexes: rebuilt.indexes,
      notEstimated: estimation.notEstimated,
      analyzed: estimation.analyzed,
      droppedLeftovers: dropped.map((d) => d.name),
      bytesReclaimed: sum(shrunk) + sum(dropped.map((d) => d.sizeBytes)),
      invalidIndexes,
      problems: [...cleanup.problems, ...rebuilt.problems],
    };
  }

  if (config.vacuumAnalyze) {
    context.signal.throwIfAborted();
    context.progress.update({ phase: 'vacuum analyze' });
    const vacuum = await vacuumDeadTables(session.client, context.remainingMs, context.logger);
    result = { ...result, vacuumed: vacuum.vacuumed, problems: [...result.problems, ...vacuum.problems] };
  }
  const failed = result.problems.length > 0 || result.indexes.some((i) => i.status === 'failed');
  context.metrics.add(
    'IndexesRebuilt',
    'Count',
    result.indexes.filter((i) => i.status === 'rebuilt').length,
    dimensions,
  );
  context.metrics.add('BytesReclaimed', 'Bytes', result.bytesReclaimed, dimensions);
  return { ...result, status: failed ? 'failed' : 'ok' };
}

async function dryRun(
  context: JobContext,
  config: ReindexConfig,
  facts: ServerFacts,
  client: Client,
): Promise<ReindexResult> {
  const leftovers = await findLeftovers(client, null);
  const invalidIndexes = await listInvalidIndexes(client);
  const base = {
    ...emptyResult(context.targetName, 'dry run', config.mode),
    droppedLeftovers: leftovers.map((l) => l.name),
    invalidIndexes,
  };
  if (config.mode === 'database') return base;
  // The same estimation as a real run, ANALYZE included, so that both list the same candidates.
  const estimation = await estimateIndexes(client, facts, estimateSettings(context, config));
  const candidates = pickCandidates(
    estimation.estimates,
    parsePercent(config.minBloat) ?? 0,
    config.maxPerRun,
  );
  return {
    ...base,
    indexes: candidates.map((c) => ({ ...plannedOutcome(c), status: 'candidate' as const })),
    notEstimated: estimation.notEstimated,
    analyzed: estimation.analyzed,
  };
}

async function listInvalidIndexes(client: Client): Promise<string[]> {
  return (await client.query<{ name: string }>(loadSql('reindex/invalid-indexes'))).rows.map((r) => r.name);
}

const estimateSettings = (context: JobContext, config: ReindexConfig): EstimateSettings => ({
  minSizeBytes: parseSizeBytes(config.minSize) ?? 0,
  lockTimeoutMs: (parseIntervalSeconds(config.maxTransactionAge) ?? 300) * 1000,
  remainingMs: context.remainingMs,
  logger: context.logger,
});

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function renderReindex(result: ReindexResult): string {
  const lines = [`${result.target}: reindex ${result.status.toUpperCase()} (mode ${result.mode})`];
  if (result.status === 'already running') {
    lines.push('  another reindex of this database is running; nothing done');
    return lines.join('\n');
  }
  const dry = result.status === 'dry run';
  if (result.mode === 'database') {
    lines.push(
      dry
        ? '  would run REINDEX DATABASE: every index rebuilt, writes to each table blocked while it rebuilds'
        : `  REINDEX DATABASE took ${formatDuration(result.durationMs ?? 0)} (writes were blocked table by table)`,
    );
  } else if (result.indexes.length === 0) {
    lines.push(
      result.notEstimated.length > 0
        ? '  no estimated index is over both floors (minSize, minBloat); see "not estimated"'
        : '  no index is over both floors (minSize, minBloat)',
    );
  }
  for (const table of result.analyzed)
    lines.push(
      `  analyzed  ${table.table} first (${formatDuration(table.durationMs)}): ${table.reason}. ANALYZE reads a sample and does not block writes; it changes only planner statistics`,
    );
  for (const index of result.indexes) {
    const head = `  ${index.status.padEnd(9)} ${index.name} on ${index.table}: ${formatBytes(index.sizeBefore)}, ~${index.bloatBefore}% bloat (${index.estimate})`;
    if (index.status === 'candidate') lines.push(`${head}, expected gain ${formatBytes(index.expectedGain)}`);
    else if (index.status === 'rebuilt')
      lines.push(
        `${head} → ${formatBytes(index.sizeAfter ?? 0)} in ${formatDuration(index.durationMs ?? 0)}`,
      );
    else lines.push(`${head}: ${index.reason ?? ''}`);
  }
  for (const index of result.notEstimated)
    lines.push(
      `  not estimated ${index.name} on ${index.table}: ${formatBytes(index.sizeBytes)}; ${index.reason}. To measure it: ${index.action}`,
    );
  if (result.droppedLeftovers.length > 0)
    lines.push(
      `  ${dry ? 'would drop' : 'dropped'} leftover index(es) of interrupted rebuilds: ${result.droppedLeftovers.join(', ')}`,
    );
  if (result.invalidIndexes.length > 0)
    lines.push(`  invalid index(es) left for a human: ${result.invalidIndexes.join(', ')}`);
  if (result.vacuumed.length > 0) lines.push(`  vacuumed: ${result.vacuumed.join(', ')}`);
  for (const problem of result.problems) lines.push(`  problem: ${problem}`);
  if (!dry) lines.push(`  reclaimed ${formatBytes(result.bytesReclaimed)}`);
  return lines.join('\n');
}
