/**
 * Development secrets, generated once into TESSERA_HOME/secrets.json (mode 0600) so data stays
 * readable across restarts. Never used in production: loadConfig refuses to start there without
 * explicit secrets.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Config } from './config.js';

export interface DevSecrets {
  postgresPassword: string;
  runtimePassword: string;
  DATA_ENCRYPTION_KEYS: string;
  SESSION_SECRET: string;
  API_KEY_PEPPERS: string;
  AUDIT_SIGNING_KEY: string;
  METRICS_TOKEN: string;
}

const ring = (): string => `v1:${randomBytes(32).toString('base64')}`;

function generate(): DevSecrets {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    postgresPassword: randomBytes(24).toString('base64url'),
    runtimePassword: randomBytes(24).toString('base64url'),
    DATA_ENCRYPTION_KEYS: ring(),
    SESSION_SECRET: ring(),
    API_KEY_PEPPERS: ring(),
    AUDIT_SIGNING_KEY: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    METRICS_TOKEN: randomBytes(24).toString('base64url'),
  };
}

export async function loadOrCreateDevSecrets(
  home: string,
): Promise<{ secrets: DevSecrets; created: boolean }> {
  const file = path.join(home, 'secrets.json');
  await fs.mkdir(home, { recursive: true, mode: 0o700 });
  try {
    const existing = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<DevSecrets>;
    const merged = { ...generate(), ...existing };
    if (Object.keys(existing).length !== Object.keys(merged).length)
      await fs.writeFile(file, JSON.stringify(merged, null, 2), { mode: 0o600 });
    return { secrets: merged, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const secrets = generate();
    await fs.writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
    return { secrets, created: true };
  }
}

/** Fills every secret the config lacks from the development file. */
export function withDevSecrets(config: Config, dev: DevSecrets): Config['secrets'] {
  const { postgresPassword: _p, runtimePassword: _r, ...rest } = dev;
  return Object.freeze({ ...rest, ...config.secrets });
}
