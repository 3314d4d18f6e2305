import { expect, test } from 'vitest';
import { emailDomainOf, normalizeDomain, verificationRecord } from './domain-name.js';

test('domains are stored lower-case, as IDNA A-labels, without a trailing dot', () => {
  expect(normalizeDomain(' Example.COM. ')).toBe('example.com');
  expect(normalizeDomain('eu.mail.example.co.uk')).toBe('eu.mail.example.co.uk');
  expect(normalizeDomain('bücher.de')).toBe('xn--bcher-kva.de');
  expect(normalizeDomain('ＥＸＡＭＰＬＥ.com')).toBe('example.com'); // full-width letters fold (UTS 46)
});

test('public suffixes (ICANN and private), IP addresses, single labels and junk are refused', () => {
  for (const raw of [
    'com',
    'co.uk',
    'github.io',
    'blogspot.com',
    '127.0.0.1',
    '[::1]',
    'localhost',
    'exa mple.com',
    'a..b.com',
    '-a.com',
    'user@example.com',
    'example.com/path',
    'example.com:443',
    `${'a'.repeat(64)}.com`,
    '',
  ])
    expect(normalizeDomain(raw), raw).toBeNull();
});

test("an e-mail address's domain is the part after the last @", () => {
  expect(emailDomainOf('Jane.Doe@Mail.Example.com')).toBe('mail.example.com');
  expect(emailDomainOf('"odd@local"@example.org')).toBe('example.org');
  expect(emailDomainOf('no-at-sign')).toBeNull();
  expect(emailDomainOf('@example.org')).toBeNull();
});

test('the TXT record lives under a fixed label of the domain', () => {
  expect(verificationRecord('example.com', 'abc')).toEqual({
    type: 'TXT',
    name: '_tessera-verification.example.com',
    value: 'tessera-domain-verification=abc',
  });
});
