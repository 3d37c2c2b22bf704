import type { JobName, TargetConfig } from './config/schema';

/** The target sections a job may read besides the connection details. */
export type TargetSection = 'backup' | 'restore' | 'retention' | 'reindex' | 'health' | 'report';

/** What a job touches in the backup bucket: its targets' backups under `<target>/`, state under `state/<target>/`. */
export interface StoreAccess {
  readonly backups: 'none' | 'read' | 'write';
  /** `state/<target>/` (alert-on-change state, drill outcomes): true read/write, "read" read only. */
  readonly state: boolean | 'read';
}

/**
 * A schedule this job runs on: the config field holding its expression and the event the
 * schedule sends (beside `target`). `event` is typed by the job's options input, so a payload the
 * schema would refuse does not compile; test/unit/job-manifests.test.ts also parses each one.
 */
export interface ScheduleDeclaration<Input> {
  /** Used in construct ids, schedule names and alarm names. */
  readonly name: string;
  /** How `pgmaint validate` lists it. */
  readonly label: string;
  readonly expression: (target: TargetConfig) => string | undefined;
  readonly event: Input;
}

/** Sizing of one run on Lambda. */
export interface LambdaSizing {
  readonly memoryMiB: number;
  readonly timeoutMinutes: number;
  /** /tmp size. */
  readonly ephemeralStorageMiB: number;
  /**
   * How often Lambda runs a failed scheduled run again (0-2, Lambda's limit). Only jobs that are
   * safe to run twice retry; the job's advisory lock keeps a retry off a run still going.
   */
  readonly retryAttempts: 0 | 1 | 2;
}

/** Default sizing of one run as a Fargate task; a target's `fargate` settings override it. */
export interface FargateSizing {
  /** CPU units (1024 = 1 vCPU), one of Fargate's sizes. */
  readonly cpu: 256 | 512 | 1024 | 2048 | 4096 | 8192 | 16384;
  readonly memoryMiB: number;
  /** 21-200 GiB. */
  readonly ephemeralStorageGiB: number;
}

/**
 * Everything the deployment and the CLI need to know about one job, in one dependency-free
 * place next to its code: lib/ builds the function, task definition, schedules and console events
 * from it; `pgmaint validate` lists its schedules from it.
 */
export interface JobManifest<Input extends object = object> {
  readonly job: JobName;
  readonly description: string;
  /** The target sections the job reads; only these travel in its config. */
  readonly sections: readonly TargetSection[];
  readonly store: StoreAccess;
  /**
   * Whether the job connects to the targets' databases. False (the report reads the store alone):
   * its function may read no database secret.
   * @default true
   */
  readonly connects?: boolean;
  readonly schedules: readonly ScheduleDeclaration<Input>[];
  /**
   * Named example events for the Lambda console, for one target (each sent with that `target`);
   * `others` are the remaining targets' names, `targets` the whole config's.
   */
  readonly consoleExamples: (
    target: string,
    context: { readonly others: readonly string[]; readonly targets: Readonly<Record<string, TargetConfig>> },
  ) => Record<string, Input>;
  readonly lambda: LambdaSizing;
  readonly fargate: FargateSizing;
}

/** Declares a manifest with its event payloads checked against the job's options input type. */
export function jobManifest<Input extends object>(manifest: JobManifest<Input>): JobManifest<Input> {
  return manifest;
}
