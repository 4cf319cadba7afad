-- A revocation belongs to its tenant (issue 13 defect): it refuses only that tenant's token of that
-- id, so an admin can no longer revoke another tenant's token by naming its jti. The same jti may
-- now be revoked by several tenants, one row each. Rows already stored keep their tenant (the
-- revoking admin's): from now on they refuse only that tenant's tokens.
alter table revoked_tokens drop constraint revoked_tokens_pkey;
alter table revoked_tokens add primary key (tenant, jti);
