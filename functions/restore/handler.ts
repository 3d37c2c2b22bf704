import { makeHandler } from '../shared/lambda';
import { restoreJob } from './definition';

export const handler = makeHandler(restoreJob);
