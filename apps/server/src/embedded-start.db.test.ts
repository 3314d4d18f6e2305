// A newcomer's first start: the embedded PostgreSQL is initialised in a fresh home, migrated, and
// the server with its in-process workers comes up and goes down without a single ERROR, FATAL or
// PANIC line from PostgreSQL (they reach the start-up log) and answers health.check in between.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from './config.js';
import { start } from './start.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'tessera-first-start-'));
  await chmod(root, 0o755); // an explicit TESSERA_HOME must be reachable for the OS user "postgres" (root)
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

test('a clean start and stop on the embedded database logs no PostgreSQL ERROR', async () => {
  const lines: string[] = [];
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    TESSERA_HOME: path.join(root, 'home'),
    HASHING_LOW_PRIORITY: 'off',
  });
  const running = await start(config, (line) => lines.push(line));
  try {
    const res = await fetch(`${running.url}/trpc/health.check`);
    expect(await res.json()).toEqual({ result: { data: { status: 'ok', database: 'ok' } } });
    await new Promise((resolve) => setTimeout(resolve, 500)); // PostgreSQL's log arrives through a pipe
  } finally {
    await running.stop();
  }
  expect(lines.some((line) => line.startsWith('applied 0001_'))).toBe(true);
  expect(lines.filter((line) => /\b(ERROR|FATAL|PANIC)\b/.test(line))).toEqual([]);
}, 90_000);
