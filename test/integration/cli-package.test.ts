import { execFile, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { UNGRADED_SERVER_WIDE } from '../helpers/health';

const ROOT = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const run = promisify(execFile);

/** What a user gets from `npm pack` + `npm install -g`: the packed tarball installed into a fresh prefix. */
describe('the installed package (npm pack, npm install -g into a temp prefix)', () => {
  let work: string;
  let bin: string;
  let db: TestDatabase;

  const pgmaint = (args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(bin, args, { cwd, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk;
      });
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  const emptyDir = () => mkdtempSync(join(work, 'cwd-'));
  const installedPackage = () => join(work, 'prefix', 'lib', 'node_modules', ...manifest.name.split('/'));

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'pgmaint-package-'));
    db = await createTestDatabase('cli_package');
    const npmEnv = { ...process.env, npm_config_update_notifier: 'false' };
    const packed = await run('npm', ['pack', '--pack-destination', work, '--silent'], {
      cwd: ROOT,
      env: npmEnv,
      maxBuffer: 16 * 1024 * 1024,
    });
    const tarball = join(work, packed.stdout.trim().split('\n').pop() ?? '');
    expect(existsSync(tarball), packed.stdout).toBe(true);
    const prefix = join(work, 'prefix');
    await run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
      { cwd: work, env: npmEnv, maxBuffer: 16 * 1024 * 1024 },
    );
    bin = join(prefix, 'bin', 'pgmaint');
  }, 400_000);

  afterAll(async () => {
    await db?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs the bundled CLI only: no TypeScript sources, no per-module compiled code, no dev dependencies', () => {
    const installed = installedPackage();
    expect(existsSync(join(installed, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(installed, 'sql', 'health', 'connections.sql'))).toBe(true);
    expect(existsSync(join(installed, 'dist', 'functions'))).toBe(false);
    expect(existsSync(join(installed, 'functions'))).toBe(false);
    expect(existsSync(join(installed, 'node_modules', 'tsx'))).toBe(false);
  });

  it('health runs from the bundle: pg and zod come from it, not from the installed dependencies', async () => {
    const cwd = emptyDir();
    const config = join(cwd, 'pgmaint.json');
    writeFileSync(config, JSON.stringify({ targets: { t: { url: db.url } } }));
    // Every module the process required, written as it exits.
    const required = join(cwd, 'required.json');
    const preload = join(cwd, 'list-required.cjs');
    writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(required)}, JSON.stringify(Object.keys(require.cache))));`,
    );
    const cache = join(cwd, 'cache');
    const env = { ...process.env, NODE_OPTIONS: `--require ${preload}`, XDG_CACHE_HOME: cache };
    const args = ['health', '--config', config, '--target', 't', '--check', 'connection'];
    const out = await pgmaint(args, cwd, env);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^PGMAINT OK - 1 check\(s\) ok \| 'connection'=/);
    const installed = installedPackage();
    const fromPackage = (JSON.parse(readFileSync(required, 'utf8')) as string[])
      .filter((path) => path.startsWith(installed))
      .map((path) => path.slice(installed.length + 1));
    // The launcher and the bundle, nothing else of the package: it connected with the bundle's pg.
    expect(fromPackage.sort()).toEqual([
      'bin/compile-cache.js',
      'bin/pgmaint.js',
      'dist/cli/main.js',
      'dist/cli/quiet-warnings.js',
    ]);
    // Node before 22.1 has no compile cache of its own: the first run saved V8's code for the
    // bundle, the next starts from it. Node 22.1+ keeps its own (module.enableCompileCache).
    const cached = () =>
      existsSync(join(cache, 'pgmaint', 'compile-cache'))
        ? readdirSync(join(cache, 'pgmaint', 'compile-cache'))
        : [];
    const saved = cached();
    expect(saved).toEqual(
      'enableCompileCache' in Module
        ? []
        : [expect.stringMatching(new RegExp(`^cli-${process.version}-${process.arch}-[0-9a-f]{16}\\.bin$`))],
    );
    const again = await pgmaint(args, cwd, env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^PGMAINT OK - 1 check\(s\) ok \| 'connection'=/);
    expect(cached()).toEqual(saved);
    // A cache V8 refuses (here: not V8's at all) only means compiling as usual, and saving anew.
    for (const file of saved)
      writeFileSync(join(cache, 'pgmaint', 'compile-cache', file), 'not a code cache');
    const refused = await pgmaint(args, cwd, env);
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.stdout).toMatch(/^PGMAINT OK - 1 check\(s\) ok \| 'connection'=/);
    for (const file of saved)
      expect(readFileSync(join(cache, 'pgmaint', 'compile-cache', file), 'utf8')).not.toBe(
        'not a code cache',
      );
  });

  it('--version prints the package version; --help works on every command', async () => {
    const cwd = emptyDir();
    const version = await pgmaint(['--version'], cwd);
    expect(version).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });
    const help = await pgmaint(['--help'], cwd);
    expect(help.code).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1] ?? '');
    expect(commands).toEqual([
      'validate',
      'backup',
      'backups',
      'restore',
      'retention',
      'reindex',
      'health',
      'report',
    ]);
    for (const command of commands) {
      const out = await pgmaint([command, '--help'], cwd);
      expect(out.code, `${command} --help: ${out.stderr}`).toBe(0);
      expect(out.stdout).toMatch(new RegExp(`^usage: pgmaint ${command} --config FILE`));
      expect(out.stdout).toContain('--help');
    }
  });

  it('without a config says how to give one, and never falls back to a cdk.json found by chance', async () => {
    const cwd = emptyDir();
    const none = await pgmaint(['validate'], cwd, { ...process.env, PGMAINT_CONFIG_FILE: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'pgmaint: no config file: pass --config FILE (a pgmaint config, or a cdk.json with context.pgmaint), set PGMAINT_CONFIG_FILE, or put a pgmaint.json in the current directory\n',
    );
    copyFileSync(join(ROOT, 'cdk.json'), join(cwd, 'cdk.json'));
    const withCdkJson = await pgmaint(['health', '--target', 'prod'], cwd);
    // health is a monitoring plugin: a run that cannot start is UNKNOWN (3), said on stdout too.
    expect(withCdkJson.code).toBe(3);
    expect(withCdkJson.stderr).toContain('pgmaint: no config file');
    expect(withCdkJson.stdout).toMatch(/^PGMAINT UNKNOWN - no config file: /);
  });

  it('runs a job against PostgreSQL, saying on stderr which config file it used', async () => {
    const cwd = emptyDir();
    writeFileSync(
      join(cwd, 'pgmaint.json'),
      JSON.stringify({ targets: { t: { url: db.url, health: { thresholds: UNGRADED_SERVER_WIDE } } } }),
    );
    const found = await pgmaint(['health', '--target', 't', '--json'], cwd);
    expect(found.code, found.stderr).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({ target: 't', status: 'ok' });
    expect(found.stderr).toContain(
      `pgmaint: config ${join(cwd, 'pgmaint.json')} (found in the current directory)`,
    );

    const elsewhere = join(emptyDir(), 'prod.json');
    writeFileSync(elsewhere, JSON.stringify({ targets: { t: { url: db.url } } }));
    const named = await pgmaint(['validate', '--config', elsewhere], cwd);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).toContain(`pgmaint: config ${elsewhere} (--config)`);
  });
});
