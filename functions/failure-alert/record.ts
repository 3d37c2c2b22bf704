import * as z from 'zod';
import type { Alert } from '../shared/alerts';

/**
 * What Lambda sends an asynchronous invocation's on-failure destination once no attempt is left
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html): the
 * event, the last attempt's error, how many attempts ran, and why Lambda gave up.
 */
const failedInvocationRecord = z.object({
  requestContext: z.object({
    requestId: z.string(),
    functionArn: z.string(),
    condition: z.string(),
    approximateInvokeCount: z.number(),
  }),
  requestPayload: z.unknown(),
  responsePayload: z
    .object({ errorType: z.string().optional(), errorMessage: z.string().optional() })
    .nullish()
    .catch(undefined),
});

export type FailedInvocationRecord = z.output<typeof failedInvocationRecord>;

/** `backup=<function name>,restore=<function name>`: the stack writes it, one pair per job. */
export function parseJobFunctions(text: string): ReadonlyMap<string, string> {
  const byFunction = new Map<string, string>();
  for (const pair of text.split(',')) {
    const [job, functionName] = pair.split('=');
    if (job && functionName) byFunction.set(functionName, job);
  }
  return byFunction;
}

/** The function name in `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`. */
function functionName(functionArn: string): string {
  return functionArn.split(':')[6] ?? functionArn;
}

const REASONS: Record<string, string> = {
  RetriesExhausted: 'every attempt failed',
  EventAgeExceeded:
    'the event grew older than the maximum event age before the next attempt (throttling, or attempts that ran long)',
};

/** The one FAILED alert for a run Lambda gave up on. */
export function failureAlert(record: unknown, jobFunctions: ReadonlyMap<string, string>): Alert {
  const parsed = failedInvocationRecord.safeParse(record);
  if (!parsed.success) {
    return {
      job: 'unknown',
      target: 'unknown',
      status: 'FAILED',
      runId: 'unknown',
      error: 'a pgmaint function failed, and Lambda sent a failure record pgmaint cannot read',
      result: record,
    };
  }
  const { requestContext, requestPayload, responsePayload } = parsed.data;
  const name = functionName(requestContext.functionArn);
  const payload = (typeof requestPayload === 'object' && requestPayload !== null ? requestPayload : {}) as {
    target?: unknown;
  };
  const attempts = requestContext.approximateInvokeCount;
  const reason = REASONS[requestContext.condition] ?? requestContext.condition;
  return {
    job: jobFunctions.get(name) ?? name,
    target: typeof payload.target === 'string' ? payload.target : 'unknown',
    status: 'FAILED',
    runId: requestContext.requestId,
    error: responsePayload?.errorMessage ?? responsePayload?.errorType ?? 'no error message (see the logs)',
    details: [
      `tries:  ${attempts} (${reason})`,
      ...(responsePayload?.errorType ? [`kind:   ${responsePayload.errorType}`] : []),
      `logs:   the function ${name}, request id ${requestContext.requestId}`,
      '',
      'event:',
      JSON.stringify(requestPayload, null, 2),
    ],
  };
}
