import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { RefusedError } from '../../functions/shared/errors';
import type { JobDefinition, JobResult } from '../../functions/shared/job';
import { makeHandler } from '../../functions/shared/lambda';
import { registerSecret } from '../../functions/shared/secrets-scrub';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('the Lambda handler, as the failure-alert destination sees it', () => {
  it('scrubs known secrets from the error Lambda copies into the failure record', async () => {
    registerSecret('hunter2-very-secret');
    const leaky: JobDefinition<Record<string, never>, JobResult> = {
      name: 'leaky',
      summary: 'fails with a secret in its message',
      options: z.strictObject({}),
      flags: {},
      run: async () => {
        throw new RefusedError('the server said: bad password hunter2-very-secret');
      },
      render: () => '',
    };
    process.env.PGMAINT_CONFIG = JSON.stringify({ targets: { t: { url: 'postgres://u@localhost/db' } } });
    process.env.PGMAINT_FAILURE_ALERTS = 'destination';
    const handler = makeHandler(leaky);
    const error = await handler({ target: 't' }, { awsRequestId: 'r1' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as Error).message).toBe('the server said: bad password ***');
  });
});
