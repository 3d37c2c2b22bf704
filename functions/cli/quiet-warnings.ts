/**
 * The AWS SDK warns once per process that releases after January 2027 need Node 22. Lambda runs
 * Node 22; on a Node 20 workstation the notice lands in the middle of CLI output, so the CLI and
 * demo drop exactly that warning. Every other warning still shows.
 */
export function quietSdkNodeVersionWarning(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes('NodeVersionSupportWarning')) return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
}
