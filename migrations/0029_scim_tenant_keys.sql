-- SCIM tables keyed by tenant like every other new table (docs/scaling.md "Sharding by tenant"):
-- their primary keys become (tenant_id, id). The UNIQUE (tenant_id, id) constraints stay as the
-- targets of the composite foreign keys. The token hash stays unique across tenants: it names the
-- token before any tenant is known, as an API key's hash does.
ALTER TABLE public.scim_tokens DROP CONSTRAINT scim_tokens_pkey;
ALTER TABLE public.scim_tokens ADD CONSTRAINT scim_tokens_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE public.scim_groups DROP CONSTRAINT scim_groups_pkey;
ALTER TABLE public.scim_groups ADD CONSTRAINT scim_groups_pkey PRIMARY KEY (tenant_id, id);
