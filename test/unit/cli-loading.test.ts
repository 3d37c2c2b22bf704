import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../functions/jobs';
import { writeConfig } from '../helpers/cli';
import { testTempDir } from '../helpers/temp-dirs';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pgmaint.js');

/**
 * Runs bin/pgmaint.js as its own process, as Nagios does, and returns what it printed and every
 * module it loaded (paths relative to the checkout), read from require.cache as it exits.
 */
function runAndListModules(args: string[]) {
  const out = join(testTempDir('modules-'), 'modules.json');
  const dump = `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));
process.argv.splice(1, 0, ${JSON.stringify(BIN)});
require(${JSON.stringify(BIN)});`;
  const child = spawnSync(process.execPath, ['-e', dump, '--', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const modules = (JSON.parse(readFileSync(out, 'utf8')) as string[]).map((path) => relative(ROOT, path));
  return { code: child.status, stdout: child.stdout, stderr: child.stderr, modules };
}

const otherJobsCode = (modules: readonly string[], except: string) =>
  modules.filter(
    (path) =>
      /^functions\/(backup|restore|retention|reindex|health)\//.test(path) &&
      !path.startsWith(`functions/${except}/`) &&
      // Manifests are dependency-free declarations (validate lists schedules from them).
      !path.endsWith('/manifest.ts') &&
      // The config schema checks backup's pg_dump patterns when the config is read, for every command.
      path !== 'functions/backup/exclude-patterns.ts',
  );

describe('what one CLI command loads (a health check is a process Nagios starts every few minutes)', () => {
  it('health --check connection on a url target with a file:// store loads no AWS SDK and no other job', () => {
    const config = writeConfig({
      backupBucket: pathToFileURL(testTempDir('store-')).toString(),
      // Nothing listens on port 1: the run gets as far as connecting, and says so.
      targets: { t: { url: 'postgres://pgmaint@127.0.0.1:1/app' } },
    });
    const run = runAndListModules(['health', '--config', config, '--target', 't', '--check', 'connection']);
    expect(run.stdout, run.stderr).toMatch(
      /^PGMAINT CRITICAL - cannot connect to pgmaint@127\.0\.0\.1:1\/app/,
    );
    expect(run.code).toBe(2);
    // What the run needs is there: the list is real, not empty.
    expect(run.modules).toEqual(
      expect.arrayContaining([
        'functions/health/definition.ts',
        'functions/health/checks/connection.ts',
        'node_modules/pg/lib/client.js',
      ]),
    );
    expect(run.modules.filter((path) => path.includes('node_modules/@aws-sdk/'))).toEqual([]);
    expect(run.modules.filter((path) => path.includes('node_modules/@aws-lambda-powertools/'))).toEqual([]);
    expect(otherJobsCode(run.modules, 'health')).toEqual([]);
  });

  it("health --check connection on a target without a store builds no store schema and loads no other job's code", () => {
    const config = writeConfig({
      targets: { t: { url: 'postgres://pgmaint@127.0.0.1:1/app', health: { thresholds: {} } } },
    });
    const run = runAndListModules(['health', '--config', config, '--target', 't', '--check', 'connection']);
    expect(run.stdout, run.stderr).toMatch(
      /^PGMAINT CRITICAL - cannot connect to pgmaint@127\.0\.0\.1:1\/app/,
    );
    expect(run.modules).toEqual(
      expect.arrayContaining(['functions/health/checks/connection.ts', 'functions/health/memory.ts']),
    );
    // The store's zod schemas (manifests, drill records, health state) and the backup catalog are
    // for runs with a store; health's own check memories live apart from them.
    expect(
      run.modules.filter((path) => /^functions\/shared\/(store\/layout|backup-catalog)\.ts$/.test(path)),
    ).toEqual([]);
    expect(run.modules.filter((path) => path.includes('node_modules/@aws-sdk/'))).toEqual([]);
    expect(run.modules.filter((path) => path.includes('node_modules/@aws-lambda-powertools/'))).toEqual([]);
    expect(otherJobsCode(run.modules, 'health')).toEqual([]);
  });

  it('--help lists every command with its summary without loading any command', () => {
    const run = runAndListModules(['--help']);
    expect(run.code).toBe(0);
    const listed = [...run.stdout.matchAll(/^ {2}([a-z]+) +(.+)$/gm)].map((m) => [m[1], m[2]]);
    expect(listed).toEqual([['validate', expect.any(String)], ...COMMANDS.map((c) => [c.name, c.summary])]);
    // The config schema reads health's check names, so health/checks may load; no command's definition does.
    expect(run.modules.filter((path) => /^functions\/.*definition\.ts$/.test(path))).toEqual([]);
    expect(run.modules.filter((path) => path.includes('node_modules/@aws-sdk/'))).toEqual([]);
  });

  it("each command's entry names the definition it loads and says what its --help says", async () => {
    for (const command of COMMANDS) {
      const definition = await command.load();
      expect(definition.name).toBe(command.name);
      expect(definition.summary, command.name).toBe(command.summary);
    }
  });
});
