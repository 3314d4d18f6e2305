/**
 * `pnpm rotate-keys`: re-encrypts every stored secret (TOTP secrets, pending mail bodies) under the
 * first key of DATA_ENCRYPTION_KEYS. Run after prepending a new key and restarting; older keys
 * keep decrypting until this finishes, then can be retired (docs/runbooks/key-rotation.md).
 */
import { parseKeyring, reencryptAllSecrets, reencryptSsoSecrets } from '@tessera/api';
import { reencryptWebhookSecrets } from '@tessera/auth/privacy';
import { createDatabase } from '@tessera/db';
import { ConfigError, loadConfigFromProcess } from '../config.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

try {
  const config = loadConfigFromProcess();
  if (!config.database || !config.secrets.DATA_ENCRYPTION_KEYS)
    throw new ConfigError(
      ['APP_DATABASE_URL', 'DATA_ENCRYPTION_KEYS'],
      'rotate-keys needs APP_DATABASE_URL and DATA_ENCRYPTION_KEYS',
    );
  const database = createDatabase(config.database.appDirectUrl, {
    max: 2,
    applicationName: 'tessera-rotate-keys',
  });
  try {
    const keyring = parseKeyring(config.secrets.DATA_ENCRYPTION_KEYS);
    const report = await reencryptAllSecrets(database, keyring);
    log(`checked ${report.checked} encrypted row(s), re-encrypted ${report.reencrypted}`);
    const sso = await reencryptSsoSecrets(database, keyring);
    log(
      `checked ${sso.checked} SSO client secret(s), re-encrypted ${sso.reencrypted}${sso.failed.length ? `, ${sso.failed.length} did not decrypt (left as they are)` : ''}`,
    );
    const webhooks = await reencryptWebhookSecrets(database, keyring);
    log(
      `checked ${webhooks.checked} privacy webhook secret(s), re-encrypted ${webhooks.reencrypted}`,
    );
  } finally {
    await database.close();
  }
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
