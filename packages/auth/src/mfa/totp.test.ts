import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { matchTotpStep, newTotpSecret, totpCodeAt, totpUri } from './totp.js';

// RFC 6238 Appendix B: seeds are the ASCII strings below; 8 digits; T0 = 0; X = 30.
const SEEDS = {
  SHA1: '12345678901234567890',
  SHA256: '12345678901234567890123456789012',
  SHA512: '1234567890123456789012345678901234567890123456789012345678901234',
} as const;
const VECTORS: [number, string, keyof typeof SEEDS][] = [
  [59, '94287082', 'SHA1'],
  [59, '46119246', 'SHA256'],
  [59, '90693936', 'SHA512'],
  [1111111109, '07081804', 'SHA1'],
  [1111111109, '68084774', 'SHA256'],
  [1111111109, '25091201', 'SHA512'],
  [1111111111, '14050471', 'SHA1'],
  [1111111111, '67062674', 'SHA256'],
  [1111111111, '99943326', 'SHA512'],
  [1234567890, '89005924', 'SHA1'],
  [1234567890, '91819424', 'SHA256'],
  [1234567890, '93441116', 'SHA512'],
  [2000000000, '69279037', 'SHA1'],
  [2000000000, '90698825', 'SHA256'],
  [2000000000, '38618901', 'SHA512'],
  [20000000000, '65353130', 'SHA1'],
  [20000000000, '77737706', 'SHA256'],
  [20000000000, '47863826', 'SHA512'],
];

function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5)
    out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}

/** An independent RFC 6238 implementation on node:crypto (not otpauth), for interop. */
function independentTotp(secret: Buffer, unixSeconds: number, digits = 6): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  // eslint-disable-next-line tessera/no-weak-hash -- RFC 6238 TOTP is HMAC-SHA-1 by definition
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(value).padStart(digits, '0');
}

describe('RFC 6238 verification', () => {
  test.each(VECTORS)(
    'at T=%i the code %s (%s) is accepted at its own step',
    (seconds, code, algorithm) => {
      const secret = base32(Buffer.from(SEEDS[algorithm], 'ascii'));
      const step = matchTotpStep(secret, code, new Date(seconds * 1000), { algorithm, digits: 8 });
      expect(step).toBe(Math.floor(seconds / 30));
    },
  );

  test('codes one step either side are accepted and report their own step; two steps away are not', () => {
    const secret = base32(Buffer.from(SEEDS.SHA1, 'ascii'));
    const t = 1111111111;
    const at = new Date(t * 1000);
    for (const delta of [-1, 0, 1])
      expect(
        matchTotpStep(secret, independentTotp(Buffer.from(SEEDS.SHA1), t + delta * 30), at),
      ).toBe(Math.floor(t / 30) + delta);
    expect(matchTotpStep(secret, independentTotp(Buffer.from(SEEDS.SHA1), t + 60), at)).toBeNull();
    expect(matchTotpStep(secret, independentTotp(Buffer.from(SEEDS.SHA1), t - 60), at)).toBeNull();
  });

  test('codes from an independent implementation are accepted for a generated secret', () => {
    const secret = newTotpSecret();
    const raw = Buffer.from(
      secret
        .split('')
        .reduce(
          (bits, c) =>
            bits + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(c).toString(2).padStart(5, '0'),
          '',
        )
        .match(/.{8}/g)
        ?.map((b) => parseInt(b, 2)) ?? [],
    );
    expect(raw).toHaveLength(20); // 160-bit secret
    const now = Date.now();
    expect(matchTotpStep(secret, independentTotp(raw, now / 1000), new Date(now))).toBe(
      Math.floor(now / 30000),
    );
    expect(totpCodeAt(secret, new Date(now))).toBe(independentTotp(raw, now / 1000));
  });

  test('malformed codes are refused without throwing', () => {
    const secret = newTotpSecret();
    for (const bad of ['', '12345', '1234567', 'abcdef', '12 34 5x'])
      expect(matchTotpStep(secret, bad, new Date())).toBeNull();
  });

  test('the otpauth URI names issuer and account and carries the standard parameters', () => {
    const uri = new URL(totpUri('JBSWY3DPEHPK3PXP', 'Acme Inc', 'ana@example.com'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('issuer')).toBe('Acme Inc');
    expect(uri.searchParams.get('secret')).toBe('JBSWY3DPEHPK3PXP');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(decodeURIComponent(uri.pathname)).toContain('ana@example.com');
  });
});
