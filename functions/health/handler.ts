import { makeHandler } from '../shared/lambda';
import { healthJob } from './definition';

export const handler = makeHandler(healthJob);
