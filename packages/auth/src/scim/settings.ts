import { scimSettings, type ScimDeleteAction, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { adminAuditOf, type ScimAdmin } from './actor.js';

export interface ScimSettingsView {
  /** What a SCIM DELETE does: disable the user, or disable and erase them (GDPR erasure). */
  deleteAction: ScimDeleteAction;
}

const DEFAULTS: ScimSettingsView = { deleteAction: 'disable' };

export async function getScimSettings(tx: TenantTx): Promise<ScimSettingsView> {
  const [row] = await tx.select({ deleteAction: scimSettings.deleteAction }).from(scimSettings);
  return row ?? DEFAULTS;
}

export async function updateScimSettings(
  tx: TenantTx,
  admin: ScimAdmin,
  input: ScimSettingsView,
  now: Date,
): Promise<ScimSettingsView> {
  const before = await getScimSettings(tx);
  if (before.deleteAction === input.deleteAction) return before;
  await tx
    .insert(scimSettings)
    .values({ tenantId: tx.tenantId, deleteAction: input.deleteAction, updatedAt: now })
    .onConflictDoUpdate({
      target: scimSettings.tenantId,
      set: { deleteAction: input.deleteAction, updatedAt: now },
    });
  await recordAuditEvent(tx, {
    ...adminAuditOf(admin),
    action: 'scim.settings.updated',
    target: { type: 'tenant', id: tx.tenantId },
    before: { deleteAction: before.deleteAction },
    after: { deleteAction: input.deleteAction },
    occurredAt: now,
  });
  return { deleteAction: input.deleteAction };
}
