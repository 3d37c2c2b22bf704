import { JobError } from './errors';

export type StopSignalName = 'SIGINT' | 'SIGTERM';

/** The shell's convention, 128 + the signal's number: what a script or container runtime expects. */
export const STOP_SIGNAL_EXIT_CODES: Readonly<Record<StopSignalName, number>> = {
  SIGINT: 130,
  SIGTERM: 143,
};

const STOP_SIGNALS: readonly StopSignalName[] = ['SIGINT', 'SIGTERM'];

/**
 * The run was asked to stop (Ctrl-C, a container stopped, Lambda shutting down) and stopped.
 * `done` says what the run had done by then, for the alert ("deleted 1200 rows ...").
 */
export class InterruptedError extends JobError {
  readonly signal: StopSignalName;
  constructor(signal: StopSignalName, done?: string) {
    super(`stopped by ${signal} before it finished${done ? `; ${done}` : ''}`);
    this.signal = signal;
  }
}

/** The stop's reason, saying what the run had done by then (any other reason as it is). */
export function stoppedAfter(reason: unknown, done: string): unknown {
  return reason instanceof InterruptedError ? new InterruptedError(reason.signal, done) : reason;
}

/** Calls `listener` for each stop signal the process receives; returns the unsubscribe. */
export type SignalSource = (listener: (signal: StopSignalName) => void) => () => void;

/**
 * The process's SIGINT/SIGTERM. While subscribed, Node's default (exit at once) is replaced by the
 * listener; a repeated signal still exits at once, for a user who does not want to wait for cleanup.
 */
export const processSignals: SignalSource = (listener) => {
  let received = 0;
  const onSignal = (signal: StopSignalName) => {
    received++;
    if (received > 1) process.exit(STOP_SIGNAL_EXIT_CODES[signal]);
    listener(signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  };
};

export interface StopOnSignals {
  /** Aborted, with an InterruptedError as its reason, at the first stop signal. */
  readonly signal: AbortSignal;
  /** The signal that stopped the run, if one did. */
  received(): StopSignalName | undefined;
  dispose(): void;
}

/**
 * One AbortSignal for "stop now and clean up", fed by the process's stop signals: the CLI and the
 * Lambda handler both hand it to the job through JobContext.signal, and a job core honours it the
 * same way it honours its deadline.
 */
export function stopOnSignals(
  source: SignalSource = processSignals,
  onStop: (signal: StopSignalName) => void = () => {},
): StopOnSignals {
  const controller = new AbortController();
  let received: StopSignalName | undefined;
  const unsubscribe = source((signal) => {
    if (received) return;
    received = signal;
    onStop(signal);
    controller.abort(new InterruptedError(signal));
  });
  return { signal: controller.signal, received: () => received, dispose: unsubscribe };
}

/** Aborts `marginMs` before a deadline `remainingMs` away (never, when that is Infinity). */
export function deadlineSignal(
  remainingMs: number,
  marginMs: number,
  reason: () => Error,
): { readonly signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  if (!Number.isFinite(remainingMs)) return { signal: controller.signal, clear: () => {} };
  const timer = setTimeout(() => controller.abort(reason()), Math.max(remainingMs - marginMs, 0));
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** A signal that never aborts, for runs nobody can stop (tests, one-off calls). */
export const neverStopped: AbortSignal = new AbortController().signal;

/** `work`, or its rejection with the signal's reason as soon as the signal aborts. */
export function abortable<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
