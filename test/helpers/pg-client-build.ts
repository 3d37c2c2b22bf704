import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { NEWEST_SERVER_MAJOR } from './server-versions';

/**
 * The PostgreSQL client the Lambda image ships (the newest supported server major), built here
 * from Debian's source package so the tests run the same pg_dump/pg_restore/psql major as the
 * Lambda: Debian stable only packages 15. The sources come through a private apt configuration
 * (a sid deb-src entry, its own lists and cache), so the system's apt sources stay untouched.
 * The install is cached per version and reused while its tools run.
 */
export const PG_CLIENT_MAJOR: number = NEWEST_SERVER_MAJOR;

const CLIENT_TOOLS = ['pg_dump', 'pg_restore', 'pg_dumpall', 'psql'] as const;
const BUILD_DEPENDENCIES = ['bison', 'flex', 'libzstd-dev', 'liblz4-dev', 'libssl-dev', 'pkg-config'];
const LOCK_WAIT_MS = 15 * 60_000;

export interface PgClientBuildOptions {
  /** Where builds are kept. @default - $PGMAINT_PG_CLIENT_CACHE, else $XDG_CACHE_HOME/pgmaint, else ~/.cache/pgmaint */
  readonly cacheDir?: string;
  /** Progress lines (build start, reuse). @default - stderr */
  readonly log?: (line: string) => void;
}

export class PgClientBuildError extends Error {
  override readonly name = 'PgClientBuildError';
}

export function pgClientCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PGMAINT_PG_CLIENT_CACHE) return env.PGMAINT_PG_CLIENT_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pgmaint');
}

/**
 * The bindir of a working PostgreSQL PG_CLIENT_MAJOR client: the newest cached build, else a new
 * build of the version Debian sid has (about a minute here). One build at a time per cache dir.
 */
export async function ensurePgClient(options: PgClientBuildOptions = {}): Promise<string> {
  const cacheDir = options.cacheDir ?? pgClientCacheDir();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cached = cachedClientBindir(cacheDir);
  if (cached) return cached;

  mkdirSync(cacheDir, { recursive: true });
  const release = await acquireLock(
    join(cacheDir, `postgresql-client-${PG_CLIENT_MAJOR}.lock`),
    CLIENT_LABEL,
  );
  try {
    // Another process may have finished a build while we waited for the lock.
    const built = cachedClientBindir(cacheDir);
    if (built) return built;
    return await buildClient(cacheDir, log);
  } finally {
    release();
  }
}

/** The newest cached postgresql-client-<major>.<minor> whose tools all run, else undefined. */
export function cachedClientBindir(cacheDir: string): string | undefined {
  if (!existsSync(cacheDir)) return undefined;
  const prefix = `postgresql-client-${PG_CLIENT_MAJOR}.`;
  const minors = readdirSync(cacheDir)
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name) => Number(name.slice(prefix.length)))
    .sort((a, b) => b - a);
  for (const minor of minors) {
    const bindir = join(cacheDir, `${prefix}${minor}`, 'bin');
    if (clientToolsRun(bindir)) return bindir;
  }
  return undefined;
}

function clientToolsRun(bindir: string): boolean {
  return CLIENT_TOOLS.every((tool) => {
    const result = spawnSync(join(bindir, tool), ['--version'], { encoding: 'utf8' });
    return result.status === 0 && result.stdout.includes(`(PostgreSQL) ${PG_CLIENT_MAJOR}.`);
  });
}

async function buildClient(cacheDir: string, log: (line: string) => void): Promise<string> {
  const logPath = join(cacheDir, `postgresql-client-${PG_CLIENT_MAJOR}-build.log`);
  // Under the lock: build trees left by failed builds (kept for their config.log) go now.
  for (const name of readdirSync(cacheDir))
    if (name.startsWith('build-')) rmSync(join(cacheDir, name), { recursive: true, force: true });
  const work = join(cacheDir, `build-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const runner = stepRunner(logPath, CLIENT_LABEL);
  const started = Date.now();
  try {
    await installBuildDependencies(runner, log, BUILD_DEPENDENCIES, CLIENT_LABEL);

    const sources = await downloadSource(runner, work);
    const prefix = join(cacheDir, `postgresql-client-${sources.version}`);
    log(
      `building the PostgreSQL ${sources.version} client into ${prefix} (under a minute on an idle 2-core machine; log: ${logPath})`,
    );
    await runner.run('extract the source', 'tar', ['-xf', sources.tarball, '-C', work]);
    const tree = join(work, `postgresql-${sources.version}`);
    await runner.run(
      'configure',
      './configure',
      [
        '--without-icu',
        '--without-readline',
        '--with-zstd',
        '--with-lz4',
        '--with-openssl',
        `--prefix=${prefix}`,
      ],
      tree,
    );
    const jobs = `-j${Math.min(availableParallelism(), 4)}`;
    await runner.run(
      'generate the backend headers',
      'make',
      [jobs, '-C', 'src/backend', 'generated-headers'],
      tree,
    );
    // Installed into a staging root, then moved into place: a half-installed prefix never looks cached.
    const stage = join(work, 'stage');
    for (const dir of ['src/interfaces/libpq', 'src/bin/pg_dump', 'src/bin/psql']) {
      await runner.run(`build ${dir}`, 'make', [jobs, '-C', dir], tree);
      await runner.run(`install ${dir}`, 'make', ['-C', dir, 'install', `DESTDIR=${stage}`], tree);
    }
    rmSync(prefix, { recursive: true, force: true });
    renameSync(join(stage, prefix), prefix);

    const bindir = join(prefix, 'bin');
    if (!clientToolsRun(bindir))
      throw new PgClientBuildError(
        `the PostgreSQL ${sources.version} client built into ${prefix}, but its tools do not run; see ${logPath}`,
      );
    log(`built the PostgreSQL ${sources.version} client in ${Math.round((Date.now() - started) / 1000)} s`);
    rmSync(work, { recursive: true, force: true });
    return bindir;
  } catch (error) {
    if (error instanceof PgClientBuildError) error.message += `\n(build tree kept in ${work})`;
    throw error;
  } finally {
    runner.close();
  }
}

/** What a build is of, in its errors: `PostgreSQL 18 client`. */
const CLIENT_LABEL = `PostgreSQL ${PG_CLIENT_MAJOR} client`;

export interface StepRunner {
  run(
    step: string,
    command: string,
    args: readonly string[],
    cwd?: string,
    env?: NodeJS.ProcessEnv,
  ): Promise<string>;
  close(): void;
}

/** Runs each build step with its output appended to the log; a failing step throws with its output's tail. */
export function stepRunner(logPath: string, label: string): StepRunner {
  const logFile = createWriteStream(logPath, { flags: 'w' });
  return {
    run: (step, command, args, cwd, env) =>
      new Promise((resolve, reject) => {
        logFile.write(`\n$ ${command} ${args.join(' ')}${cwd ? `   (in ${cwd})` : ''}\n`);
        const started = Date.now();
        const child = spawn(command, args, {
          cwd,
          env: { ...process.env, LANG: 'C.UTF-8', ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        const collect = (chunk: Buffer) => {
          logFile.write(chunk);
          output = (output + chunk.toString('utf8')).slice(-200_000);
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        child.on('error', (error) =>
          reject(new PgClientBuildError(`${label} build, step "${step}": ${error.message}`)),
        );
        child.on('close', (code) => {
          logFile.write(`[${step}: exit ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s]\n`);
          if (code === 0) return resolve(output);
          const tail = output.trim().split('\n').slice(-40).join('\n');
          reject(
            new PgClientBuildError(
              `${label} build, step "${step}" failed (exit ${code}): ` +
                `${command} ${args.join(' ')}\n${tail}\n(full log: ${logPath})`,
            ),
          );
        });
      }),
    close: () => logFile.end(),
  };
}

export function installed(pkg: string): boolean {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const result = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim() === 'installed';
}

/** Installs the Debian packages (`name` or `name=version`) a build needs that are missing; as root only. */
export async function installBuildDependencies(
  runner: StepRunner,
  log: (line: string) => void,
  packages: readonly string[],
  label: string,
): Promise<void> {
  const missing = packages.filter((pkg) => !installed(pkg.split('=')[0] ?? pkg));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new PgClientBuildError(
      `building the ${label} needs ${missing.join(', ')}: run "sudo apt-get install -y ${missing.join(' ')}"` +
        (label === CLIENT_LABEL ? `, or set PGMAINT_PG_BINDIR to a ${CLIENT_LABEL}'s bindir` : ''),
    );
  log(`installing what the ${label} build needs from Debian: ${missing.join(' ')}`);
  const install = ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', ...missing];
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await runner.run('install the build dependencies', 'apt-get', install, undefined, env);
  } catch {
    // A fresh machine has no package lists yet.
    await runner.run(
      'update the package lists',
      'apt-get',
      ['-o', 'DPkg::Lock::Timeout=300', 'update'],
      undefined,
      env,
    );
    await runner.run('install the build dependencies', 'apt-get', install, undefined, env);
  }
}

/** The Debian mirror the system's own apt sources use, so the private sid entry goes through the same host. */
export function systemDebianMirror(): string {
  const texts: string[] = [];
  for (const file of ['/etc/apt/sources.list']) if (existsSync(file)) texts.push(readFileSync(file, 'utf8'));
  const partsDir = '/etc/apt/sources.list.d';
  if (existsSync(partsDir))
    for (const name of readdirSync(partsDir))
      if (name.endsWith('.list') || name.endsWith('.sources'))
        texts.push(readFileSync(join(partsDir, name), 'utf8'));
  for (const text of texts)
    for (const line of text.split('\n')) {
      if (line.trim().startsWith('#')) continue;
      const uris = /^\s*URIs:\s*(.+)$/i.exec(line)?.[1]?.split(/\s+/) ?? [];
      const oneLine = /^\s*deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line)?.[1];
      for (const uri of oneLine ? [oneLine] : uris)
        if (/^https?:\/\/.+\/debian\/?$/.test(uri)) return uri.replace(/\/$/, '');
    }
  return 'http://deb.debian.org/debian';
}

/** Downloads postgresql-<major>'s Debian source package through a private apt configuration. */
async function downloadSource(
  runner: StepRunner,
  work: string,
): Promise<{ version: string; tarball: string }> {
  const download = await downloadSidSource(runner, work, `postgresql-${PG_CLIENT_MAJOR}`);
  const pattern = new RegExp(
    `^postgresql-${PG_CLIENT_MAJOR}_(${PG_CLIENT_MAJOR}\\.\\d+)\\.orig\\.tar\\.\\w+$`,
  );
  for (const name of readdirSync(download)) {
    const version = pattern.exec(name)?.[1];
    if (version) return { version, tarball: join(download, name) };
  }
  throw new PgClientBuildError(
    `apt-get source postgresql-${PG_CLIENT_MAJOR} left no upstream tarball in ${download} (found: ${readdirSync(download).join(', ')})`,
  );
}

/**
 * Downloads Debian sid's source package `sourcePackage` into `<work>/download` through a private apt
 * configuration (its own sid deb-src entry, lists and cache: the system's apt sources stay untouched)
 * and returns that directory. A file apt could not fetch fails this step only when apt says so: the
 * upstream tarball may be there even when the packaging tarball is not.
 */
export async function downloadSidSource(
  runner: StepRunner,
  work: string,
  sourcePackage: string,
  options: { tolerateFailure?: boolean } = {},
): Promise<string> {
  const apt = join(work, 'apt');
  const sourceParts = join(apt, 'sources.list.d');
  for (const dir of [sourceParts, join(apt, 'lists', 'partial'), join(apt, 'cache', 'archives', 'partial')])
    mkdirSync(dir, { recursive: true });
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  const signedBy = existsSync(keyring) ? `[signed-by=${keyring}] ` : '';
  writeFileSync(join(sourceParts, 'sid-src.list'), `deb-src ${signedBy}${systemDebianMirror()} sid main\n`);
  const privateApt = [
    '-o',
    `Dir::Etc::SourceParts=${sourceParts}`,
    '-o',
    'Dir::Etc::sourcelist=/dev/null',
    '-o',
    `Dir::State::Lists=${join(apt, 'lists')}`,
    '-o',
    `Dir::Cache=${join(apt, 'cache')}`,
  ];
  await runner.run('update the private sid deb-src index', 'apt-get', [...privateApt, 'update']);
  const download = join(work, 'download');
  mkdirSync(download, { recursive: true });
  try {
    await runner.run(
      `download the ${sourcePackage} source package`,
      'apt-get',
      [...privateApt, 'source', '--download-only', sourcePackage],
      download,
    );
  } catch (error) {
    if (!options.tolerateFailure) throw error;
  }
  return download;
}

/** An exclusive lock file holding the owner's pid; a lock whose owner has died is taken over. */
export async function acquireLock(path: string, label: string): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSync(path, 'utf8').trim());
    if (!ownerAlive(owner, path)) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new PgClientBuildError(
        `waited ${LOCK_WAIT_MS / 60_000} min for process ${owner} to finish building the ${label} (lock ${path})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

function ownerAlive(pid: number, path: string): boolean {
  // An empty file is a lock being written right now, unless its writer died seconds ago.
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - statSync(path).mtimeMs < 10_000;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A private apt configuration (its own sources, lists and cache under `dir`) with deb-src entries
 * for `suites` of the system's Debian mirror: the system's apt sources stay untouched.
 */
export function privateAptOptions(dir: string, suites: readonly { path: string; suite: string }[]): string[] {
  const sourceParts = join(dir, 'sources.list.d');
  for (const sub of [sourceParts, join(dir, 'lists', 'partial'), join(dir, 'cache', 'archives', 'partial')])
    mkdirSync(sub, { recursive: true });
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  const signedBy = existsSync(keyring) ? `[signed-by=${keyring}] ` : '';
  const mirror = systemDebianMirror().replace(/\/debian$/, '');
  writeFileSync(
    join(sourceParts, 'private-src.list'),
    suites.map(({ path, suite }) => `deb-src ${signedBy}${mirror}/${path} ${suite} main\n`).join(''),
  );
  return [
    '-o',
    `Dir::Etc::SourceParts=${sourceParts}`,
    '-o',
    'Dir::Etc::sourcelist=/dev/null',
    '-o',
    `Dir::State::Lists=${join(dir, 'lists')}`,
    '-o',
    `Dir::Cache=${join(dir, 'cache')}`,
  ];
}
