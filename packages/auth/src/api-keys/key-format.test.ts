import { crc32 } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { generateKeyringSpec } from '../crypto/keyring.js';
import { canonicalCidrs, compileCidrs, ipAllowed } from './cidr.js';
import { checksumOf, generateApiKey, parseApiKey } from './key-format.js';
import { parsePepperRing } from './pepper-ring.js';

describe('key format', () => {
  test('keys are {pk|sk}_{live|test}_ + 43 base62 characters of randomness + a 6-character CRC-32', () => {
    const { key, prefix } = generateApiKey('secret', 'live');
    expect(key).toMatch(/^sk_live_[A-Za-z0-9]{49}$/);
    expect(prefix).toBe(key.slice(0, 12));
    expect(generateApiKey('publishable', 'test').key).toMatch(/^pk_test_[A-Za-z0-9]{49}$/);
    expect(parseApiKey(key)).toEqual({ type: 'secret', environment: 'live', raw: key });
    expect(parseApiKey(generateApiKey('publishable', 'test').key)).toMatchObject({
      type: 'publishable',
      environment: 'test',
    });
  });

  test('the checksum is CRC-32 of everything before it, in base62', () => {
    const { key } = generateApiKey('secret', 'test');
    const head = key.slice(0, -6);
    let n = crc32(head);
    let digits = '';
    for (let i = 0; i < 6; i += 1) {
      digits =
        '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.charAt(n % 62) + digits;
      n = Math.floor(n / 62);
    }
    expect(checksumOf(head)).toBe(digits);
  });

  test('a one-character typo anywhere, a wrong prefix or junk is refused by parse alone', () => {
    const { key } = generateApiKey('secret', 'live');
    for (let i = 8; i < key.length; i += 1) {
      const swapped = key[i] === 'a' ? 'b' : 'a';
      expect(parseApiKey(key.slice(0, i) + swapped + key.slice(i + 1)), `position ${i}`).toBeNull();
    }
    for (const junk of [
      '',
      key.slice(0, -1),
      `${key}x`,
      key.replace('sk_live_', 'sk_prod_'),
      key.replace('sk_', 'rk_'),
      ` ${key}`,
      key.toUpperCase(),
      42,
      null,
    ]) {
      expect(parseApiKey(junk)).toBeNull();
    }
  });

  test('two keys never repeat (CSPRNG)', () => {
    const keys = new Set(Array.from({ length: 200 }, () => generateApiKey('secret', 'live').key));
    expect(keys.size).toBe(200);
  });
});

describe('pepper ring', () => {
  test('parses with the keyring rules; the first version hashes, every version is tried', () => {
    const v1 = generateKeyringSpec(1);
    const v2 = generateKeyringSpec(2);
    const ring = parsePepperRing(`${v2},${v1}`);
    expect(ring.currentVersion).toBe('v2');
    const hashes = ring.hashAll('sk_test_x');
    expect(hashes.map((h) => h.version)).toEqual(['v2', 'v1']);
    expect(hashes[0]?.hash.equals(ring.hashCurrent('sk_test_x'))).toBe(true);
    expect(hashes[1]?.hash.equals(parsePepperRing(v1).hashCurrent('sk_test_x'))).toBe(true);
    expect(JSON.stringify(ring)).toBe('{"versions":["v2","v1"]}');
  });

  test('bad specs are refused without echoing the secret', () => {
    for (const bad of [
      '',
      'v1:short',
      'nope',
      `v1:${'A'.repeat(44)}`,
      `${generateKeyringSpec(1)},${generateKeyringSpec(1)}`,
    ]) {
      expect(() => parsePepperRing(bad)).toThrow();
    }
    const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=';
    expect(() => parsePepperRing(`v1:${secret}`)).toThrow(
      expect.not.objectContaining({ message: expect.stringContaining(secret) }) as Error,
    );
  });
});

describe('IP allowlists', () => {
  test('IPv4, IPv6 and IPv4-mapped forms are canonicalised; host bits and odd notations are refused', () => {
    expect(
      canonicalCidrs(['203.0.113.0/24', '203.0.113.7', '2001:DB8::/32', '::ffff:10.0.0.0/104']),
    ).toEqual(['203.0.113.0/24', '203.0.113.7/32', '2001:db8::/32', '10.0.0.0/8']);
    for (const bad of [
      '203.0.113.7/24',
      '10.1/16',
      '0x7f.0.0.1',
      '1.2.3.4/33',
      '2001:db8::/129',
      'fe80::1%eth0',
      'example.com',
      '1.2.3.4/-1',
    ]) {
      expect(() => canonicalCidrs([bad]), bad).toThrow(
        expect.objectContaining({ code: 'invalid_input' }) as Error,
      );
    }
  });

  test('requests match by family, including dual-stack sockets reporting ::ffff:a.b.c.d', () => {
    const list = compileCidrs(['203.0.113.0/24', '2001:db8:1::/48']);
    expect(ipAllowed(list, '203.0.113.200')).toBe(true);
    expect(ipAllowed(list, '::ffff:203.0.113.9')).toBe(true);
    expect(ipAllowed(list, '198.51.100.1')).toBe(false);
    expect(ipAllowed(list, '2001:db8:1:ffff::1')).toBe(true);
    expect(ipAllowed(list, '2001:db8:2::1')).toBe(false);
    expect(ipAllowed(list, 'not-an-ip')).toBe(false);
    expect(ipAllowed(compileCidrs([]), '198.51.100.1')).toBe(true);
  });
});
