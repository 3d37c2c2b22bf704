import { type HandedOffResult, isHandedOff } from '../../functions/shared/handed-off';
import type { JobResult } from '../../functions/shared/job';

/** A handler's result from a run that stayed on Lambda; a hand-off to Fargate fails the test. */
export function ranHere<Result extends JobResult>(result: Result | HandedOffResult): Result {
  if (isHandedOff(result)) throw new Error(`expected the run on Lambda, it was handed off: ${result.reason}`);
  return result;
}
