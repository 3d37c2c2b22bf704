import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type LocalPostgres, startLocalPostgres } from './local-postgres';
import {
  acquireLock,
  installBuildDependencies,
  PgClientBuildError,
  pgClientCacheDir,
  privateAptOptions,
  stepRunner,
} from './pg-client-build';

/**
 * TimescaleDB for the tests, built here from Debian's source package (trixie's, the newest Debian
 * ships; bookworm has none), Apache-licensed parts only, against this machine's PostgreSQL 15
 * server. It is installed into a copy of the Debian server install, never into /usr: PostgreSQL
 * finds its share/ and lib/ relative to its bindir, so the copy keeps Debian's layout
 * (usr/lib/postgresql/15/{bin,lib}, usr/share/postgresql/15) and the system's server stays as it
 * was. The build is cached per TimescaleDB and server version.
 */
export const TIMESCALEDB_VERSION = '2.19.3';
/** The Debian source version; +deb13u1 is in trixie main since the 13.x point release (not only trixie-security). */
export const TIMESCALEDB_DEBIAN_VERSION = `${TIMESCALEDB_VERSION}+dfsg-1+deb13u1`;
const SERVER_MAJOR = 15;
const DEBIAN_SUITES = [{ path: 'debian', suite: 'trixie' }] as const;
const LABEL = `TimescaleDB ${TIMESCALEDB_VERSION} build`;

export interface TimescaleDbInstall {
  /** The server bindir of the copy with TimescaleDB installed. */
  readonly bindir: string;
  /** The copy's root (holds usr/lib and usr/share), what must be reachable to run it. */
  readonly installRoot: string;
}

/** The installed Debian server's exact version, e.g. 15.18-0+deb12u1: the server headers are pinned to it. */
export function debianServerVersion(): string {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const result = spawnSync('dpkg-query', ['-W', '-f=${Version}', `postgresql-${SERVER_MAJOR}`], {
    encoding: 'utf8',
  });
  const version = result.stdout.trim();
  if (result.status !== 0 || !version)
    throw new PgClientBuildError(
      `${LABEL}: the Debian package postgresql-${SERVER_MAJOR} is not installed (dpkg-query: ${result.stderr.trim()}); TimescaleDB is built against it`,
    );
  return version;
}

function installDir(cacheDir: string, serverVersion: string): string {
  return join(cacheDir, `timescaledb-${TIMESCALEDB_DEBIAN_VERSION}-pg${serverVersion}`);
}

function layout(root: string): TimescaleDbInstall {
  return { installRoot: root, bindir: join(root, 'usr', 'lib', 'postgresql', String(SERVER_MAJOR), 'bin') };
}

function complete(root: string): boolean {
  const { bindir } = layout(root);
  const lib = join(bindir, '..', 'lib', `timescaledb-${TIMESCALEDB_VERSION}.so`);
  const control = join(
    root,
    'usr',
    'share',
    'postgresql',
    String(SERVER_MAJOR),
    'extension',
    'timescaledb.control',
  );
  return existsSync(join(bindir, 'postgres')) && existsSync(lib) && existsSync(control);
}

/**
 * A PostgreSQL 15 install with TimescaleDB: the cached one, else a new build (a few minutes).
 * Throws when it cannot be built: the TimescaleDB tests then fail, they never skip.
 */
export async function ensureTimescaleDb(
  options: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<TimescaleDbInstall> {
  const cacheDir = options.cacheDir ?? pgClientCacheDir();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const root = installDir(cacheDir, debianServerVersion());
  if (complete(root)) return layout(root);
  mkdirSync(cacheDir, { recursive: true });
  const release = await acquireLock(join(cacheDir, 'timescaledb.lock'), `TimescaleDB ${TIMESCALEDB_VERSION}`);
  try {
    if (complete(root)) return layout(root);
    return await build(cacheDir, root, log);
  } finally {
    release();
  }
}

async function build(
  cacheDir: string,
  root: string,
  log: (line: string) => void,
): Promise<TimescaleDbInstall> {
  const serverVersion = debianServerVersion();
  const logPath = join(cacheDir, 'timescaledb-build.log');
  const work = join(cacheDir, `timescaledb-build-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const runner = stepRunner(logPath, LABEL);
  const started = Date.now();
  try {
    // Pinned to the running server's version: an unpinned install would upgrade the server in place.
    await installBuildDependencies(
      runner,
      log,
      [`postgresql-server-dev-${SERVER_MAJOR}=${serverVersion}`, 'cmake', 'libssl-dev'],
      LABEL,
    );
    log(
      `${LABEL}: building against PostgreSQL ${serverVersion} into ${root} (a few minutes; log: ${logPath})`,
    );
    const apt = privateAptOptions(join(work, 'apt'), DEBIAN_SUITES);
    await runner.run('update the private trixie deb-src index', 'apt-get', [...apt, 'update']);
    const download = join(work, 'download');
    mkdirSync(download);
    await runner.run(
      `download timescaledb=${TIMESCALEDB_DEBIAN_VERSION}`,
      'apt-get',
      [...apt, 'source', '--download-only', `timescaledb=${TIMESCALEDB_DEBIAN_VERSION}`],
      download,
    );
    const dsc = readdirSync(download).find((name) => name.endsWith('.dsc'));
    if (!dsc)
      throw new PgClientBuildError(
        `${LABEL}: apt-get source left no .dsc in ${download} (found: ${readdirSync(download).join(', ')})`,
      );
    // dpkg-source applies Debian's patches, as the package build does.
    const tree = join(work, 'source');
    await runner.run('unpack the source package', 'dpkg-source', ['-x', join(download, dsc), tree], download);

    const buildDir = join(tree, 'build');
    await runner.run(
      'configure (cmake)',
      'cmake',
      [
        '-S',
        tree,
        '-B',
        buildDir,
        '-DCMAKE_BUILD_TYPE=Release',
        `-DPG_CONFIG=/usr/lib/postgresql/${SERVER_MAJOR}/bin/pg_config`,
        '-DAPACHE_ONLY=ON',
        '-DUSE_TELEMETRY=OFF',
        '-DSEND_TELEMETRY_DEFAULT=OFF',
        '-DREGRESS_CHECKS=OFF',
        '-DTAP_CHECKS=OFF',
        '-DWARNINGS_AS_ERRORS=OFF',
      ],
      tree,
    );
    const jobs = String(Math.min(availableParallelism(), 4));
    await runner.run('compile', 'cmake', ['--build', buildDir, '--parallel', jobs], tree);
    const stage = join(work, 'stage');
    await runner.run('install into the staging root', 'cmake', ['--install', buildDir], tree, {
      DESTDIR: stage,
    });

    // The server copy, assembled beside the cache and moved into place: half a copy never looks cached.
    const assembling = join(work, 'install');
    const server = join(assembling, 'usr', 'lib', 'postgresql', String(SERVER_MAJOR));
    const share = join(assembling, 'usr', 'share', 'postgresql', String(SERVER_MAJOR));
    cpSync(`/usr/lib/postgresql/${SERVER_MAJOR}`, server, { recursive: true, verbatimSymlinks: true });
    cpSync(`/usr/share/postgresql/${SERVER_MAJOR}`, share, { recursive: true, verbatimSymlinks: true });
    cpSync(join(stage, 'usr'), join(assembling, 'usr'), { recursive: true, verbatimSymlinks: true });
    rmSync(root, { recursive: true, force: true });
    renameSync(assembling, root);
    if (!complete(root))
      throw new PgClientBuildError(
        `${LABEL}: installed into ${root}, but timescaledb's files are missing; see ${logPath}`,
      );
    log(`${LABEL}: built in ${Math.round((Date.now() - started) / 1000)} s`);
    return layout(root);
  } finally {
    runner.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** A throwaway cluster from the TimescaleDB install, with the library preloaded as TimescaleDB requires. */
export async function startTimescaleDb(): Promise<LocalPostgres> {
  const install = await ensureTimescaleDb();
  return startLocalPostgres({
    bindir: install.bindir,
    installRoot: install.installRoot,
    extraSettings: {
      shared_preload_libraries: "'timescaledb'",
      'timescaledb.telemetry_level': "'off'",
      // The job scheduler's background workers: a launcher, a scheduler per database, the jobs.
      max_worker_processes: '32',
      'timescaledb.max_background_workers': '16',
    },
  });
}
