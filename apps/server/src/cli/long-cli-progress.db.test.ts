// The long operator CLIs (import-legacy, rotate-keys, backup, restore, audit export) run as real
// child processes of their built files against real PostgreSQL: a live bar on a pseudo terminal
// (Debian's `script`), plain lines without one, JSON lines with --json, exit 1 and the refused rows
// on a partial failure, and Ctrl-C (SIGINT) mid-way followed by a rerun that completes with the
// right data and no temporary file left. `--pace-ms` slows the interrupted runs down per
// batch, so the signal always lands while work remains; no assertion depends on timing.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyringSpec, parseKeyring } from '@tessera/auth';
import { enqueueEmail } from '@tessera/auth/outbox';
import { recordAuditEvent } from '@tessera/auth/audit';
import { clusterUrl, findExecutable, useTestDatabase } from '@tessera/db/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const db = useTestDatabase();
const CLI = fileURLToPath(new URL('../../dist/cli/', import.meta.url));
const OLD_KEYS = generateKeyringSpec(1);
const NEW_KEYS = `${generateKeyringSpec(2)},${OLD_KEYS}`;
const HASH = `$2b$04$${'a'.repeat(53)}`;
/** Each child process loads the whole server stack (1-2 s of CPU); a busy CI machine needs room. */
const SLOW = 180_000;
let home: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
type JsonEvent = Record<string, unknown> & { type: string };

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'tessera-cli-progress-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

function envFor(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.ownerUrl,
    APP_DATABASE_URL: db.appUrl,
    DATA_ENCRYPTION_KEYS: OLD_KEYS,
    TESSERA_HOME: home,
    NODE_ENV: 'development',
    ...extra,
  };
  delete env.APP_DATABASE_DIRECT_URL;
  return env;
}

/** Runs `cli` to the end; `interruptWhen` sends SIGINT on the first --json event it accepts. */
function runCli(
  cli: string,
  args: string[],
  options: { env?: Record<string, string>; interruptWhen?: (event: JsonEvent) => boolean } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [path.join(CLI, cli), ...args], {
    env: envFor(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (!options.interruptWhen || interrupted) return;
    for (const line of stderr.split('\n').slice(0, -1)) {
      if (line.startsWith('{') && options.interruptWhen(JSON.parse(line) as JsonEvent)) {
        interrupted = child.kill('SIGINT');
        break;
      }
    }
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

function events(run: Run): JsonEvent[] {
  return run.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as JsonEvent);
}
const summaryOf = (run: Run): JsonEvent => events(run).at(-1) ?? { type: 'none' };
const midway = (event: JsonEvent): boolean =>
  event.type === 'progress' &&
  Number(event.done) > 0 &&
  Number(event.done) < Number(event.total ?? Infinity);

async function usersFile(name: string, lines: string[]): Promise<string> {
  const file = path.join(home, name);
  await writeFile(file, ['email,role,password_hash', ...lines, ''].join('\n'));
  return file;
}

async function emailsOf(tenantId: string): Promise<string[]> {
  const { rows } = await db.owner.pool.query<{ email: string }>(
    'SELECT email FROM users WHERE tenant_id = $1 ORDER BY email',
    [tenantId],
  );
  return rows.map((r) => r.email);
}

const people = (n: number, prefix: string): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}@example.com`);

describe('on a pseudo terminal', () => {
  const script = findExecutable('script', process.env.PATH ?? '');
  if (!script) {
    if (process.env.CI === 'true')
      test('script (bsdutils) is installed', () => {
        throw new Error('script is missing: add bsdutils to .ci/apt-packages');
      });
    else process.stdout.write('skipped: install bsdutils\n');
    return;
  }
  test(
    'import-legacy draws a bar with rows done, rate and time left, then its summary',
    async () => {
      const tenant = await db.seedTenant();
      const file = await usersFile(
        'tty.csv',
        people(30, 'tty').map((e) => `${e},member,${HASH}`),
      );
      const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
      const command = [process.execPath, path.join(CLI, 'import-legacy.js'), tenant.slug, file]
        .map(quote)
        .join(' ');
      const child = spawn(script, ['-qfec', command, '/dev/null'], {
        env: envFor(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => void (output += chunk.toString()));
      const code = await new Promise((resolve) => child.once('close', resolve));
      expect(code).toBe(0);
      const screen = output.replace(/\r/g, '\n');
      expect(screen).toMatch(/users \[[█░]+\] 100% \| 30 of 30 \| \d+ rows\/s \| \S+ left/);
      expect(screen).toContain('\u001b[?25l'); // the bar hides the cursor while it draws ...
      expect(screen).toContain('\u001b[?25h'); // ... and shows it again
      expect(screen).toMatch(/imported 30, already present 0, duplicates in the file 0, refused 0/);
      expect(await emailsOf(tenant.id)).toEqual(people(30, 'tty'));
    },
    SLOW,
  );
});

describe('import-legacy', () => {
  test('without a terminal: plain progress lines, refused rows by line number, exit 1, the rest imported', async () => {
    const tenant = await db.seedTenant();
    const good = people(40, 'plain');
    const file = await usersFile('plain.csv', [
      ...good.slice(0, 1).map((e) => `${e},member,${HASH}`),
      `not-an-address,member,${HASH}`, // line 3
      ...good.slice(1, 20).map((e) => `${e},admin,${HASH}`),
      `cost@example.com,member,$2b$15$${'a'.repeat(53)}`, // line 23
      `role@example.com,superuser,${HASH}`, // line 24
      ...good.slice(20).map((e) => `${e},member,${HASH}`),
      `${good[0]},member,${HASH}`, // line 45: a duplicate
    ]);
    const run = await runCli('import-legacy.js', [tenant.slug, file, '--batch-size', '5']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    const progress = lines.filter((l) => l.startsWith('import-legacy: users '));
    expect(progress.length).toBeGreaterThanOrEqual(5); // one per further 10% of 44 rows in batches of 5
    expect(progress.at(-1)).toMatch(/^import-legacy: users 44 of 44 rows \(100%\), \d+ rows\/s/);
    expect(progress[1]).toMatch(/about \S+ left$/);
    expect(lines).toContain(
      'import-legacy: 44 rows: imported 40, already present 0, duplicates in the file 1, refused 3',
    );
    expect(lines).toContain('  line 3 (not-an-address): the e-mail address is not valid.');
    expect(lines.join('\n')).toMatch(/line 23 \(cost@example.com\): bcrypt cost 15 is above/);
    expect(lines).toContain('  line 24 (role@example.com): unknown role "superuser".');
    expect(lines).toContain(`  line 45 (${good[0]}): e-mail already earlier in the file`);
    expect(await emailsOf(tenant.id)).toEqual([...good].sort());
  });

  test('--json: one object per line on stderr, progress events and a summary listing refused rows', async () => {
    const tenant = await db.seedTenant();
    const file = await usersFile('json.csv', [
      ...people(12, 'json').map((e) => `${e},member,${HASH}`),
      `bad,member,${HASH}`,
    ]);
    const run = await runCli('import-legacy.js', [
      tenant.slug,
      file,
      '--json',
      '--batch-size',
      '4',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const all = events(run);
    const progress = all.filter((e) => e.type === 'progress');
    expect(progress[0]).toEqual({
      type: 'progress',
      command: 'import-legacy',
      phase: 'users',
      unit: 'rows',
      done: 0,
      total: 13,
      ratePerSecond: 0,
      secondsLeft: null,
      elapsedSeconds: 0,
    });
    expect(progress.map((e) => e.done)).toEqual([0, 1, 5, 9, 13]); // the refused row counts at once
    for (const e of progress.slice(2)) {
      // after a batch has gone through; right at the start the rate is unknown (secondsLeft null)
      expect(e.ratePerSecond).toBeGreaterThan(0);
      expect(typeof e.secondsLeft).toBe('number');
    }
    expect(summaryOf(run)).toMatchObject({
      type: 'summary',
      command: 'import-legacy',
      status: 'partial',
      exitCode: 1,
      rows: 13,
      processed: 13,
      imported: 12,
      alreadyPresent: 0,
      duplicates: [],
      refused: [{ where: 'line 14', email: 'bad', reason: 'the e-mail address is not valid.' }],
    });
    expect(all.filter((e) => e.type === 'summary')).toHaveLength(1);
  });

  test(
    'Ctrl-C stops after a whole batch (exit 130); the rerun imports the rest and skips what is there',
    async () => {
      const tenant = await db.seedTenant();
      const everyone = people(60, 'ctrlc');
      const file = await usersFile(
        'ctrlc.csv',
        everyone.map((e) => `${e},member,${HASH}`),
      );
      const args = [tenant.slug, file, '--json', '--batch-size', '5'];
      const stopped = await runCli('import-legacy.js', [...args, '--pace-ms', '200'], {
        interruptWhen: midway,
      });
      expect(stopped.code).toBe(130);
      const first = summaryOf(stopped);
      expect(first).toMatchObject({ status: 'interrupted', exitCode: 130, rows: 60 });
      const processed = Number(first.processed);
      expect(processed % 5).toBe(0); // whole batches only
      expect(processed).toBeGreaterThan(0);
      expect(processed).toBeLessThan(60);
      expect(await emailsOf(tenant.id)).toEqual(everyone.slice(0, processed));

      const rerun = await runCli('import-legacy.js', args);
      expect(rerun.code).toBe(0);
      expect(summaryOf(rerun)).toMatchObject({
        status: 'ok',
        imported: 60 - processed,
        alreadyPresent: processed,
      });
      expect(await emailsOf(tenant.id)).toEqual(everyone);
    },
    SLOW,
  );
});

describe('rotate-keys', () => {
  test(
    'Ctrl-C stops between rows; the rerun re-encrypts only the rows still under the old key',
    async () => {
      const oldRing = parseKeyring(OLD_KEYS);
      const tenant = await db.seedTenant();
      const ids: string[] = [];
      for (let i = 0; i < 12; i += 1)
        ids.push(
          await db.withTenant(tenant.id, (tx) =>
            enqueueEmail(
              tx,
              oldRing,
              { userId: null, address: `r${i}@example.com` },
              { name: 'password_changed', tenantName: 'T' },
              new Date(),
            ),
          ),
        );
      const keyVersions = async (): Promise<string[]> =>
        (
          await db.owner.pool.query<{ v: string }>(
            "SELECT split_part(body, '.', 1) AS v FROM email_outbox WHERE id = ANY($1) ORDER BY id",
            [ids],
          )
        ).rows.map((r) => r.v);

      const stopped = await runCli('rotate-keys.js', ['--json', '--pace-ms', '200'], {
        env: { DATA_ENCRYPTION_KEYS: NEW_KEYS },
        interruptWhen: midway,
      });
      expect(stopped.code).toBe(130);
      const first = summaryOf(stopped);
      expect(first).toMatchObject({ status: 'interrupted', passes: { ssoClientSecrets: null } });
      const moved = (await keyVersions()).filter((v) => v === 'v2').length;
      expect(moved).toBe(Number(first.reencrypted));
      expect(moved).toBeGreaterThan(0);
      expect(moved).toBeLessThan(12);

      const rerun = await runCli('rotate-keys.js', ['--json'], {
        env: { DATA_ENCRYPTION_KEYS: NEW_KEYS },
      });
      expect(rerun.code).toBe(0);
      expect(summaryOf(rerun)).toMatchObject({ status: 'ok', reencrypted: 12 - moved, failed: [] });
      expect(await keyVersions()).toEqual(ids.map(() => 'v2'));
      const ring = parseKeyring(NEW_KEYS);
      const { rows } = await db.owner.pool.query<{ id: string; body: string }>(
        'SELECT id, body FROM email_outbox WHERE id = ANY($1)',
        [ids],
      );
      for (const row of rows)
        expect(
          ring.decryptString(row.body, {
            purpose: 'email_outbox.body',
            tenantId: tenant.id,
            rowId: row.id,
          }),
        ).toContain('password');
    },
    SLOW,
  );
});

describe('backup, restore and audit export', () => {
  const target = `restored_${randomBytes(5).toString('hex')}`;
  async function admin(statement: string): Promise<void> {
    const client = new pg.Client({ connectionString: clusterUrl(db.info, 'postgres', 'owner') });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  }
  beforeAll(async () => {
    await admin(`CREATE DATABASE ${target}`); // a generated name ([a-z0-9_] only)
  });
  afterAll(async () => {
    await admin(`DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
  });

  test(
    'Ctrl-C leaves no backup and no temporary file; the rerun and an interrupted-then-rerun restore complete',
    async () => {
      const tenant = await db.seedTenant();
      const file = path.join(home, 'ctrlc.backup');
      const stopped = await runCli('backup.js', ['--json', '--pace-ms', '100', file], {
        interruptWhen: midway,
      });
      expect(stopped.code).toBe(130);
      expect(summaryOf(stopped)).toMatchObject({ status: 'interrupted', command: 'backup' });
      expect((await readdir(home)).filter((n) => n.startsWith('ctrlc.backup'))).toEqual([]);

      const backup = await runCli('backup.js', ['--json', file]);
      expect(backup.code).toBe(0);
      expect(summaryOf(backup)).toMatchObject({ status: 'ok', file });
      expect((await readdir(home)).filter((n) => n.startsWith('ctrlc.backup'))).toEqual([
        'ctrlc.backup',
      ]);
      const progress = events(backup).filter((e) => e.type === 'progress');
      expect(progress.at(-1)).toMatchObject({ phase: 'rows', done: summaryOf(backup).rows });

      const into = {
        DATABASE_URL: clusterUrl(db.info, target, 'owner'),
        APP_DATABASE_URL: clusterUrl(db.info, target, 'runtime'),
      };
      const halfway = await runCli('restore.js', ['--json', '--pace-ms', '100', file], {
        env: into,
        interruptWhen: midway,
      });
      expect(halfway.code).toBe(130);
      expect(summaryOf(halfway)).toMatchObject({ status: 'interrupted', command: 'restore' });
      const restored = new pg.Client({ connectionString: into.DATABASE_URL });
      await restored.connect();
      try {
        expect((await restored.query('SELECT count(*)::int AS n FROM tenants')).rows[0]).toEqual({
          n: 0,
        }); // rolled back

        const restore = await runCli('restore.js', ['--json', file], { env: into });
        expect(restore.code).toBe(0);
        expect(summaryOf(restore)).toMatchObject({ status: 'ok', rows: summaryOf(backup).rows });
        const query = 'SELECT id, slug FROM tenants ORDER BY id';
        expect((await restored.query(query)).rows).toEqual((await db.owner.pool.query(query)).rows);
        expect((await restored.query(query)).rows).toContainEqual({
          id: tenant.id,
          slug: tenant.slug,
        });
        expect(
          (await restored.query("SELECT to_regclass('public.tessera_restore_in_progress') AS t"))
            .rows[0],
        ).toEqual({ t: null });
      } finally {
        await restored.end();
      }
    },
    SLOW,
  );

  test(
    'audit export --out: Ctrl-C leaves no file; the rerun writes every row once',
    async () => {
      const tenant = await db.seedTenant();
      await db.withTenant(tenant.id, async (tx) => {
        for (let i = 0; i < 24; i += 1)
          await recordAuditEvent(tx, {
            actor: { type: 'system', id: null },
            action: 'user.imported',
            metadata: { imported: 1, skipped: 0 },
          });
      });
      const out = path.join(home, 'audit.jsonl');
      const args = ['export', tenant.slug, '--out', out, '--json', '--batch-size', '3'];
      const stopped = await runCli('audit.js', [...args, '--pace-ms', '200'], {
        interruptWhen: midway,
      });
      expect(stopped.code).toBe(130);
      expect(summaryOf(stopped)).toMatchObject({ status: 'interrupted', command: 'audit export' });
      expect((await readdir(home)).filter((n) => n.startsWith('audit.jsonl'))).toEqual([]);

      const rerun = await runCli('audit.js', args);
      expect(rerun.code).toBe(0);
      const rows = (await readFile(out, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { seq: number; action: string });
      // The 24 events, then one audit.log.exported per run (each recorded before its export reads).
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      expect(rows.filter((r) => r.action === 'user.imported')).toHaveLength(24);
      expect(summaryOf(rerun)).toMatchObject({ status: 'ok', rows: rows.length, file: out });
      expect((await readdir(home)).filter((n) => n.startsWith('audit.jsonl'))).toEqual([
        'audit.jsonl',
      ]);
    },
    SLOW,
  );
});
