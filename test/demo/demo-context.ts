import type { PgmaintConfig } from '../../functions/shared/config/schema';

/** What each demo step gets: the running sample database and a way to run the real CLI. */
export interface DemoContext {
  /** Path of the demo's pgmaint config file (target "demo", a file:// backup store). */
  readonly configPath: string;
  readonly config: PgmaintConfig;
  /** Superuser URL of the demo database. */
  readonly databaseUrl: string;
  /** Runs `pgmaint <args>` in-process, prints its output indented, returns it. Throws on an unexpected exit code. */
  cli(
    args: string[],
    options?: { expectExit?: number[] },
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Runs SQL against the demo database as superuser. */
  sql(text: string, values?: unknown[]): Promise<Array<Record<string, unknown>>>;
  say(line: string): void;
}

export interface DemoStep {
  readonly title: string;
  run(context: DemoContext): Promise<void>;
}
