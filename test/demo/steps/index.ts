import type { DemoStep } from '../demo-context';
import { backupStep } from './backup';
import { healthStep } from './health';
import { reindexStep } from './reindex';
import { reportStep } from './report';
import { restoreStep } from './restore';
import { retentionStep } from './retention';
import { timescaledbStep } from './timescaledb';

/** The demo's steps in order; each job adds its own. */
export const DEMO_STEPS: readonly DemoStep[] = [
  backupStep,
  restoreStep,
  retentionStep,
  timescaledbStep,
  reindexStep,
  healthStep,
  reportStep,
];
