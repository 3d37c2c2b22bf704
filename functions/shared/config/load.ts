import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';
import { formatIssues } from './issues';
import { configSchema, type PgmaintConfig } from './schema';

/** Validates a config object, reporting every problem at once, each with its path. */
export function parseConfig(raw: unknown, source = 'config'): PgmaintConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues), `${source} is invalid`);
  return parsed.data;
}

/**
 * Reads a config file: either a pgmaint config object, or a cdk.json whose `context.pgmaint`
 * holds one (so the CLI and `cdk deploy` can share a single file).
 */
export function loadConfigFile(path: string): PgmaintConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      [`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`],
      'config not found',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${path} is not valid JSON: ${(error as Error).message}`], 'config is invalid');
  }
  return parseConfig(extractConfig(raw), path);
}

/** A cdk.json carries the config under context.pgmaint; anything else is the config itself. */
export function extractConfig(raw: unknown): unknown {
  if (isRecord(raw) && isRecord(raw.context) && 'pgmaint' in raw.context) return raw.context.pgmaint;
  return raw;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
