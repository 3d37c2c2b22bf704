import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { COMMANDS, loadCommand } from '../jobs';
import { type AlertSink, snsAlerts, stderrAlerts } from '../shared/alerts';
import { s3Client, secretsClient, snsClient } from '../shared/aws';
import { CONFIG_OBJECT_ENV, loadDeployedConfig } from '../shared/config/deployed';
import { loadConfigFile } from '../shared/config/load';
import type { PgmaintConfig } from '../shared/config/schema';
import { cachedSecretReader } from '../shared/credentials';
import { optionalEnv } from '../shared/env';
import { ConfigError, errorMessage, InputError, RequestRefusedError } from '../shared/errors';
import { ecsClient, fargatePlacement, type Placement } from '../shared/fargate-handoff';
import { loadFargateSettings } from '../shared/fargate-settings';
import { type HandedOffResult, isHandedOff } from '../shared/handed-off';
import type { AnyJobDefinition, FlagSpec, JobResult } from '../shared/job';
import { stderrLogger } from '../shared/logger';
import { cliMetrics, METRICS_ENV } from '../shared/metrics';
import { logProgress, type TerminalProgress, terminalProgress } from '../shared/progress';
import { runJob } from '../shared/run-job';
import { scrub } from '../shared/secrets-scrub';
import {
  processSignals,
  type SignalSource,
  STOP_SIGNAL_EXIT_CODES,
  stopOnSignals,
} from '../shared/stop-signals';
import { bucketWarnings } from './bucket-warnings';
import { checkObjectLock } from './lock-check';
import { listSchedules, RUNS_ON_TEXT } from './schedules';
import { packageVersion } from './version';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  /** stderr is a terminal: progress is one line redrawn in place, not log lines. */
  readonly isTTY?: boolean;
  /** SIGINT/SIGTERM; without it (in-process tests) nothing stops a run. */
  readonly signals?: SignalSource;
  /** How often progress is shown (default: every 2 s on a terminal, 15 s in a log). */
  readonly progressIntervalMs?: number;
  /** Where ./pgmaint.json is looked for; default the process's working directory. */
  readonly cwd?: string;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  now: () => new Date(),
  isTTY: process.stderr.isTTY === true,
  signals: processSignals,
};

const COMMON_FLAGS: Record<string, FlagSpec> = {
  config: {
    type: 'string',
    description: 'config file: a pgmaint config, or a cdk.json with context.pgmaint',
  },
  target: { type: 'string', description: 'the target to run against' },
  json: { type: 'boolean', description: 'print exactly one JSON object on stdout' },
  verbose: { type: 'boolean', description: 'debug logs on stderr' },
  quiet: { type: 'boolean', description: 'no progress on stderr (bytes, rows, the index being rebuilt)' },
  event: {
    type: 'string',
    description: 'the options as the Lambda event, in JSON (e.g. \'{"drill":true}\'), instead of their flags',
  },
  on: {
    type: 'string',
    description: '"fargate": start the run as the job\'s task in the deployed stack and print its ARN',
  },
  help: { type: 'boolean', description: 'show help' },
};

const VALIDATE_FLAGS: Record<string, FlagSpec> = {
  config: COMMON_FLAGS.config as FlagSpec,
  json: COMMON_FLAGS.json as FlagSpec,
  help: COMMON_FLAGS.help as FlagSpec,
};

/** Runs one CLI command and returns the process exit code. Never calls process.exit itself. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version') {
    io.stdout(`${packageVersion()}\n`);
    return 0;
  }
  if (command === 'help' && rest[0]) return main([rest[0], '--help'], io);
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    (command ? io.stdout : io.stderr)(usage());
    return command ? 0 : 2;
  }
  if (command === 'validate') return validate(rest, io);
  const definition = await loadCommand(command);
  if (!definition) {
    io.stderr(`pgmaint: unknown command "${command}"\n\n${usage()}`);
    return 2;
  }
  return runCommand(definition, rest, io);
}

async function validate(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(args, VALIDATE_FLAGS, io);
  if (!parsed) return 2;
  if (parsed.help) {
    io.stdout(
      commandHelp(
        'validate --config FILE',
        'check the config (everything that needs no database) and show each schedule with its next three runs',
        VALIDATE_FLAGS,
      ),
    );
    return 0;
  }
  const loaded = await loadConfig(parsed.config as string | undefined, io);
  if (!loaded) return 2;
  const schedules = listSchedules(loaded.config, io.now());
  const objectLock = await checkObjectLock(loaded.config, io.env);
  if (objectLock.enabled === false) {
    io.stderr(`${loaded.path}: invalid:\n  - ${objectLock.note}\n`);
    return 2;
  }
  const warnings = await bucketWarnings(loaded.config, () => s3Client(io.env));
  if (parsed.json) {
    io.stdout(
      `${JSON.stringify({ valid: true, config: loaded.path, targets: Object.keys(loaded.config.targets), schedules, warnings, ...(objectLock.targets.length > 0 ? { objectLock } : {}) })}\n`,
    );
    return 0;
  }
  io.stdout(`${loaded.path}: valid, ${Object.keys(loaded.config.targets).length} target(s)\n`);
  for (const warning of warnings) io.stdout(`warning: ${warning}\n`);
  if (objectLock.note) io.stdout(`note: ${objectLock.note}\n`);
  else if (objectLock.enabled) io.stdout(`${loaded.config.backupBucket}: Object Lock enabled\n`);
  for (const target of Object.keys(loaded.config.targets)) {
    io.stdout(`\n${target}\n`);
    const mine = schedules.filter((s) => s.target === target);
    if (mine.length === 0) io.stdout('  no schedules (jobs run on demand only)\n');
    for (const run of mine) {
      io.stdout(`  ${run.job.padEnd(14)} ${run.expression} (${run.timezone}), ${RUNS_ON_TEXT[run.runsOn]}\n`);
      for (const next of run.nextRuns) io.stdout(`  ${''.padEnd(14)}   next: ${next}\n`);
    }
  }
  return 0;
}

async function runCommand(definition: AnyJobDefinition, args: readonly string[], io: CliIo): Promise<number> {
  // What stops a request before it runs (a bad flag, no config) is said on stderr; a command that
  // is a monitoring plugin (health) also says it on stdout, with its own exit code.
  const usageCode = definition.usageExitCode ?? 2;
  let lastProblem = '';
  const noting: CliIo = {
    ...io,
    stderr: (text) => {
      lastProblem = text.trim().replace(/^pgmaint: /, '');
      io.stderr(text);
    },
  };
  const cannotRun = (json: unknown, problem = lastProblem) => {
    if (definition.renderError && !json) io.stdout(`${definition.renderError(new Error(problem))}\n`);
    return usageCode;
  };
  const flags = parseFlags(args, { ...COMMON_FLAGS, ...definition.flags }, noting);
  if (!flags) return cannotRun(false);
  if (flags.help) {
    io.stdout(commandUsage(definition));
    return 0;
  }
  const loaded = await loadConfig(flags.config as string | undefined, noting);
  // The deployment's Fargate task (METRICS_ENV=emf, set on every task and nowhere else): its
  // stdout is the job's log, where the result goes as JSON, as a Lambda run returns it.
  const json = flags.json === true || optionalEnv(METRICS_ENV, io.env) === 'emf';
  if (!loaded) return cannotRun(json);
  const { config } = loaded;
  const input = jobInput(definition, flags, noting);
  if (!input) return cannotRun(json);
  let line: TerminalProgress | undefined;
  // A log line or an alert never lands in the middle of the progress line.
  const stderr = (text: string) => {
    line?.clearLine();
    io.stderr(text);
  };
  const logger = stderrLogger(flags.verbose ? 'debug' : 'info', stderr);
  const progress = (job: string, target: string) => {
    const intervalMs = io.progressIntervalMs;
    if (!io.isTTY) return logProgress({ job, target, logger, intervalMs });
    line = terminalProgress({ job, target, write: io.stderr, intervalMs });
    return line;
  };
  const stop =
    definition.stopsOnSignal && io.signals
      ? stopOnSignals(io.signals, (signal) =>
          logger.warn(
            `${signal}: stopping ${definition.name} and cleaning up (send it again to exit at once)`,
          ),
        )
      : undefined;
  const topicArn = config.alerts.topicArn;
  const alerts: AlertSink = topicArn ? snsAlerts(snsClient(topicArn), topicArn) : stderrAlerts(stderr);
  let s3: ReturnType<typeof s3Client> | undefined;
  const s3Once = () => {
    s3 ??= s3Client(io.env);
    return s3;
  };
  if (flags.on !== undefined && flags.on !== 'fargate') {
    noting.stderr(
      `pgmaint: --on: expected "fargate" (start the run as the job's Fargate task), got "${flags.on}"; without --on it runs here\n`,
    );
    return cannotRun(json);
  }
  try {
    const deps = {
      config,
      logger,
      metrics: cliMetrics(io.env),
      alerts,
      readSecret: cachedSecretReader(secretsClient),
      s3: s3Once,
      now: io.now,
      signal: stop?.signal,
      progress: flags.quiet ? undefined : progress,
    };
    const result: JobResult | HandedOffResult =
      flags.on === 'fargate'
        ? await runJob(definition, input, deps, onFargate(config, io.env, s3Once))
        : await runJob(definition, input, deps);
    if (isHandedOff(result)) {
      io.stdout(json ? `${JSON.stringify(result)}\n` : `${renderHandedOff(result)}\n`);
      return 0;
    }
    io.stdout(json ? `${JSON.stringify(result)}\n` : `${definition.render(result)}\n`);
    return definition.exitCode?.(result) ?? 0;
  } catch (error) {
    // One line that says what failed; the details went to the log and the alert.
    const message = scrub(errorMessage(error));
    const refused = error instanceof RequestRefusedError;
    if (error instanceof InputError) io.stderr(`pgmaint ${definition.name}: ${message}\n`);
    else
      io.stderr(
        `pgmaint ${definition.name} ${flags.target}: ${refused ? 'refused: ' : ''}${message.split('\n').join(' ')}\n`,
      );
    if (json && !(error instanceof ConfigError)) {
      const status = refused ? 'refused' : 'failed';
      io.stdout(`${JSON.stringify({ target: flags.target, status, error: message })}\n`);
    }
    const stoppedBy = stop?.received();
    if (stoppedBy) return STOP_SIGNAL_EXIT_CODES[stoppedBy];
    if (error instanceof InputError || refused) return cannotRun(json, message);
    const code = definition.exitCodeOnError?.(error) ?? 1;
    if (definition.renderError && !json)
      io.stdout(`${definition.renderError(error)}
`);
    return code;
  } finally {
    stop?.dispose();
  }
}

function parseFlags(
  args: readonly string[],
  specs: Record<string, FlagSpec>,
  io: CliIo,
): Record<string, unknown> | undefined {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, spec] of Object.entries(specs))
    options[name] = { type: spec.type === 'boolean' ? 'boolean' : 'string' };
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...args], options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    io.stderr(`pgmaint: ${errorMessage(error)}\n`);
    return undefined;
  }
  for (const [name, spec] of Object.entries(specs)) {
    const value = values[name];
    if (spec.type === 'number' && typeof value === 'string') {
      // Leave non-numbers as text: the job's schema names the flag in its error.
      values[name] = value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
    }
  }
  return values;
}

const CONFIG_HINT =
  'pass --config FILE (a pgmaint config, or a cdk.json with context.pgmaint), set PGMAINT_CONFIG_FILE, or put a pgmaint.json in the current directory';

/**
 * The config file: --config, else PGMAINT_CONFIG_FILE, else ./pgmaint.json. Never a cdk.json
 * found by chance (in a clone that is the repository's example): a cdk.json is used only when named.
 * Which file was used, and why, goes to stderr.
 */
async function loadConfig(
  path: string | undefined,
  io: CliIo,
): Promise<{ config: PgmaintConfig; path: string } | undefined> {
  const deployed = optionalEnv(CONFIG_OBJECT_ENV, io.env);
  if (!path && deployed) {
    // A deployed task: the object the stack wrote, its SHA-256 checked, as the job's Lambda reads it.
    io.stderr(`pgmaint: config ${deployed} (${CONFIG_OBJECT_ENV})\n`);
    try {
      return { config: await loadDeployedConfig(io.env, () => s3Client(io.env)), path: deployed };
    } catch (error) {
      io.stderr(`pgmaint: ${errorMessage(error)}\n`);
      return undefined;
    }
  }
  const cwd = io.cwd ?? process.cwd();
  const local = resolve(cwd, 'pgmaint.json');
  const chosen = path
    ? { path, from: '--config' }
    : io.env.PGMAINT_CONFIG_FILE
      ? { path: io.env.PGMAINT_CONFIG_FILE, from: 'PGMAINT_CONFIG_FILE' }
      : existsSync(local)
        ? { path: local, from: 'found in the current directory' }
        : undefined;
  if (!chosen) {
    io.stderr(`pgmaint: no config file: ${CONFIG_HINT}\n`);
    return undefined;
  }
  const absolute = resolve(cwd, chosen.path);
  io.stderr(`pgmaint: config ${absolute} (${chosen.from})\n`);
  try {
    return { config: loadConfigFile(absolute), path: chosen.path };
  } catch (error) {
    io.stderr(`pgmaint: ${errorMessage(error)}\n`);
    return undefined;
  }
}

/**
 * The job's input: `--target` and the job's flags, or with `--event` the event a Lambda would get
 * (the schema then reports its problems exactly as for the Lambda). Undefined after a usage error.
 */
function jobInput(
  definition: AnyJobDefinition,
  flags: Record<string, unknown>,
  io: CliIo,
): Record<string, unknown> | undefined {
  if (flags.event === undefined) {
    const input: Record<string, unknown> = { target: flags.target };
    for (const name of Object.keys(definition.flags)) {
      if (flags[name] !== undefined) input[camelCase(name)] = flags[name];
    }
    return input;
  }
  let event: unknown;
  try {
    event = JSON.parse(flags.event as string);
  } catch (error) {
    io.stderr(
      `pgmaint: --event: not JSON (${errorMessage(error)}); give an object like '{"target":"prod"}'\n`,
    );
    return undefined;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    io.stderr(`pgmaint: --event: expected a JSON object like '{"target":"prod"}', got ${flags.event}\n`);
    return undefined;
  }
  const both = Object.keys(definition.flags).filter((name) => flags[name] !== undefined);
  if (both.length > 0) {
    io.stderr(
      `pgmaint: --event carries the whole event: put ${both.map((n) => `--${n}`).join(', ')} in it (as ${both.map(camelCase).join(', ')}), or leave out --event\n`,
    );
    return undefined;
  }
  const fields = event as Record<string, unknown>;
  if (flags.target !== undefined && fields.target !== undefined && fields.target !== flags.target) {
    io.stderr(
      `pgmaint: --target is "${flags.target}" but the event's target is ${JSON.stringify(fields.target)}; give one\n`,
    );
    return undefined;
  }
  return { ...fields, target: flags.target ?? fields.target };
}

/** `--on fargate`: the job's task in the deployed stack, found from FARGATE_ENV or the stack's settings object. */
function onFargate(
  config: PgmaintConfig,
  env: NodeJS.ProcessEnv,
  s3: () => ReturnType<typeof s3Client>,
): Placement {
  let ecs: ReturnType<typeof ecsClient> | undefined;
  return fargatePlacement(
    (job) => loadFargateSettings(job, config.backupBucket, env, s3),
    () => {
      ecs ??= ecsClient();
      return ecs;
    },
    '--on fargate',
  );
}

function renderHandedOff(result: HandedOffResult): string {
  return [
    `${result.target}: ${result.job} started as a Fargate task`,
    `  task    ${result.taskArn}`,
    `  reason  ${result.reason}`,
    "  its result, alerts and metrics come from the task (its log is in the job's log group)",
  ].join('\n');
}

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function usage(): string {
  const commands = [
    ['validate', 'check the config and show each schedule with its next three runs'],
    ...COMMANDS.map((c) => [c.name, c.summary]),
  ];
  return [
    `pgmaint ${packageVersion()}: PostgreSQL backups, restores, retention, reindex and health checks`,
    '',
    'usage: pgmaint <command> --config FILE [--target T] [--json] [options]',
    '       pgmaint --version',
    '',
    'commands:',
    ...commands.map(([name, summary]) => `  ${(name ?? '').padEnd(12)} ${summary}`),
    '',
    "Run `pgmaint <command> --help` for a command's options. Logs go to stderr; --json prints one JSON",
    'object on stdout. AWS_ENDPOINT_URL points the AWS SDK at an emulator.',
    `Config: ${CONFIG_HINT}.`,
    '',
  ].join('\n');
}

function commandUsage(definition: AnyJobDefinition): string {
  return commandHelp(`${definition.name} --config FILE --target T [options]`, definition.summary, {
    ...COMMON_FLAGS,
    ...definition.flags,
  });
}

function commandHelp(synopsis: string, summary: string, flags: Record<string, FlagSpec>): string {
  return [
    `usage: pgmaint ${synopsis}`,
    '',
    summary,
    '',
    ...Object.entries(flags).map(([name, spec]) => `  --${name.padEnd(16)} ${spec.description}`),
    '',
  ].join('\n');
}
