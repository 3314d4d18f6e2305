// The README's Quick start, tried the way people clone: as root (a container, a CI runner), in a
// folder only root can traverse (a `mktemp -d`, like root's home). The current commit is cloned
// there and both Quick start lines run as written in README.md, in a shell with a plain
// environment. The run line must come up without TESSERA_HOME (the embedded PostgreSQL runs as
// the OS user "postgres" and gets a per-checkout home outside the clone), answer health.check,
// print no ERROR, end its start-up with the console URL and the sign-up hint, and stop within
// 20 s of a SIGTERM to its process group (what a terminal's Ctrl-C or a service manager sends)
// leaving no process behind. A second start uses the same home. The test line runs with one test
// file as its filter: the whole suite inside the suite would cost CI tens of minutes, and one
// database test already exercises all of its machinery (build, vitest's global setup starting the
// embedded PostgreSQL as "postgres" from the 0700 clone, a migrated template, a server start).
// Two deviations, neither touching what is tested: PORT is a free port (a developer's own
// server may hold 3000), and turbo reads this checkout's build cache, so the clone restores
// `dist/` instead of compiling for two minutes. Runs as root or with CI=true; otherwise skipped.
// Uncommitted changes are not in the clone: commit before running it locally.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@tessera/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const STOP_BOUND_MS = 20_000;
const READY_LINE =
  /Tessera is listening on (http:\/\/\S+) \(console: (http:\/\/\S+)\)\. Create the first tenant and its owner at (http:\/\/\S+)/;

const runs = process.env.CI === 'true' || process.getuid?.() === 0;
if (!runs) process.stdout.write('skipped: the fresh-clone test runs as root or with CI=true\n');

/** The two command lines of the README's Quick start block. */
function quickStartLines(): { run: string; test: string } {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const [run, testLine, ...rest] = block.trim().split('\n');
  if (!run || !testLine || rest.length)
    throw new Error('README Quick start: expected two command lines');
  return { run, test: testLine };
}

/** The build cache of this checkout (or of the main worktree it belongs to), if there is one. */
function turboCacheOfThisCheckout(): string | null {
  const common = execFileSync('git', [
    '-C',
    REPO,
    'rev-parse',
    '--path-format=absolute',
    '--git-common-dir',
  ])
    .toString()
    .trim();
  return (
    [path.join(REPO, '.turbo', 'cache'), path.join(path.dirname(common), '.turbo', 'cache')].find(
      (dir) => existsSync(dir),
    ) ?? null
  );
}

interface Run {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

/** Runs `command` in `sh -c` as the leader of its own process group, collecting every line. */
function shell(command: string, cwd: string, env: NodeJS.ProcessEnv): Run {
  const child = spawn('sh', ['-c', command], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      output.push(...lines);
    });
    stream.on('end', () => partial && output.push(partial));
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output, exited };
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line or working folder lies in one of `folders` (not this one). */
function processesIn(folders: readonly string[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter(
    (name) => /^\d+$/.test(name) && Number(name) !== process.pid,
  )) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (
        folders.some(
          (folder) => cmdline.includes(folder) || cwd === folder || cwd.startsWith(`${folder}/`),
        )
      )
        found.push(`${pid} ${cmdline}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** The home a start-up log names when it moved out of the checkout ('' when none). */
function homeNamedIn(output: readonly string[]): string {
  return output.map((line) => /^TESSERA_HOME is (\/\S+): /.exec(line)?.[1]).find(Boolean) ?? '';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The command lines of the README's "Other scripts" block. */
function otherScriptLines(): string[] {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const block = /Other scripts[^\n]*\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  return block
    .trim()
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, ''));
}

test('every other script in the README runs through npx, names a script of package.json, and avoids pnpm built-ins', () => {
  const { scripts } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const lines = otherScriptLines();
  expect(lines.length).toBeGreaterThan(5);
  for (const line of lines) {
    const match = /^(?:[A-Z_]+=\S+ )*npx -y pnpm@10\.34\.9 (run )?([a-z-]+)/.exec(line);
    expect(match, line).not.toBeNull();
    const [, run, script = ''] = match ?? [];
    expect(Object.keys(scripts), line).toContain(script);
    // `pnpm audit` is pnpm's dependency audit, whatever package.json says: the CLI needs `run`.
    if (script === 'audit') expect(run, line).toBe('run ');
  }
});

describe.skipIf(!runs)(
  'the README Quick start in a fresh clone under a 0700 folder, as root',
  () => {
    const lines = quickStartLines();
    const groups: number[] = [];
    let base = '';
    let clone = '';
    let home = '';
    let port = 0;
    let env: NodeJS.ProcessEnv = {};

    beforeAll(async () => {
      base = await mkdtemp(path.join(tmpdir(), 'tessera-fresh-clone-'));
      expect(statSync(base).mode & 0o777).toBe(0o700);
      clone = path.join(base, 'tessera');
      const head = execFileSync('git', ['-C', REPO, 'rev-parse', 'HEAD']).toString().trim();
      execFileSync('git', ['clone', '--quiet', '--no-checkout', REPO, clone]);
      execFileSync('git', ['-C', clone, 'checkout', '--quiet', head]);
      port = await freePort();
      const cache = turboCacheOfThisCheckout();
      // A plain login environment: nothing of this test run (NODE_ENV, VITEST_*, npm_*) leaks in.
      env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LANG: 'C.UTF-8',
        ...(process.env.CI ? { CI: process.env.CI } : {}),
        PORT: String(port),
        ...(cache ? { TURBO_CACHE_DIR: cache, TURBO_CACHE: 'local:r' } : {}),
      };
    });

    afterAll(async () => {
      for (const pgid of groups) if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
      if (home && /\/tessera\/tessera-[0-9a-f]{12}$/.test(home))
        await rm(home, { recursive: true, force: true });
      if (base) await rm(base, { recursive: true, force: true });
    });

    /** Starts `command`, waits for the ready line and a health.check answer, SIGTERMs the group, waits for it to empty. */
    async function runUntilHealthyThenStop(
      command: string,
      startBoundMs: number,
    ): Promise<{ output: string[]; stoppedInMs: number }> {
      const run = shell(command, clone, env);
      const pgid = run.child.pid ?? 0;
      groups.push(pgid);
      const started = Date.now();
      let healthy = false;
      while (!healthy) {
        if (run.child.exitCode !== null)
          throw new Error(
            `exited with ${run.child.exitCode} before answering:\n${run.output.slice(-40).join('\n')}`,
          );
        if (Date.now() - started > startBoundMs)
          throw new Error(
            `no health.check answer after ${startBoundMs} ms:\n${run.output.slice(-40).join('\n')}`,
          );
        await sleep(500);
        if (!run.output.some((line) => READY_LINE.test(line))) continue;
        const res = await fetch(`http://127.0.0.1:${port}/trpc/health.check`).catch(() => null);
        healthy =
          res !== null &&
          JSON.stringify(await res.json()) ===
            JSON.stringify({ result: { data: { status: 'ok', database: 'ok' } } });
      }
      home ||= homeNamedIn(run.output);
      const signalled = Date.now();
      process.kill(-pgid, 'SIGTERM');
      // The embedded PostgreSQL has a process group of its own: the server stops it after its pool.
      const gone = (): boolean => !groupAlive(pgid) && processesIn([clone, home]).length === 0;
      while (!gone() && Date.now() - signalled < STOP_BOUND_MS + 5_000) await sleep(100);
      const stoppedInMs = Date.now() - signalled;
      await run.exited;
      return { output: run.output, stoppedInMs };
    }

    test('the run line starts without TESSERA_HOME, answers health.check, logs no ERROR, and a SIGTERM stops everything within 20 s', async () => {
      const { output, stoppedInMs } = await runUntilHealthyThenStop(lines.run, 300_000);
      expect(home, 'the start-up log says where the home is').not.toBe('');
      expect(home.startsWith(`${clone}/`)).toBe(false);
      expect(path.basename(home)).toMatch(/^tessera-[0-9a-f]{12}$/);
      // Root owns the home (secrets.json stays 0600), the postgres user owns its data folder, 0700.
      const pgdata = statSync(path.join(home, 'pgdata'));
      expect(statSync(home).uid).toBe(0);
      expect(statSync(path.join(home, 'secrets.json')).mode & 0o777).toBe(0o600);
      expect(pgdata.uid).toBe(Number(execFileSync('id', ['-u', 'postgres']).toString().trim()));
      expect(pgdata.mode & 0o777).toBe(0o700);

      expect(output.filter((line) => /\b(ERROR|FATAL|PANIC)\b/.test(line))).toEqual([]);
      const shutdown = output.findIndex((line) => line.includes('"msg":"shutting down"'));
      const startUp = output.slice(0, shutdown === -1 ? output.length : shutdown);
      // JSON without a terminal; the last start-up entry (requests aside) names the console and sign-up.
      const entries = startUp
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg: string; reqId?: string });
      const last = entries.filter((entry) => !entry.reqId).at(-1);
      const [, , consoleUrl, signUp] = READY_LINE.exec(last?.msg ?? '') ?? [];
      expect(consoleUrl).toBe(`http://localhost:${port}/`);
      expect(signUp).toBe(`http://localhost:${port}/sign-up`);

      expect(stoppedInMs).toBeLessThan(STOP_BOUND_MS);
      expect(processesIn([clone, home])).toEqual([]);
    }, 360_000);

    test('a second start finds the same home and its secrets, and stops as cleanly', async () => {
      expect(home, 'needs the first start').not.toBe('');
      const secondStart = lines.run.split(' && ').at(-1) ?? '';
      const { output, stoppedInMs } = await runUntilHealthyThenStop(secondStart, 120_000);
      expect(output).toContain(
        `TESSERA_HOME is ${home}: started as root, the embedded PostgreSQL runs as the OS user "postgres", who cannot reach the checkout's .tessera/. This folder belongs to this checkout and is used again on every start; set TESSERA_HOME to choose another.`,
      );
      expect(output.some((line) => line.includes(`secrets read from ${home}/secrets.json`))).toBe(
        true,
      );
      expect(output.filter((line) => /\b(ERROR|FATAL|PANIC)\b/.test(line))).toEqual([]);
      expect(stoppedInMs).toBeLessThan(STOP_BOUND_MS);
      expect(processesIn([clone, home])).toEqual([]);
    }, 180_000);

    test("the README form of the audit CLI reaches it in the clone, not pnpm's dependency audit (needs the run line's build)", async () => {
      // The one README script whose name is also a pnpm command; the others reach their CLI plainly.
      const run = shell('npx -y pnpm@10.34.9 run audit verify', clone, env);
      groups.push(run.child.pid ?? 0);
      expect(await run.exited).not.toBe(0); // the CLI's own refusal, exit 1
      expect(run.output.join('\n')).toContain(
        'the audit CLI needs DATABASE_URL and APP_DATABASE_URL',
      );
    }, 60_000);

    test('the test line passes in the same clone (narrowed to the server start-up database test)', async () => {
      const run = shell(`${lines.test} apps/server/src/start.db.test.ts`, clone, env);
      groups.push(run.child.pid ?? 0);
      const code = await run.exited;
      expect(code, run.output.slice(-40).join('\n')).toBe(0);
      // eslint-disable-next-line no-control-regex -- vitest colours its summary even in a pipe
      expect(run.output.join('\n').replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/Test Files\s+1 passed/);
    }, 300_000);
  },
);
