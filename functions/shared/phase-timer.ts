/**
 * Milliseconds per phase of a job, each measured from the end of the one before: what a result
 * reports so a slow run says where its time went.
 */
export function phaseTimer() {
  let last = performance.now();
  const ms: Record<string, number> = {};
  return {
    ms,
    /** Ends phase `name` now, or at `at` (a performance.now() reading taken when it really ended). */
    end(name: string, at: number = performance.now()) {
      ms[name] = Math.round(at - last);
      last = at;
    },
  };
}
