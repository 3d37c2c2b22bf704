/**
 * The few error kinds pgmaint raises on purpose. Each carries a message a user can act on;
 * anything else that escapes a job is an unexpected failure and is reported as such.
 */
export class PgmaintError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The config document or a job's options are wrong; nothing ran. */
export class ConfigError extends PgmaintError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], heading = 'invalid configuration') {
    super(`${heading}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** A Lambda event or CLI flags are wrong; nothing ran. */
export class InputError extends ConfigError {
  constructor(problems: readonly string[]) {
    super(problems, 'invalid input');
  }
}

/** The database could not be reached or refused us. */
export class ConnectionError extends PgmaintError {}

/** A job started and could not finish what it was asked to do. */
export class JobError extends PgmaintError {}

/**
 * A safety check refused to run the job (a server newer than pg_dump, an archive that does not
 * match its manifest, a backup that cannot finish in time): the job could not do its work, so
 * it alerts.
 */
export class RefusedError extends PgmaintError {}

/**
 * The request cannot be done as asked: an operator's mistake (a replace without its confirm, a
 * backup key that does not exist, a target database that already exists) or a run of the same
 * job already going. Nothing was started, so nothing failed: no alert, one message, and the CLI
 * exits 2 as for an unknown target.
 */
export class RequestRefusedError extends PgmaintError {}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A job returned a result that means it failed (a drill mismatch, a check that could not run). */
export class JobFailedError extends JobError {
  readonly result: unknown;
  constructor(message: string, result: unknown) {
    super(message);
    this.result = result;
  }
}
