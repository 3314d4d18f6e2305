-- What `auth.me` shows of the user (e-mail, display name) and of the tenant (slug, name) is kept
-- with each cached session (packages/api-contract/src/routers/auth.ts), so a change to those
-- columns is announced to tessera_sessions too, on the same terms as 0024: on commit, ids only,
-- evicting every cached session of that user or tenant. Other columns (last sign-in, password
-- hash, failure counters) stay unannounced: nothing cached shows them.
DROP TRIGGER users_announce_session_update ON public.users;
CREATE TRIGGER users_announce_session_update AFTER UPDATE ON public.users FOR EACH ROW
  WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.disabled_at IS DISTINCT FROM NEW.disabled_at
        OR OLD.id IS DISTINCT FROM NEW.id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
        OR OLD.email IS DISTINCT FROM NEW.email OR OLD.display_name IS DISTINCT FROM NEW.display_name)
  EXECUTE FUNCTION public.users_announce_session_change();

DROP TRIGGER tenants_announce_session_update ON public.tenants;
CREATE TRIGGER tenants_announce_session_update AFTER UPDATE ON public.tenants FOR EACH ROW
  WHEN (OLD.security_policy IS DISTINCT FROM NEW.security_policy OR OLD.id IS DISTINCT FROM NEW.id
        OR OLD.slug IS DISTINCT FROM NEW.slug OR OLD.name IS DISTINCT FROM NEW.name)
  EXECUTE FUNCTION public.tenants_announce_session_change();
