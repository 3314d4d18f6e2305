/**
 * Child Node processes for the cluster test: the built server (`dist/main.js`) and standalone
 * workers (`dist/worker.js`), each started with its own environment, waited for until a log line
 * says it is ready, and stopped or killed by pid. Output is kept (last 20 kB) for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';

export interface NodeChild {
  readonly name: string;
  readonly process: ChildProcess;
  /** The first match of the readiness pattern. */
  readonly ready: RegExpExecArray;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Sends `signal` and resolves with the signal the process died of. */
  kill(signal: NodeJS.Signals): Promise<NodeJS.Signals | null>;
}

export async function startNodeChild(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<NodeChild> {
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave a half-started process behind
      reject(new Error(`${name} not ready after ${timeoutMs} ms:\n${output.slice(-3000)}`));
    }, timeoutMs);
    const check = (): void => {
      const found = ready.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${name} exited (${String(code ?? signal)}) before it was ready:\n${output.slice(-3000)}`,
        ),
      );
    });
  });
  const stopped = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    process: child,
    ready: match,
    output: () => output,
    kill: async (signal) => {
      if (!stopped()) child.kill(signal);
      return exited;
    },
    stop: async (graceMs = 5000) => {
      if (stopped()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Which of `pids` owns the TCP socket whose local port is `localPort` (Linux /proc): maps a
 * PostgreSQL backend's `client_port` to the process on the other end. Null when none does.
 */
export async function pidOwningLocalPort(
  localPort: number,
  pids: readonly number[],
): Promise<number | null> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      const local = columns[1];
      const inode = columns[9];
      if (local === undefined || inode === undefined) continue;
      if (Number.parseInt(local.split(':')[1] ?? '', 16) === localPort) inodes.add(inode);
    }
  }
  for (const pid of pids) {
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode !== undefined && inodes.has(inode)) return pid;
    }
  }
  return null;
}
