/**
 * Lambda's asynchronous invocation contract, as AWS documents it
 * (docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html and
 * invocation-async-retain-records.html): run the event; on a function error run it again, up to
 * the function's MaximumRetryAttempts; then hand the on-failure destination a record of the last
 * attempt. The waits between attempts (about 1 and 2 minutes on AWS) are the `between` hook here.
 */
export interface AsyncInvokeOptions {
  readonly retryAttempts: number;
  readonly functionArn: string;
  readonly requestId: string;
  readonly onFailure: (record: unknown) => Promise<unknown>;
  /** Runs before each retry, where Lambda would wait. */
  readonly between?: (attempt: number) => Promise<void>;
}

export interface Attempt {
  readonly ok: boolean;
  readonly error?: string;
}

export async function invokeAsync(
  handler: (event: unknown, context: { awsRequestId: string }) => Promise<unknown>,
  event: unknown,
  options: AsyncInvokeOptions,
): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  let last: Error | undefined;
  for (let attempt = 1; attempt <= options.retryAttempts + 1; attempt++) {
    if (attempt > 1) await options.between?.(attempt);
    try {
      await handler(event, { awsRequestId: options.requestId });
      attempts.push({ ok: true });
      return attempts;
    } catch (error) {
      last = error as Error;
      attempts.push({ ok: false, error: last.message });
    }
  }
  await options.onFailure({
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: options.requestId,
      functionArn: `${options.functionArn}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: attempts.length,
    },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: last?.name, errorMessage: last?.message, trace: [] },
  });
  return attempts;
}
