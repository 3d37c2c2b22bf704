import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type CliIo, main } from '../../functions/cli/main';
import { testTempDir } from './temp-dirs';

/**
 * Runs the CLI in-process exactly as `npx pgmaint` does, capturing stdout, stderr and exit code.
 * `io` overrides the rest (a clock, a terminal, the progress interval).
 */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: Omit<Partial<CliIo>, 'stdout' | 'stderr' | 'env'> = {},
) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
    now: () => new Date(),
    ...io,
  });
  return { code, stdout, stderr };
}

/**
 * A `--json` command that must succeed: fails the test with the command's stderr unless it exits 0,
 * and returns what it printed, parsed (as untyped as `JSON.parse` unless `T` says what it is).
 */
export async function runCliJson<T = ReturnType<typeof JSON.parse>>(
  ...args: Parameters<typeof runCli>
): Promise<T> {
  const out = await runCli(...args);
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as T;
}

/** `config` as a pgmaint.json in a directory of its own, removed with the test file's temp root. */
export function writeConfig(config: unknown): string {
  const path = join(testTempDir('config-'), 'pgmaint.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

const BIN = join(__dirname, '..', '..', 'bin', 'pgmaint.js');

/** Runs bin/pgmaint.js as its own process, as a shell, cron or a Nagios server would. */
export function runBinary(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return startBinary(args, env).done;
}

/** bin/pgmaint.js started as its own process: the child (to signal it, as ECS stops a task) and its end. */
export function startBinary(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { env });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}
