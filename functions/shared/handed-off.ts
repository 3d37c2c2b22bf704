import type { JobResult } from './job';

/** What a run handed to Fargate returns: not the job's result (the task produces that), nor a failure. */
export interface HandedOffResult extends JobResult {
  readonly status: 'handed off';
  readonly job: string;
  readonly taskArn: string;
  /** Why the run went to Fargate: runOn, or the estimate that did not fit. */
  readonly reason: string;
}

/** Whether a run's result is a hand-off to Fargate rather than the job's own result. */
export function isHandedOff<Result extends JobResult>(
  result: Result | HandedOffResult,
): result is HandedOffResult {
  return result.status === 'handed off' && 'taskArn' in result;
}
