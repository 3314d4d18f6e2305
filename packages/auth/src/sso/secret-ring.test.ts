import { describe, expect, test } from 'vitest';
import { generateKeyringSpec } from '../crypto/keyring.js';
import { parseSessionSecretRing } from './secret-ring.js';

const now = new Date('2026-03-01T12:00:00Z');
const flow = {
  tenantId: '0b6f1f4e-2c1a-4d8e-9a59-3f1f1b0c7d11',
  provider: 'tenant',
  expiresAt: new Date(now.getTime() + 60_000),
};

describe('SESSION_SECRET ring', () => {
  test('gives Auth.js every key, newest first', () => {
    const v2 = generateKeyringSpec(2);
    const v1 = generateKeyringSpec(1);
    expect(parseSessionSecretRing(`${v2},${v1}`).authSecrets).toEqual([v2.slice(3), v1.slice(3)]);
  });

  test('a flow signed under the previous key still verifies after rotation; an unknown key does not', () => {
    const v1 = generateKeyringSpec(1);
    const token = parseSessionSecretRing(v1).signFlow(flow);
    expect(
      parseSessionSecretRing(`${generateKeyringSpec(2)},${v1}`).verifyFlow(token, now),
    ).toEqual(flow);
    expect(parseSessionSecretRing(generateKeyringSpec(2)).verifyFlow(token, now)).toBeNull();
  });

  test('a flow with a changed tenant, a changed MAC or past its expiry is refused', () => {
    const ring = parseSessionSecretRing(generateKeyringSpec());
    const token = ring.signFlow(flow);
    const [version, body, mac] = token.split('.') as [string, string, string];
    const otherTenant = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), t: 'another' }),
    ).toString('base64url');
    expect(ring.verifyFlow(`${version}.${otherTenant}.${mac}`, now)).toBeNull();
    expect(ring.verifyFlow(`${version}.${body}.${mac.slice(0, -2)}AA`, now)).toBeNull();
    expect(ring.verifyFlow(`${token}.extra`, now)).toBeNull();
    expect(ring.verifyFlow('', now)).toBeNull();
    expect(ring.verifyFlow(token, new Date(now.getTime() + 61_000))).toBeNull();
  });

  test('a malformed ring is refused without echoing key material', () => {
    expect(() => parseSessionSecretRing('v1:c2hvcnQ=')).toThrow(/v1/);
    expect(() => parseSessionSecretRing('v1:c2hvcnQ=')).not.toThrow(/c2hvcnQ/);
  });
});
