import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const ring = (): string => `v1:${randomBytes(32).toString('base64')}`;
const noFiles = (): string => {
  throw new Error('no file');
};

function refusal(env: Record<string, string>, readFile = noFiles): ConfigError {
  try {
    loadConfig(env, readFile);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  test('defaults to port 3000, the embedded database and a frozen result', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      database: null,
      publicUrl: 'http://localhost:3000',
      nodeEnv: 'development',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('a malformed value stops start-up with a message naming the variable', () => {
    const error = refusal({ PORT: 'eighty' });
    expect(error.variables).toEqual(['PORT']);
    expect(error.message).toContain('PORT');
  });

  test('DOMAIN_DNS_SERVERS is a list of resolver addresses; anything else stops start-up', () => {
    expect(
      loadConfig({ DOMAIN_DNS_SERVERS: '127.0.0.1:5353, [::1]:53,9.9.9.9' }).domainDnsServers,
    ).toEqual(['127.0.0.1:5353', '[::1]:53', '9.9.9.9']);
    expect(loadConfig({}).domainDnsServers).toEqual([]);
    expect(refusal({ DOMAIN_DNS_SERVERS: 'dns.example.com' }).variables).toEqual([
      'DOMAIN_DNS_SERVERS',
    ]);
  });

  test('a malformed key ring is refused without echoing the secret', () => {
    const secret = 'v1:c2hvcnQ=';
    const error = refusal({ DATA_ENCRYPTION_KEYS: secret });
    expect(error.variables).toEqual(['DATA_ENCRYPTION_KEYS']);
    expect(error.message).not.toContain('c2hvcnQ');
  });

  test('a malformed database URL names DATABASE_URL and does not print it', () => {
    const error = refusal({
      DATABASE_URL: 'mysql://root:hunter2@db',
      APP_DATABASE_URL: 'postgres://a:b@db/x',
    });
    expect(error.variables).toEqual(['DATABASE_URL']);
    expect(error.message).not.toContain('hunter2');
  });

  test('DATABASE_URL without APP_DATABASE_URL is refused: the owner never serves traffic', () => {
    expect(refusal({ DATABASE_URL: 'postgres://owner:pw@db/tessera' }).variables).toEqual([
      'DATABASE_URL',
      'APP_DATABASE_URL',
    ]);
  });

  test('APP_DATABASE_DIRECT_URL defaults to APP_DATABASE_URL and may name a direct way past a pooler', () => {
    const urls = {
      DATABASE_URL: 'postgres://owner:pw@db:5432/tessera',
      APP_DATABASE_URL: 'postgres://app:pw@pgbouncer:6432/tessera',
    };
    expect(loadConfig(urls).database).toEqual({
      ownerUrl: urls.DATABASE_URL,
      appUrl: urls.APP_DATABASE_URL,
      appDirectUrl: urls.APP_DATABASE_URL,
    });
    const direct = 'postgres://app:pw@db:5432/tessera';
    const config = loadConfig({ ...urls, APP_DATABASE_DIRECT_URL: direct });
    expect(config.database?.appDirectUrl).toBe(direct);
    expect(Object.values(config.secrets)).not.toContain(direct);
    expect(refusal({ APP_DATABASE_DIRECT_URL: direct }).variables).toEqual([
      'APP_DATABASE_DIRECT_URL',
    ]);
    expect(refusal({ ...urls, APP_DATABASE_DIRECT_URL: 'pgbouncer:6432' }).message).not.toContain(
      'pgbouncer',
    );
  });

  test('production refuses to start without explicit secrets and database', () => {
    const error = refusal({ NODE_ENV: 'production' });
    expect(error.variables).toEqual(
      expect.arrayContaining([
        'DATABASE_URL',
        'APP_DATABASE_URL',
        'DATA_ENCRYPTION_KEYS',
        'SESSION_SECRET',
        'API_KEY_PEPPERS',
        'SMTP_URL',
      ]),
    );
  });

  test('production starts with every secret given', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://owner:pw@db/tessera',
      APP_DATABASE_URL: 'postgres://app:pw@db/tessera',
      DATA_ENCRYPTION_KEYS: `v2:${randomBytes(32).toString('base64')},${ring()}`,
      SESSION_SECRET: ring(),
      API_KEY_PEPPERS: ring(),
      PUBLIC_URL: 'https://auth.example.com/',
      SMTP_URL: 'smtps://mailer:pw@smtp.example.com',
    });
    expect(config.database).toEqual({
      ownerUrl: 'postgres://owner:pw@db/tessera',
      appUrl: 'postgres://app:pw@db/tessera',
      appDirectUrl: 'postgres://app:pw@db/tessera',
    });
    expect(config.publicUrl).toBe('https://auth.example.com');
  });

  test('NAME_FILE supplies a secret from a file, trimmed', () => {
    const key = ring();
    const config = loadConfig({ SESSION_SECRET_FILE: '/run/secrets/session' }, (file) =>
      file === '/run/secrets/session' ? `${key}\n` : noFiles(),
    );
    expect(config.secrets.SESSION_SECRET).toBe(key);
  });

  test('NAME and NAME_FILE together are refused', () => {
    expect(
      refusal({ SESSION_SECRET: ring(), SESSION_SECRET_FILE: '/x' }, () => ring()).variables,
    ).toEqual(['SESSION_SECRET and SESSION_SECRET_FILE']);
  });

  test('an unreadable NAME_FILE names the variable', () => {
    expect(refusal({ API_KEY_PEPPERS_FILE: '/nope' }).variables).toEqual(['API_KEY_PEPPERS_FILE']);
  });

  test('CORS_ORIGINS must be http(s) origins', () => {
    expect(refusal({ CORS_ORIGINS: 'https://ok.example,javascript:alert(1)' }).variables).toEqual([
      'CORS_ORIGINS',
    ]);
    expect(
      loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins,
    ).toEqual(['https://a.example', 'https://b.example']);
  });

  test('TRUST_PROXY accepts true, a hop count or addresses', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toBe('10.0.0.0/8');
  });
});
