import { makeHandler } from '../shared/lambda';
import { reindexJob } from './definition';

export const handler = makeHandler(reindexJob);
