import { healthJob } from './health/definition';
import type { AnyJobDefinition } from './shared/job';

/** Every command the CLI offers, in the order `pgmaint --help` lists them. Each job adds itself here. */
export const JOB_DEFINITIONS: readonly AnyJobDefinition[] = [healthJob];
