import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './local-postgres';

/** moto_server on loopback: a real AWS API emulator (S3, SNS, SQS, Secrets Manager) in one process. */
export interface LocalAws {
  readonly endpoint: string;
  /** moto_server's process id (benchmarks read its CPU time). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<LocalAws> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess;
  try {
    child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    throw new Error(`cannot start moto_server: ${(error as Error).message}`);
  }
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.on('error', (error) =>
      reject(new Error(`cannot start moto_server (is it installed?): ${error.message}`)),
    );
    child.on('exit', (code) => reject(new Error(`moto_server exited with ${code}: ${stderr}`)));
  });
  const deadline = Date.now() + 30_000;
  const ready = (async () => {
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${endpoint}/moto-api/`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr}`);
  })();
  await Promise.race([ready, exited]);
  return {
    endpoint,
    pid: child.pid,
    stop: async () => {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
    },
  };
}
