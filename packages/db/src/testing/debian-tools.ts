/**
 * Test helpers for Debian tools the Redis, cluster and pooler tests drive (docs/design.md "Tests and CI"):
 * find an executable on PATH, pick a free loopback port, start Debian's `redis-server` with
 * persistence off, start Debian's `pgbouncer` in front of a PostgreSQL. The caller decides what a
 * missing tool means (skip locally, fail under CI=true).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chown, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { freePort } from '../embedded.js';

export { freePort };

/** The first executable `name` on `searchPath` (plus /usr/bin and /usr/sbin), else null. */
export function findExecutable(name: string, searchPath: string): string | null {
  for (const dir of searchPath.split(path.delimiter).concat(['/usr/bin', '/usr/sbin'])) {
    if (dir === '') continue;
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return path.join(dir, name);
    } catch {
      // not here
    }
  }
  return null;
}

export interface RedisServer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `redis-server` on a free loopback port, no RDB or AOF, data folder `dir`. */
export async function startRedisServer(binary: string, dir: string): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.on('exit', (code) =>
      reject(new Error(`redis-server exited with ${String(code)}: ${output.slice(-500)}`)),
    );
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `redis://127.0.0.1:${port}`,
    process: child,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface PgBouncerOptions {
  /** The PostgreSQL behind it (loopback TCP). */
  upstream: { host: string; port: number };
  /** Databases served, each under its own name upstream. */
  databases: readonly string[];
  /** Who may connect (plain-text passwords, also used to log in upstream). */
  users: readonly { name: string; password: string }[];
  /** A user (also in `users`) allowed on the admin console, database `pgbouncer`. */
  adminUser: string;
  /** `[pgbouncer]` settings over the defaults: pool_mode transaction, default_pool_size 4, scram-sha-256. */
  settings?: Record<string, string>;
}

export interface PgBouncer {
  port: number;
  url(database: string, user: string, password: string): string;
  process: ChildProcess;
  /** Its log so far (stderr). */
  output(): string;
  stop(): Promise<void>;
}

const quoted = (value: string): string => `"${value.replaceAll('"', '""')}"`;

/**
 * Starts Debian's `pgbouncer` (1.18) on a free loopback port with its ini and userlist in `dir`.
 * PgBouncer refuses to run as root: as root it runs as the OS user `postgres` (the embedded
 * PostgreSQL's), and `dir` is handed to that user.
 */
export async function startPgBouncer(
  binary: string,
  dir: string,
  options: PgBouncerOptions,
): Promise<PgBouncer> {
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addr: '127.0.0.1',
    listen_port: String(port),
    unix_socket_dir: '',
    auth_type: 'scram-sha-256',
    auth_file: path.join(dir, 'userlist.txt'),
    admin_users: options.adminUser,
    pool_mode: 'transaction',
    default_pool_size: '4',
    max_client_conn: '500',
    logfile: '',
    pidfile: '',
    ...options.settings,
  };
  const databases = options.databases.map(
    (name) =>
      `${name} = host=${options.upstream.host} port=${options.upstream.port} dbname=${name}`,
  );
  const ini = [
    '[databases]',
    ...databases,
    '',
    '[pgbouncer]',
    ...Object.entries(settings).map(([k, v]) => `${k} = ${v}`),
    '',
  ].join('\n');
  const iniFile = path.join(dir, 'pgbouncer.ini');
  await writeFile(iniFile, ini, { mode: 0o600 });
  await writeFile(
    settings.auth_file ?? '',
    options.users.map((u) => `${quoted(u.name)} ${quoted(u.password)}`).join('\n') + '\n',
    { mode: 0o600 },
  );
  let runAs: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    const id = (flag: string): number =>
      Number(execFileSync('id', [flag, 'postgres']).toString().trim());
    runAs = { uid: id('-u'), gid: id('-g') };
    for (const file of [dir, iniFile, settings.auth_file ?? ''])
      await chown(file, runAs.uid, runAs.gid);
  }
  const child = spawn(binary, [iniFile], { stdio: ['ignore', 'pipe', 'pipe'], ...runAs });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (): void => {
      if (output.includes(`listening on 127.0.0.1:${port}`)) resolve();
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`pgbouncer exited with ${String(code)}: ${output.slice(-500)}`)),
    );
  });
  return {
    port,
    url: (database, user, password) =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
