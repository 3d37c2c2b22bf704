/** SQLSTATEs the job reacts to rather than fails on. */
export const LOCK_NOT_AVAILABLE = '55P03';
export const QUERY_CANCELED = '57014';

export const sqlState = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
