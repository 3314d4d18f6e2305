// Webhook signatures (Art. 19): what a receiver checks with verifyWebhookSignature. A
// forged or altered body, a replayed (stale) request and malformed headers are refused; during a
// secret rotation either secret verifies. Pure: no database.
import { createHmac } from 'node:crypto';
import { expect, test } from 'vitest';
import { signWebhookPayload, verifyWebhookSignature } from './webhook-signature.js';

const secret = 'whsec_test-secret-0123456789abcdefghijklmnopqrstu';
const body = '{"id":"e1","type":"privacy.erasure.started","subjectId":"u1"}';
const now = new Date('2026-06-01T12:00:00Z');

test('the header is t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">, as documented', () => {
  const header = signWebhookPayload([secret], body, now);
  const t = Math.floor(now.getTime() / 1000);
  expect(header).toBe(
    `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`,
  );
  expect(verifyWebhookSignature(secret, header, body, 300, now)).toBe(true);
  expect(verifyWebhookSignature(secret, header, Buffer.from(body), 300, now)).toBe(true);
});

test('an altered body or another secret fails verification', () => {
  const header = signWebhookPayload([secret], body, now);
  expect(verifyWebhookSignature(secret, header, body.replace('u1', 'u2'), 300, now)).toBe(false);
  expect(verifyWebhookSignature(`${secret}x`, header, body, 300, now)).toBe(false);
});

test('a stale or future timestamp fails (replay), even with a valid MAC', () => {
  const header = signWebhookPayload([secret], body, now);
  expect(verifyWebhookSignature(secret, header, body, 300, new Date(now.getTime() + 301_000))).toBe(
    false,
  );
  expect(verifyWebhookSignature(secret, header, body, 300, new Date(now.getTime() - 301_000))).toBe(
    false,
  );
  expect(verifyWebhookSignature(secret, header, body, 300, new Date(now.getTime() + 299_000))).toBe(
    true,
  );
  // Moving the timestamp forward breaks the MAC.
  const t = Math.floor(now.getTime() / 1000);
  expect(
    verifyWebhookSignature(
      secret,
      header.replace(`t=${t}`, `t=${t + 600}`),
      body,
      300,
      new Date(now.getTime() + 600_000),
    ),
  ).toBe(false);
});

test('malformed headers are refused without throwing', () => {
  for (const header of [
    undefined,
    null,
    '',
    't=1',
    'v1=00',
    `t=abc,v1=${'0'.repeat(64)}`,
    `t=1,v1=${'z'.repeat(64)}`,
    't=1,v1=ab=cd',
    'x'.repeat(2000),
  ]) {
    expect(verifyWebhookSignature(secret, header, body, 300, now)).toBe(false);
  }
});

test('during a rotation both secrets sign and either verifies', () => {
  const header = signWebhookPayload(['whsec_new', 'whsec_old'], body, now);
  expect(header.split(',').filter((part) => part.startsWith('v1='))).toHaveLength(2);
  expect(verifyWebhookSignature('whsec_new', header, body, 300, now)).toBe(true);
  expect(verifyWebhookSignature('whsec_old', header, body, 300, now)).toBe(true);
  expect(verifyWebhookSignature('whsec_other', header, body, 300, now)).toBe(false);
});
