-- Token revocation and display tokens (issue 13). A revoked token id (jti) is refused by every
-- instance: each loads this table at start and follows it (seq) for what other processes add.
-- expires_at, when known, lets a sweep drop rows whose token has expired anyway.
create table revoked_tokens (
  jti         text        primary key,   -- token ids are unique across tenants (random)
  seq         bigserial   not null,      -- order of revocation, for followers
  tenant      text        not null,      -- the tenant whose admin revoked it
  revoked_at  timestamptz not null,
  expires_at  timestamptz,               -- null: not known, never swept
  revoked_by  text        not null,      -- the audit actor
  reason      text
);
create index revoked_tokens_tenant on revoked_tokens (tenant, revoked_at);
create index revoked_tokens_seq on revoked_tokens (seq);

-- Display tokens (wallboards): read-only, bound to one dashboard or playlist. The token itself is
-- never stored; its jti is the display's id.
create table displays (
  tenant      text        not null,
  id          text        not null,
  name        text        not null,
  kind        text        not null,      -- dashboard | playlist
  target      text        not null,      -- the dashboard's or playlist's id
  created_at  timestamptz not null,
  created_by  text        not null,
  expires_at  timestamptz not null,
  revoked_at  timestamptz,
  primary key (tenant, id)
);
