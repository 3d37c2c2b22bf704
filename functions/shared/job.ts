import type { Client } from 'pg';
import type * as z from 'zod';
import type { AlertSink } from './alerts';
import type { PgmaintConfig, TargetConfig } from './config/schema';
import type { ConnectionSettings } from './credentials';
import type { SessionOptions } from './db';
import type { Logger } from './logger';
import type { MetricsSink } from './metrics';
import type { Progress } from './progress';
import type { ObjectStore } from './store';

/** Every job result names its target and a status; the rest is the job's own. */
export interface JobResult {
  readonly target: string;
  readonly status: string;
}

/** What a job core is handed: everything it touches outside its own logic comes through here. */
export interface JobContext {
  readonly job: string;
  readonly targetName: string;
  readonly target: TargetConfig;
  readonly config: PgmaintConfig;
  readonly runId: string;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  readonly alerts: AlertSink;
  readonly now: () => Date;
  /** Milliseconds left before the Lambda deadline (Infinity on the CLI). */
  readonly remainingMs: () => number;
  /**
   * Aborted when the run must stop now (SIGINT/SIGTERM: Ctrl-C, a container stopped, Lambda
   * shutting down), its reason an InterruptedError. A core that honours it cleans up and throws
   * the reason; runJob then alerts once, as for any failure.
   */
  readonly signal: AbortSignal;
  /** Where a long run is, for a person watching (a terminal line) or the log (periodic lines). */
  readonly progress: Progress;
  /** Connection settings of this target, or of another one (restore --from). */
  connection(targetName?: string): Promise<ConnectionSettings>;
  /** A connection to this target with pgmaint's session settings (application_name pgmaint/<job>). */
  connect(options?: Omit<SessionOptions, 'job'>): Promise<Client>;
  /** The backup store; throws a ConfigError when the config names none. */
  store(): ObjectStore;
}

/**
 * What a run of a job is expected to need, for the Lambda run's `auto` hand-off to Fargate
 * (functions/shared/fargate-handoff.ts). Each field absent = no estimate of that resource.
 */
export interface RunEstimate {
  /** Expected duration, margins included. */
  readonly durationMs?: number;
  /** Bytes of local disk (/tmp) the run will need. */
  readonly tmpBytes?: number;
  /** How the figures were reached, for the log and the hand-off's reason ("30 GB at 35 MB/s, ..."). */
  readonly basis: string;
}

export type FlagType = 'string' | 'boolean' | 'number';

export interface FlagSpec {
  readonly type: FlagType;
  readonly description: string;
}

/**
 * One job, as both doors see it. The Lambda event `{ target, ...options }` and the CLI flags
 * (`--dry-run` → `dryRun`) are validated by the same `options` schema, then `run` gets them.
 */
export interface JobDefinition<Options, Result extends JobResult> {
  /** The CLI command and the `job` in logs, alerts and metrics. */
  readonly name: string;
  readonly summary: string;
  /** Job options (without `target`); strict, so an unknown field is an error naming it. */
  readonly options: z.ZodType<Options, unknown>;
  /** CLI flags in kebab-case; each maps to the camelCase option of the same name. */
  readonly flags: Readonly<Record<string, FlagSpec>>;
  run(context: JobContext, options: Options): Promise<Result>;
  /**
   * What a run will need, read cheaply before it starts (sizes from the catalog or the store): a
   * Lambda run of a target whose `runOn` is "auto" hands the run to its Fargate task when this
   * says it will not fit. Absent: the job always fits on Lambda (retention and health pace
   * themselves by the time left).
   */
  estimate?(context: JobContext, options: Options): Promise<RunEstimate>;
  /** Human-readable lines for the CLI without --json. */
  render(result: Result): string;
  /** A returned result that still means the run failed: alert and fail (Lambda error, CLI exit 1). */
  failed?(result: Result): boolean;
  /** CLI exit code for a returned result (health uses Nagios codes); default 0, or 1 when failed. */
  exitCode?(result: Result): number;
  /**
   * A read-only command about targets (the report): without --target the CLI runs it for every
   * target in the config, one after the other, and prints them together (--json: `{ targets: [...] }`).
   */
  readonly everyTargetWithoutTarget?: boolean;
  /** False for read-only commands (listings): a failure is the caller's to see, not an alert. */
  readonly alertOnFailure?: boolean;
  /**
   * The core honours JobContext.signal: the CLI and Lambda then turn SIGINT/SIGTERM into that
   * signal. Without it the process's stop signals keep their default (exit at once).
   */
  readonly stopsOnSignal?: boolean;
  /** CLI exit code when the run throws; default 1. */
  exitCodeOnError?(error: unknown): number;
  /** CLI exit code for a request that cannot run (bad flag, no config, unknown target); default 2. */
  readonly usageExitCode?: number;
  /** A line for stdout when the command fails or cannot run (health: the Nagios first line). */
  renderError?(error: unknown): string;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds definitions of every option/result shape.
export type AnyJobDefinition = JobDefinition<any, JobResult>;
