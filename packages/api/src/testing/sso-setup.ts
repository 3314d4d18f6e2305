// Tests that set a tenant's SSO up without a procedure go the way the procedures go: what needs
// the network (the issuer's DNS, the IdP's metadata) first, then the change in the actor's tenant
// transaction.
import type { Actor, ActorUseCase } from '@tessera/auth/context';
import {
  checkSsoSettingsPatch,
  prepareSamlConnection,
  saveSamlConnection,
  updateSsoSettings,
  type SamlConnectionPatch,
  type SamlConnectionView,
  type SamlDeps,
  type SsoDeps,
  type SsoSettingsPatch,
  type SsoSettingsView,
} from '@tessera/auth/sso';
import { withTenant } from '@tessera/db';

/** As `tenant.sso.update`. */
export async function saveSsoSettings(
  uc: ActorUseCase<Actor, SsoDeps>,
  patch: SsoSettingsPatch,
): Promise<SsoSettingsView> {
  const checked = await checkSsoSettingsPatch(uc, patch);
  return withTenant(uc.db, uc.actor.tenantId, (tx) => updateSsoSettings(tx, uc, checked));
}

/** As `tenant.saml.create` (id null) and `tenant.saml.update`. */
export async function saveSaml(
  uc: ActorUseCase<Actor, SamlDeps>,
  id: string | null,
  patch: SamlConnectionPatch,
): Promise<SamlConnectionView> {
  const change = await prepareSamlConnection(uc, id, patch);
  return withTenant(uc.db, uc.actor.tenantId, (tx) => saveSamlConnection(tx, uc, change));
}
