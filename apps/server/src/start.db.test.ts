// Attack: the platform serving requests as a role that bypasses RLS (superuser, owner, BYPASSRLS).
// docs/design.md rule 1: the server refuses to start. Also proves the composed start path serves health.
import { randomBytes } from 'node:crypto';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { loadConfig } from './config.js';
import { start } from './start.js';

const db = useTestDatabase();
const quiet = (): void => undefined;
const ring = (): string => `v1:${randomBytes(32).toString('base64')}`;

function configFor(appUrl: string) {
  const base = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.ownerUrl,
    APP_DATABASE_URL: appUrl,
  });
  return {
    ...base,
    secrets: { DATA_ENCRYPTION_KEYS: ring(), SESSION_SECRET: ring(), API_KEY_PEPPERS: ring() },
  };
}

test('start-up refuses a runtime role that is the superuser owner', async () => {
  await expect(start(configFor(db.ownerUrl), quiet)).rejects.toThrow(/superuser/);
});

test('start-up refuses a runtime role with BYPASSRLS', async () => {
  await db.owner.pool.query(
    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tessera_bypass') THEN CREATE ROLE tessera_bypass LOGIN PASSWORD 'bypass-pw' BYPASSRLS IN ROLE tessera_app; END IF; END $$",
  );
  const url = db.appUrl.replace(/\/\/[^@]+@/, '//tessera_bypass:bypass-pw@');
  await expect(start(configFor(url), quiet)).rejects.toThrow(/has BYPASSRLS/);
});

test('with a safe runtime role the server migrates, listens and answers health.check', async () => {
  const running = await start(configFor(db.appUrl), quiet);
  try {
    const res = await fetch(`${running.url}/trpc/health.check`);
    expect(await res.json()).toEqual({ result: { data: { status: 'ok', database: 'ok' } } });
  } finally {
    await running.stop();
  }
});
