import { makeHandler } from '../shared/lambda';
import { retentionJob } from './definition';

export const handler = makeHandler(retentionJob);
