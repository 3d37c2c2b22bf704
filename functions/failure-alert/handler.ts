import { failureAlertHandler } from './publish';

export const handler = failureAlertHandler();
