/**
 * Key rotation for SSO client secrets (docs/design.md "Secrets"): rows are listed as (tenant, id) through
 * a SECURITY DEFINER function and re-encrypted under the newest key inside their tenant's
 * transaction. Idempotent, like reencryptAllSecrets; the rotate-keys CLI runs both.
 */
import { eq } from 'drizzle-orm';
import { listSsoEncryptedRows, ssoSettings, withTenant, type Database } from '@tessera/db';
import { DecryptionError, type Keyring } from '../crypto/keyring.js';
import type { RotationOptions } from '../maintenance/rotate-secrets.js';
import { CLIENT_SECRET_PURPOSE } from './settings.js';

export interface SsoRotationReport {
  checked: number;
  reencrypted: number;
  /** Rows whose ciphertext does not decrypt in its own context (tampering or a lost key): left as they are. */
  failed: { tenantId: string; id: string }[];
}

export async function reencryptSsoSecrets(
  db: Database,
  keyring: Keyring,
  options: RotationOptions = {},
): Promise<SsoRotationReport> {
  const rows = await listSsoEncryptedRows(db.pool);
  let reencrypted = 0;
  let checked = 0;
  const failed: SsoRotationReport['failed'] = [];
  for (const { tenantId, id } of rows) {
    if (options.signal?.aborted) break;
    reencrypted += await withTenant(db, tenantId, async (tx) => {
      const [row] = await tx
        .select({ secret: ssoSettings.clientSecretCiphertext })
        .from(ssoSettings)
        .where(eq(ssoSettings.id, id))
        .for('update');
      if (!row?.secret || !keyring.needsRotation(row.secret)) return 0;
      const secret = keyring.reencrypt(row.secret, {
        purpose: CLIENT_SECRET_PURPOSE,
        tenantId,
        rowId: id,
      });
      await tx
        .update(ssoSettings)
        .set({ clientSecretCiphertext: secret })
        .where(eq(ssoSettings.id, id));
      return 1;
    }).catch((error: unknown) => {
      if (!(error instanceof DecryptionError)) throw error;
      failed.push({ tenantId, id }); // one bad row must not stop the rotation of all the others
      return 0;
    });
    checked += 1;
    await options.onProgress?.(checked, rows.length);
  }
  return { checked, reencrypted, failed };
}
