/**
 * Test helpers for Debian tools the Redis and cluster tests drive (DESIGN "Tests and CI"): find an
 * executable on PATH, pick a free loopback port, start Debian's `redis-server` with persistence
 * off. The caller decides what a missing tool means (skip locally, fail under CI=true).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
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
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${String(code)}: ${output.slice(-500)}`)));
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
