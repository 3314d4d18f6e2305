import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyringSpec, parseKeyring } from '@tessera/auth';
import { enqueueEmail } from '@tessera/auth/outbox';
import { emailOutbox } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createOutboxSender,
  fileTransport,
  outboxBackoffMs,
  smtpTransport,
  type MailMessage,
  type MailTransport,
  type OutboxSenderDeps,
  type WorkerLogger,
} from './outbox-sender.js';

const db = useTestDatabase();
const keyring = parseKeyring(generateKeyringSpec());
// One fixed clock for the sender's own decisions (sent_at, backoff, the due check in the row's
// tenant). The listing reads the database clock, so rows a test leaves undelivered stay listed;
// the loop tests run on the real clock, where such rows are retried and pushed out of the way.
const T0 = new Date('2026-03-01T12:00:00Z');

type LogLine = { level: 'info' | 'warn'; obj: object; msg: string };

function recordingLogger(): WorkerLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
  };
}

function recordingTransport(delayMs = 0): MailTransport & { sent: MailMessage[] } {
  const sent: MailMessage[] = [];
  return {
    sent,
    send: async (message) => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      sent.push(message);
    },
  };
}

function sender(overrides: Partial<OutboxSenderDeps> = {}): ReturnType<typeof createOutboxSender> {
  return createOutboxSender({
    database: db.app,
    keyring,
    transport: recordingTransport(),
    logger: recordingLogger(),
    now: () => T0,
    ...overrides,
  });
}

async function enqueueReset(tenantId: string, address: string, link: string): Promise<string> {
  const template = { name: 'password_reset', tenantName: 'Acme', link } as const;
  const to = { userId: null, address };
  return db.withTenant(tenantId, (tx) => enqueueEmail(tx, keyring, to, template, T0));
}

async function readRow(tenantId: string, id: string): Promise<typeof emailOutbox.$inferSelect> {
  const rows = await db.withTenant(tenantId, (tx) => tx.select().from(emailOutbox));
  const row = rows.find((r) => r.id === id);
  if (!row) throw new Error(`outbox row ${id} is not visible in tenant ${tenantId}`);
  return row;
}

describe('delivery', () => {
  test('delivered mail reaches the transport decrypted, then its body is scrubbed', async () => {
    const tenant = await db.seedTenant();
    const link = 'https://tessera.test/reset#tok-delivered';
    const id = await enqueueReset(tenant.id, 'ada@example.test', link);
    const transport = recordingTransport();
    const outbox = sender({ transport });

    expect(await outbox.sendDue()).toEqual({ sent: 1, failed: 0 });
    expect(transport.sent).toEqual([
      {
        to: 'ada@example.test',
        subject: 'Reset your Acme password',
        text: expect.stringContaining(link),
      },
    ]);
    const row = await readRow(tenant.id, id);
    expect(row.body).toBeNull();
    expect(row.sentAt).toEqual(T0);
    expect(row.lastError).toBeNull();
    expect(await outbox.sendDue()).toEqual({ sent: 0, failed: 0 }); // sent mail is never listed again
  });

  test('a failing transport records the attempt, keeps the body and backs off', async () => {
    const tenant = await db.seedTenant();
    const link = 'https://tessera.test/reset#tok-failing';
    const id = await enqueueReset(tenant.id, 'bob@example.test', link);
    const sealed = (await readRow(tenant.id, id)).body;
    const logger = recordingLogger();
    const failing: MailTransport = {
      send: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:25')),
    };

    expect(await sender({ transport: failing, logger }).sendDue()).toEqual({ sent: 0, failed: 1 });
    const row = await readRow(tenant.id, id);
    expect(row).toMatchObject({ attempts: 1, sentAt: null, body: sealed });
    expect(row.lastError).toBe('Error: connect ECONNREFUSED 127.0.0.1:25');
    expect(row.sendAfter).toEqual(new Date(T0.getTime() + 30_000));
    expect(JSON.stringify(logger.lines)).not.toContain('tok-failing');
    expect(JSON.stringify(logger.lines)).not.toContain(sealed);

    // Not retried before its backoff ends; delivered once it does.
    const transport = recordingTransport();
    expect(await sender({ transport }).sendDue()).toEqual({ sent: 0, failed: 0 });
    const later = new Date(T0.getTime() + 30_000);
    expect(await sender({ transport, now: () => later }).sendDue()).toEqual({ sent: 1, failed: 0 });
    expect(await readRow(tenant.id, id)).toMatchObject({
      attempts: 1,
      lastError: null,
      body: null,
    });
  });

  test('after the tenth failure a message is no longer retried, and the log says so', async () => {
    const tenant = await db.seedTenant();
    const id = await enqueueReset(
      tenant.id,
      'dead@example.test',
      'https://tessera.test/r#tok-dead',
    );
    await db.withTenant(tenant.id, (tx) =>
      tx.client.query('UPDATE public.email_outbox SET attempts = 9 WHERE id = $1', [id]),
    );
    const logger = recordingLogger();
    const failing: MailTransport = { send: () => Promise.reject(new Error('550 rejected')) };
    expect(await sender({ transport: failing, logger }).sendDue()).toEqual({ sent: 0, failed: 1 });
    expect(logger.lines.map((l) => l.msg)).toContain(
      'outbox mail not delivered; giving up (runbook: email-delivery)',
    );
    const muchLater = new Date(T0.getTime() + 86_400_000);
    const transport = recordingTransport();
    expect(await sender({ transport, now: () => muchLater }).sendDue()).toEqual({
      sent: 0,
      failed: 0,
    });
    expect(await readRow(tenant.id, id)).toMatchObject({ attempts: 10, sentAt: null });
  });

  test('backoff doubles from 30 seconds and stops growing at one hour', () => {
    expect([1, 2, 3, 4].map(outboxBackoffMs)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(outboxBackoffMs(8)).toBe(3_600_000);
    expect(outboxBackoffMs(40)).toBe(3_600_000);
  });

  test('two senders running at once deliver each message exactly once', async () => {
    const tenant = await db.seedTenant();
    const links = Array.from(
      { length: 12 },
      (_, i) => `https://tessera.test/reset#tok-race-${String(i).padStart(2, '0')}`,
    );
    for (const link of links) await enqueueReset(tenant.id, 'race@example.test', link);
    const transport = recordingTransport(15); // slow enough that both senders hold rows at once
    const [a, b] = await Promise.all([
      sender({ transport }).sendDue(),
      sender({ transport }).sendDue(),
    ]);

    expect(a.sent + b.sent).toBe(12);
    expect(a.failed + b.failed).toBe(0);
    const delivered = transport.sent.map((m) => links.find((link) => m.text.includes(link)));
    expect(delivered).toHaveLength(12);
    expect(new Set(delivered)).toEqual(new Set(links));
  });
});

describe('tenant binding', () => {
  test("a ciphertext copied to another tenant's row fails and is recorded, never sent", async () => {
    const a = await db.seedTenant();
    const b = await db.seedTenant();
    const idA = await enqueueReset(
      a.id,
      'victim@a.example.test',
      'https://tessera.test/reset#tok-of-a',
    );
    const stolen = (await readRow(a.id, idA)).body;
    const idB = await db.withTenant(b.id, async (tx) => {
      const [row] = await tx
        .insert(emailOutbox)
        .values({
          tenantId: b.id,
          toAddress: 'attacker@b.example.test',
          template: 'password_reset',
          subject: 'x',
          body: stolen,
          createdAt: T0,
          sendAfter: T0,
        })
        .returning({ id: emailOutbox.id });
      if (!row) throw new Error('insert returned nothing');
      return row.id;
    });
    const transport = recordingTransport();

    expect(await sender({ transport }).sendDue()).toEqual({ sent: 1, failed: 1 });
    expect(transport.sent.map((m) => m.to)).toEqual(['victim@a.example.test']);
    expect(await readRow(a.id, idA)).toMatchObject({ body: null, sentAt: T0 });
    expect(await readRow(b.id, idB)).toMatchObject({
      body: stolen,
      sentAt: null,
      attempts: 1,
      lastError: 'DecryptionError: decryption failed',
    });
  });
});

describe('file transport (development without SMTP_URL)', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'tessera-mail-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  test('writes each message to a 0600 file in a 0700 folder and warns in the log', async () => {
    const tenant = await db.seedTenant();
    const link = 'https://tessera.test/reset#tok-file';
    await enqueueReset(tenant.id, 'dev@example.test', link);
    const dir = join(home, 'mail');
    const logger = recordingLogger();

    expect(await sender({ transport: fileTransport(dir, logger) }).sendDue()).toEqual({
      sent: 1,
      failed: 0,
    });
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    const file = join(dir, files[0] ?? '');
    expect(files[0]).toMatch(/\.eml$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const eml = await readFile(file, 'utf8');
    expect(eml).toContain('To: dev@example.test\r\n');
    expect(eml).toContain('Subject: Reset your Acme password\r\n');
    expect(eml).toContain(link);
    expect(logger.lines).toEqual([
      {
        level: 'warn',
        obj: expect.objectContaining({ file, text: expect.stringContaining(link) }),
        msg: expect.stringContaining('DEVELOPMENT ONLY'),
      },
    ]);
  });

  test('header values cannot inject extra headers into the file', async () => {
    const dir = join(home, 'inject');
    await fileTransport(dir, recordingLogger()).send({
      to: 'x@example.test',
      subject: 'Hi\r\nBcc: evil@example.test',
      text: 'body',
    });
    const [name] = await readdir(dir);
    const eml = await readFile(join(dir, name ?? ''), 'utf8');
    expect(eml).toContain('Subject: Hi Bcc: evil@example.test\r\n');
    expect(eml).not.toMatch(/^Bcc:/m);
  });
});

/** A local SMTP fake (docs/contributing.md convention 13: what crosses the process boundary gets a local fake). */
type FakeSmtp = { url: string; messages: string[]; close(): Promise<void> };

async function fakeSmtpServer(): Promise<FakeSmtp> {
  const messages: string[] = [];
  const server = createServer((socket) => {
    let buffer = '';
    let data: string | null = null;
    socket.on('error', () => undefined);
    socket.write('220 fake ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data !== null && line !== '.') {
          data += `${line}\n`;
        } else if (data !== null) {
          messages.push(data);
          data = null;
          socket.write('250 queued\r\n');
        } else if (/^DATA/i.test(line)) {
          data = '';
          socket.write('354 go on\r\n');
        } else if (/^QUIT/i.test(line)) {
          socket.end('221 bye\r\n');
        } else {
          socket.write('250 ok\r\n'); // EHLO (no STARTTLS offered), MAIL FROM, RCPT TO
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('SMTP transport', () => {
  test('hands the message to the SMTP server named by the URL, from the default sender', async () => {
    const smtp = await fakeSmtpServer();
    try {
      const mail = { to: 'ada@example.test', subject: 'Hello', text: 'Plain body' };
      await smtpTransport(smtp.url).send(mail);
      await smtpTransport(smtp.url, { from: 'Acme <security@acme.test>' }).send(mail);
    } finally {
      await smtp.close();
    }
    expect(smtp.messages).toHaveLength(2);
    expect(smtp.messages[0]).toMatch(/^From: Tessera <no-reply@localhost>$/m);
    expect(smtp.messages[0]).toMatch(/^To: ada@example.test$/m);
    expect(smtp.messages[0]).toMatch(/^Subject: Hello$/m);
    expect(smtp.messages[0]).toContain('Plain body');
    expect(smtp.messages[1]).toMatch(/^From: Acme <security@acme.test>$/m);
  });
});

describe('loop', () => {
  async function until(condition: () => boolean, boundMs = 3_000): Promise<void> {
    const deadline = Date.now() + boundMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  test('a failing run is logged and the loop keeps going; stop() ends it', async () => {
    const tenant = await db.seedTenant();
    await enqueueReset(tenant.id, 'loop@example.test', 'https://tessera.test/reset#tok-loop-1');
    // The first listing fails (database briefly unavailable); the loop must log it and go on.
    let listings = 0;
    const pool = new Proxy(db.app.pool, {
      get(target, property) {
        if (property === 'query') {
          return (...args: Parameters<typeof target.query>) => {
            listings += 1;
            return listings === 1
              ? Promise.reject(new Error('database unavailable'))
              : target.query(...args);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function'
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    });
    const transport = recordingTransport();
    const logger = recordingLogger();
    const outbox = sender({
      transport,
      logger,
      database: { ...db.app, pool },
      now: () => new Date(),
    });

    outbox.start(5);
    expect(() => outbox.start(5)).toThrow(TypeError);
    await until(() => transport.sent.length === 1);
    await outbox.stop();
    expect(logger.lines).toContainEqual({
      level: 'warn',
      obj: { error: 'Error: database unavailable' },
      msg: 'outbox run failed; retrying later',
    });

    await enqueueReset(tenant.id, 'loop@example.test', 'https://tessera.test/reset#tok-loop-2');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(transport.sent).toHaveLength(1); // stopped: nothing more is sent
    expect(await outbox.sendDue()).toEqual({ sent: 1, failed: 0 }); // leave no due mail behind
  });

  test('runs never overlap, even with a slow transport and a short interval', async () => {
    const tenant = await db.seedTenant();
    for (const i of [0, 1, 2, 3]) {
      await enqueueReset(tenant.id, 'slow@example.test', `https://tessera.test/r#tok-slow-${i}`);
    }
    let inFlight = 0;
    let maxInFlight = 0;
    let delivered = 0;
    const slow: MailTransport = {
      send: async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight -= 1;
        delivered += 1;
      },
    };
    const outbox = sender({ transport: slow, batchSize: 1, now: () => new Date() });
    outbox.start(1);
    await until(() => delivered === 4);
    await outbox.stop();
    expect(maxInFlight).toBe(1);
  });
});
