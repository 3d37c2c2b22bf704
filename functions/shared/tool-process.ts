import { type ChildProcess, spawn } from 'node:child_process';
import { scrub } from './secrets-scrub';

/** A spawned PostgreSQL tool whose exit we await and whose stderr tail we keep for the error. */
export interface ToolProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or -1 when killed by a signal); never rejects. */
  readonly exited: Promise<number>;
  /** The last lines of stderr, secrets scrubbed. */
  stderrTail(): string;
  kill(): void;
  /** SIGTERM, then SIGKILL if it is still there after a few seconds; resolves once it is gone. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 3_000;

const STDERR_KEEP_CHARS = 4_000;

/** Spawns with credentials in the environment only (never argv), stdout piped, stderr captured. */
export function spawnTool(
  path: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  stdin: 'pipe' | 'ignore' = 'ignore',
): ToolProcess {
  const child = spawn(path, args, {
    env: { PATH: process.env.PATH, LANG: 'C.UTF-8', ...env },
    stdio: [stdin, 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP_CHARS);
  });
  const exited = new Promise<number>((resolve) => {
    child.on('error', (error) => {
      stderr += `\n${error.message}`;
      resolve(-1);
    });
    child.on('close', (code) => resolve(code ?? -1));
  });
  const kill = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  return {
    child,
    exited,
    stderrTail: () => {
      const lines = scrub(stderr).trim().split('\n');
      return lines.slice(-5).join('\n');
    },
    kill,
    stop: async () => {
      kill();
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace over'>((resolve) => {
        timer = setTimeout(() => resolve('grace over'), STOP_GRACE_MS);
      });
      if ((await Promise.race([exited, graceOver])) === 'grace over') {
        kill('SIGKILL');
        await exited;
      }
      clearTimeout(timer);
    },
  };
}
