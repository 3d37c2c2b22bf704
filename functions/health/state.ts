import type { Alert } from '../shared/alerts';
import type { ObjectStore } from '../shared/store';
import type { HealthState } from '../shared/store/layout';
import type { CheckResult, CheckStatus } from './check';

export type { HealthState } from '../shared/store/layout';

// The store's layout (and the zod schemas it builds) loads only for a target with a store.
const layout = () => import('../shared/store/layout');

/**
 * The state of the last run. One that does not parse is an error naming the key, not a fresh
 * start: the state decides which changes alert, and silently forgetting it would re-alert (or
 * never alert) without saying why. Delete the object to start afresh.
 */
export async function loadState(store: ObjectStore, target: string): Promise<HealthState | undefined> {
  const { healthStateKey, healthStateSchema, parseStored } = await layout();
  const key = healthStateKey(target);
  const body = await store.get(key);
  if (!body) return undefined;
  return parseStored(healthStateSchema, store.location, key, body);
}

export async function saveState(store: ObjectStore, target: string, state: HealthState): Promise<void> {
  const { healthStateKey, storedJson } = await layout();
  await store.put(healthStateKey(target), storedJson(state), 'application/json');
}

export function nextState(
  previous: HealthState | undefined,
  results: readonly CheckResult[],
  memory: Record<string, unknown>,
  at: Date,
): HealthState {
  const checks: Record<string, { status: CheckStatus; since: string }> = {};
  for (const result of results) {
    const before = previous?.checks[result.name];
    checks[result.name] = {
      status: result.status,
      since: before && before.status === result.status ? before.since : at.toISOString(),
    };
  }
  return { formatVersion: 1, updatedAt: at.toISOString(), checks, memory };
}

export interface StateChange {
  readonly check: CheckResult;
  readonly from: CheckStatus;
  readonly to: CheckStatus;
}

/** ok and skipped are both "nothing to do": moving between them is not worth a message. */
const quiet = (status: CheckStatus) => status === 'ok' || status === 'skipped';

/**
 * The checks whose state changed since the previous run. A check never seen before counts as
 * having been ok, so the first run reports what is already wrong, and nothing else.
 */
export function stateChanges(
  previous: HealthState | undefined,
  results: readonly CheckResult[],
): StateChange[] {
  const changes: StateChange[] = [];
  for (const check of results) {
    const from = previous?.checks[check.name]?.status ?? 'ok';
    const to = check.status;
    if (from !== to && !(quiet(from) && quiet(to))) changes.push({ check, from, to });
  }
  return changes;
}

const RANK: readonly CheckStatus[] = ['critical', 'warning', 'unknown'];

/** The alert for one run: one message listing every change (or, without state, every problem). */
export function changeAlert(
  base: Pick<Alert, 'target' | 'runId'>,
  changes: readonly StateChange[],
  overall: CheckStatus,
  note?: string,
): Alert {
  const worst = RANK.find((status) => changes.some((c) => c.to === status));
  const lines: string[] = [];
  if (note) lines.push('', note);
  lines.push('', 'changes:');
  for (const { check, from, to } of changes) {
    lines.push(`  ${check.name}: ${from} -> ${to}`);
    lines.push(`    ${check.message}`);
    if (check.recommendation) lines.push(`    what to do: ${check.recommendation}`);
  }
  lines.push('', `overall status now: ${overall}`);
  return {
    job: 'health',
    target: base.target,
    runId: base.runId,
    status: worst ? worst.toUpperCase() : 'RECOVERED',
    details: lines,
  };
}
