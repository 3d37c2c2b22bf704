import { makeHandler } from '../shared/lambda';
import { backupJob } from './definition';

export const handler = makeHandler(backupJob);
