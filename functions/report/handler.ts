import { makeHandler } from '../shared/lambda';
import { reportCommand } from './definition';

export const handler = makeHandler(reportCommand);
