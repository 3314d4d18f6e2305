/**
 * `pnpm rotate-keys [--json]`: re-encrypts every stored secret (TOTP secrets, pending mail bodies,
 * phone numbers, SSO client secrets, privacy-webhook secrets) under the first key of
 * DATA_ENCRYPTION_KEYS. Run after prepending a new key and restarting; older keys keep
 * decrypting until this finishes, then can be retired (docs/runbooks/key-rotation.md).
 *
 * Each row is re-encrypted in its own transaction, so Ctrl-C (exit 130) stops between rows and
 * never leaves one half rotated; rows already under the newest key are skipped, so running the
 * command again continues with the rows still under an older key. SSO client secrets that do not
 * decrypt are left as they are and listed; they make the exit code 1. Progress and summary:
 * docs/deployment.md "Operator CLIs".
 */
import { parseArgs } from 'node:util';
import { parseKeyring, reencryptAllSecrets, reencryptSsoSecrets } from '@tessera/api';
import { reencryptWebhookSecrets } from '@tessera/auth/privacy';
import { createDatabase } from '@tessera/db';
import { ConfigError, loadConfigFromProcess } from '../config.js';
import { ProgressReporter, progressModeOf } from './progress/progress-reporter.js';
import { commonFlags, listenForStop, pacer } from './progress/stop-request.js';

async function run(argv: string[], progress: ProgressReporter): Promise<number> {
  const { paceMs, rest } = commonFlags(argv);
  const { positionals } = parseArgs({ args: rest, options: {} });
  if (positionals.length > 0) throw new Error('usage: pnpm rotate-keys [--json] [--pace-ms N]');
  const config = loadConfigFromProcess();
  if (!config.database || !config.secrets.DATA_ENCRYPTION_KEYS)
    throw new ConfigError(
      ['APP_DATABASE_URL', 'DATA_ENCRYPTION_KEYS'],
      'rotate-keys needs APP_DATABASE_URL and DATA_ENCRYPTION_KEYS',
    );
  const keyring = parseKeyring(config.secrets.DATA_ENCRYPTION_KEYS);
  const database = createDatabase(config.database.appDirectUrl, {
    max: 2,
    applicationName: 'tessera-rotate-keys',
  });
  const stop = listenForStop(() =>
    progress.log('stopping after the current row (Ctrl-C again to stop at once)'),
  );
  const pace = pacer(paceMs, stop.signal);
  // A pass's phase starts with its first row, when its total is known (a pass with no rows shows none).
  const passOptions = (phase: string) => {
    let started = false;
    return {
      signal: stop.signal,
      onProgress: async (done: number, total: number) => {
        if (!started) progress.start(phase, total);
        started = true;
        progress.update(done);
        await pace();
      },
    };
  };
  try {
    const secrets = await reencryptAllSecrets(database, keyring, passOptions('secrets'));
    const sso = stop.signal.aborted
      ? null
      : await reencryptSsoSecrets(database, keyring, passOptions('SSO client secrets'));
    const webhooks = stop.signal.aborted
      ? null
      : await reencryptWebhookSecrets(database, keyring, passOptions('webhook secrets'));
    const checked = secrets.checked + (sso?.checked ?? 0) + (webhooks?.checked ?? 0);
    const reencrypted =
      secrets.reencrypted + (sso?.reencrypted ?? 0) + (webhooks?.reencrypted ?? 0);
    const failed = (sso?.failed ?? []).map((f) => ({
      ...f,
      kind: 'sso_client_secret',
      reason: 'does not decrypt with any key in DATA_ENCRYPTION_KEYS (left as it is)',
    }));
    const status = stop.signal.aborted ? 'interrupted' : failed.length ? 'partial' : 'ok';
    return progress.summary(
      status,
      [
        `rotate-keys: checked ${checked} encrypted row(s), re-encrypted ${reencrypted} (secrets ${secrets.reencrypted}/${secrets.checked}, SSO client secrets ${sso ? `${sso.reencrypted}/${sso.checked}` : 'not reached'}, webhook secrets ${webhooks ? `${webhooks.reencrypted}/${webhooks.checked}` : 'not reached'})`,
        ...(status === 'interrupted'
          ? [
              'stopped between rows; run the same command again to re-encrypt the rows still under an older key (keep the older keys in DATA_ENCRYPTION_KEYS until it completes)',
            ]
          : []),
        ...(failed.length
          ? [
              `${failed.length} row(s) not re-encrypted:`,
              ...failed.map((f) => `  ${f.kind} ${f.id} (tenant ${f.tenantId}): ${f.reason}`),
            ]
          : []),
      ],
      {
        checked,
        reencrypted,
        passes: { secrets, ssoClientSecrets: sso, webhookSecrets: webhooks },
        failed,
      },
    );
  } finally {
    stop.dispose();
    await database.close();
  }
}

const progress = new ProgressReporter(
  'rotate-keys',
  progressModeOf(process.argv.includes('--json')),
);
try {
  process.exitCode = await run(process.argv.slice(2), progress);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.exitCode = progress.summary('failed', [message], { error: message });
}
