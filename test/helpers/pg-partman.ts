import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  acquireLock,
  downloadSidSource,
  installBuildDependencies,
  installed,
  PgClientBuildError,
  pgClientCacheDir,
  stepRunner,
} from './pg-client-build';

/**
 * pg_partman for the retention tests, both majors users run: 4.x is Debian's own package, installed
 * into this machine's PostgreSQL 15; 5.x is built from Debian sid's upstream tarball into a copy of
 * that server install (one server's extension directory holds one pg_partman), which a separate
 * throwaway cluster runs. Both are installed by the test harness, never by hand, and cached.
 */
const SERVER_MAJOR = 15;
const SERVER_PACKAGE = `postgresql-${SERVER_MAJOR}`;
export const PARTMAN4_PACKAGE = `postgresql-${SERVER_MAJOR}-partman`;
const DEBIAN_BINDIR = `/usr/lib/postgresql/${SERVER_MAJOR}/bin`;
const DEBIAN_SHAREDIR = `/usr/share/postgresql/${SERVER_MAJOR}`;

type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

function packageVersion(pkg: string): string {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const result = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  if (result.status !== 0 || !result.stdout.trim())
    throw new PgClientBuildError(`${pkg} is not installed (dpkg-query: ${result.stderr.trim()})`);
  return result.stdout.trim();
}

/** Installs Debian's pg_partman 4.x into the machine's PostgreSQL 15 when missing; returns its version. */
export async function ensurePartman4(cacheDir = pgClientCacheDir(), log: Log = stderrLog): Promise<string> {
  if (!installed(PARTMAN4_PACKAGE)) {
    mkdirSync(cacheDir, { recursive: true });
    const label = `pg_partman 4 (${PARTMAN4_PACKAGE})`;
    const release = await acquireLock(join(cacheDir, `${PARTMAN4_PACKAGE}.lock`), label);
    const runner = stepRunner(join(cacheDir, `${PARTMAN4_PACKAGE}-install.log`), label);
    try {
      await installBuildDependencies(runner, log, [PARTMAN4_PACKAGE], label);
    } finally {
      runner.close();
      release();
    }
  }
  const version = packageVersion(PARTMAN4_PACKAGE);
  if (!existsSync(join(DEBIAN_SHAREDIR, 'extension', 'pg_partman.control')))
    throw new PgClientBuildError(
      `${PARTMAN4_PACKAGE} ${version} is installed but left no pg_partman.control`,
    );
  return version;
}

export interface Partman5Install {
  readonly version: string;
  /** The copied server's bindir; PostgreSQL finds share/ and lib/ relative to it, so this install's pg_partman. */
  readonly bindir: string;
  /** The directory holding the whole copied install (usr/lib/postgresql, usr/share/postgresql). */
  readonly root: string;
}

/**
 * A copy of the machine's PostgreSQL 15 install with pg_partman 5.x: the newest cached build for
 * this server version, else a new build (`make NO_BGW=1` against postgresql-server-dev-15, pinned
 * to the server's own version so apt never upgrades the running server). Fails loudly.
 */
export async function ensurePartman5(
  cacheDir = pgClientCacheDir(),
  log: Log = stderrLog,
): Promise<Partman5Install> {
  const serverVersion = packageVersion(SERVER_PACKAGE);
  const cached = cachedPartman5(cacheDir, serverVersion);
  if (cached) return cached;
  mkdirSync(cacheDir, { recursive: true });
  const label = 'pg_partman 5';
  const release = await acquireLock(join(cacheDir, 'pg-partman-5.lock'), label);
  try {
    const built = cachedPartman5(cacheDir, serverVersion);
    if (built) return built;
    return await buildPartman5(cacheDir, serverVersion, label, log);
  } finally {
    release();
  }
}

const installDirPattern = (serverVersion: string) =>
  new RegExp(`^pg-partman-(5\\.\\d+\\.\\d+)-postgresql-${serverVersion.replace(/[.+]/g, '\\$&')}$`);

function cachedPartman5(cacheDir: string, serverVersion: string): Partman5Install | undefined {
  if (!existsSync(cacheDir)) return undefined;
  const pattern = installDirPattern(serverVersion);
  const installs = readdirSync(cacheDir)
    .map((name) => ({ name, version: pattern.exec(name)?.[1] }))
    .filter((entry): entry is { name: string; version: string } => entry.version !== undefined)
    .sort((a, b) => b.version.localeCompare(a.version, 'en', { numeric: true }));
  for (const { name, version } of installs) {
    const install = describeInstall(join(cacheDir, name), version);
    if (installWorks(install)) return install;
  }
  return undefined;
}

function describeInstall(root: string, version: string): Partman5Install {
  return { version, root, bindir: join(root, DEBIAN_BINDIR) };
}

function installWorks(install: Partman5Install): boolean {
  const control = join(install.root, DEBIAN_SHAREDIR, 'extension', 'pg_partman.control');
  if (!existsSync(control) || !readFileSync(control, 'utf8').includes(`'${install.version}'`)) return false;
  const probe = spawnSync(join(install.bindir, 'postgres'), ['--version'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.includes(`(PostgreSQL) ${SERVER_MAJOR}.`);
}

async function buildPartman5(
  cacheDir: string,
  serverVersion: string,
  label: string,
  log: Log,
): Promise<Partman5Install> {
  const logPath = join(cacheDir, 'pg-partman-5-build.log');
  const work = join(cacheDir, `pg-partman-build-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const runner = stepRunner(logPath, label);
  const started = Date.now();
  try {
    await installBuildDependencies(
      runner,
      log,
      [`postgresql-server-dev-${SERVER_MAJOR}=${serverVersion}`, 'make', 'gcc'],
      label,
    );
    // The packaging tarball of sid may 404 while the upstream one downloads: judge by what arrived.
    const download = await downloadSidSource(runner, work, 'pg-partman', { tolerateFailure: true });
    const tarball = readdirSync(download).find((name) =>
      /^pg-partman_5\.\d+\.\d+\.orig\.tar\.\w+$/.test(name),
    );
    const version = tarball && /^pg-partman_(5\.\d+\.\d+)\./.exec(tarball)?.[1];
    if (!tarball || !version)
      throw new PgClientBuildError(
        `apt-get source pg-partman left no pg-partman_5.x upstream tarball in ${download} ` +
          `(found: ${readdirSync(download).join(', ') || 'nothing'}); see ${logPath}`,
      );
    const root = join(cacheDir, `pg-partman-${version}-postgresql-${serverVersion}`);
    log(
      `building pg_partman ${version} into a copy of PostgreSQL ${serverVersion} at ${root} (log: ${logPath})`,
    );
    const source = join(work, 'source');
    mkdirSync(source);
    await runner.run('extract the source', 'tar', ['-xf', join(download, tarball), '-C', source]);
    const [tree] = readdirSync(source);
    if (!tree) throw new PgClientBuildError(`${tarball} extracted to nothing`);
    const make = ['NO_BGW=1', `PG_CONFIG=${join(DEBIAN_BINDIR, 'pg_config')}`];
    await runner.run('build', 'make', make, join(source, tree));
    const stage = join(work, 'stage');
    await runner.run('install', 'make', [...make, 'install', `DESTDIR=${stage}`], join(source, tree));

    // The server install, copied whole, minus any pg_partman of its own; then this build on top.
    const assembled = join(work, 'install');
    cpSync(DEBIAN_BINDIR.replace(/\/bin$/, ''), join(assembled, DEBIAN_BINDIR.replace(/\/bin$/, '')), {
      recursive: true,
      verbatimSymlinks: true,
    });
    cpSync(DEBIAN_SHAREDIR, join(assembled, DEBIAN_SHAREDIR), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (path) => !/\/extension\/pg_partman[^/]*$/.test(path),
    });
    cpSync(stage, assembled, { recursive: true, verbatimSymlinks: true });
    rmSync(root, { recursive: true, force: true });
    renameSync(assembled, root);

    const install = describeInstall(root, version);
    if (!installWorks(install))
      throw new PgClientBuildError(
        `pg_partman ${version} built into ${root}, but its control file or server does not work; see ${logPath}`,
      );
    log(`built pg_partman ${version} in ${Math.round((Date.now() - started) / 1000)} s`);
    return install;
  } finally {
    runner.close();
    rmSync(work, { recursive: true, force: true });
  }
}
