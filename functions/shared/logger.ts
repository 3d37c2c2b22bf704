import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { scrub } from './secrets-scrub';

/** The narrow logging shape the job cores use; two implementations, Lambda and CLI. */
export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

function scrubExtra(extra: Record<string, unknown> | undefined): Record<string, unknown> {
  return extra ? (JSON.parse(scrub(JSON.stringify(extra))) as Record<string, unknown>) : {};
}

/**
 * Lambda: Powertools' structured JSON logger (cold start, request id, sampling come for free
 * and CloudWatch Logs Insights can query every field).
 */
export function lambdaLogger(job: string): Logger & { raw: PowertoolsLogger } {
  // Loaded here, not at the top: the CLI logs with stderrLogger and need not pay for it.
  const { Logger: Powertools } =
    require('@aws-lambda-powertools/logger') as typeof import('@aws-lambda-powertools/logger');
  const raw = new Powertools({ serviceName: 'pgmaint', persistentKeys: { job } });
  return {
    raw,
    debug: (message, extra) => raw.debug(scrub(message), scrubExtra(extra)),
    info: (message, extra) => raw.info(scrub(message), scrubExtra(extra)),
    warn: (message, extra) => raw.warn(scrub(message), scrubExtra(extra)),
    error: (message, extra) => raw.error(scrub(message), scrubExtra(extra)),
  };
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** CLI: one readable line per event on stderr, so stdout stays for results. */
export function stderrLogger(
  minLevel: Level = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const log = (level: Level) => (message: string, extra?: Record<string, unknown>) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    const details = extra && Object.keys(extra).length > 0 ? ` ${JSON.stringify(scrubExtra(extra))}` : '';
    write(`${level === 'info' ? '' : `${level.toUpperCase()}: `}${scrub(message)}${details}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
