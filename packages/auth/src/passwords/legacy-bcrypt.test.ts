import { readFileSync } from 'node:fs';
import { compare, hash } from 'bcrypt';
import { describe, expect, test } from 'vitest';
import { BCRYPT_MAX_PASSWORD_BYTES, isBcryptHash } from './bcrypt-legacy.js';
import { TEST_PARAMS } from './hashing-params.js';
import { verifyPassword } from './verify-password.js';

// Made with Debian's htpasswd (apache2-utils), an independent bcrypt implementation; the
// passwords are listed in the fixture's comment lines.
const FIXTURE = new URL('../../test-fixtures/legacy-bcrypt.txt', import.meta.url);
const PASSWORD = 'Legacy-bcrypt-passw0rd!';
const LONG_PASSWORD =
  'the-quick-brown-fox-jumps-over-the-lazy-dog-while-the-cat-sleeps-on-mat-and-then-wakes-up';
const ACCENTED = 'Crème brûlée façade 2019';

function fixtureHashes(): Map<string, string> {
  const entries = readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.split(':') as [string, string]);
  return new Map(entries);
}

const hashes = fixtureHashes();
const bcryptOf = (user: string) => ({ hash: hashes.get(user) ?? '', algorithm: 'bcrypt' as const });

describe('legacy bcrypt hashes from htpasswd', () => {
  test('the fixture is $2y$ and verifies, asking for an Argon2id rehash', async () => {
    const stored = bcryptOf('legacy@example.com');
    expect(stored.hash.startsWith('$2y$10$')).toBe(true);
    expect(await verifyPassword(stored, PASSWORD)).toEqual({ ok: true, needsRehash: true });
  });

  test('a stored hash above the cost limit (imported before it) is never computed: it fails like a wrong password', async () => {
    // Cost 20 is 1,024 times cost 10: about a minute of a threadpool thread, were it computed.
    const costly = { ...bcryptOf('legacy@example.com') };
    costly.hash = costly.hash.replace('$10$', '$20$');
    expect(await verifyPassword(costly, PASSWORD, TEST_PARAMS)).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  test('a wrong password does not verify against the fixture', async () => {
    const stored = bcryptOf('legacy@example.com');
    expect(await verifyPassword(stored, 'Legacy-bcrypt-passw0rd?')).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  test('the same hash spelled $2a$ or $2b$ verifies too', async () => {
    const body = bcryptOf('legacy@example.com').hash.slice(4);
    for (const prefix of ['$2a$', '$2b$']) {
      const stored = { hash: `${prefix}${body}`, algorithm: 'bcrypt' as const };
      expect(await verifyPassword(stored, PASSWORD)).toMatchObject({ ok: true });
    }
  });

  test('a legacy hash of NFD bytes verifies when the user now types NFC', async () => {
    const stored = bcryptOf('nfd@example.com');
    expect(await verifyPassword(stored, ACCENTED.normalize('NFC'))).toMatchObject({ ok: true });
    expect(await verifyPassword(stored, ACCENTED.normalize('NFD'))).toMatchObject({ ok: true });
  });

  test('only well-formed bcrypt hashes are accepted as such', () => {
    expect(isBcryptHash(bcryptOf('legacy@example.com').hash)).toBe(true);
    expect(isBcryptHash('$2x$10$JXRUG6cdGnieP5uACMHbzuoDf62R8hHWirHcEwmKubGJwQifP8XMy')).toBe(
      false,
    );
    expect(isBcryptHash('$2b$03$JXRUG6cdGnieP5uACMHbzuoDf62R8hHWirHcEwmKubGJwQifP8XMy')).toBe(
      false,
    );
    expect(isBcryptHash('$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA')).toBe(false);
  });
});

describe("bcrypt's 72-byte limit: longer passwords are refused, never truncated", () => {
  test('a password over 72 bytes does not verify, even against its own truncated hash', async () => {
    expect(Buffer.byteLength(LONG_PASSWORD)).toBe(89);
    const stored = bcryptOf('long@example.com');
    expect(await verifyPassword(stored, LONG_PASSWORD)).toEqual({ ok: false, needsRehash: false });
  });

  test('a different password sharing the first 72 bytes is refused, though bcrypt accepts it', async () => {
    const impostor = `${LONG_PASSWORD.slice(0, BCRYPT_MAX_PASSWORD_BYTES)}-something-else`;
    const stored = bcryptOf('long@example.com');
    // The hazard itself: the native library silently ignores everything after byte 72.
    expect(await compare(impostor, stored.hash.replace('$2y$', '$2b$'))).toBe(true);
    expect(await verifyPassword(stored, impostor)).toEqual({ ok: false, needsRehash: false });
  });

  test('the limit counts UTF-8 bytes: 72 bytes verify, 73 bytes do not', async () => {
    const exactly72 = `${'a'.repeat(70)}é`; // 70 + 2 bytes
    const bytes73 = `${'a'.repeat(71)}é`; // 71 + 2 bytes, 72 characters
    expect(Buffer.byteLength(exactly72)).toBe(72);
    expect(Buffer.byteLength(bytes73)).toBe(73);
    const stored72 = { hash: await hash(exactly72, 4), algorithm: 'bcrypt' as const };
    const stored73 = { hash: await hash(bytes73, 4), algorithm: 'bcrypt' as const };
    expect(await verifyPassword(stored72, exactly72)).toMatchObject({ ok: true });
    expect(await verifyPassword(stored73, bytes73)).toMatchObject({ ok: false });
  });
});
