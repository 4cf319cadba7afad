-- Pulse history, schema 1.
--
-- Conventions:
-- * Every table has tenant text not null default 'default', so multi-tenancy (JWT tenant claims)
--   slots in without a migration of the data; until then everything is tenant 'default'.
-- * Window starts are epoch milliseconds (bigint), as on the wire: rollup rows are the hot path
--   and arithmetic on them (buckets of a step) stays in integers. Metadata rows use timestamptz.
-- * Rollup rows carry the window's figures encoded by Pulse (io.pulse.store.RollupCodec): per value
--   name its exact count, sum, min and max, and its DDSketch bins, so that windows merge into
--   coarser ones exactly as the sketch allows (never averages of percentiles).

-- One row per stored series: a series of a stream (kind 'series': group_by = the series' own dim
-- names, dims = its dims) or one group of a group-by (kind 'group': group_by = the sorted dim names
-- grouped by, empty for the stream total; dims = the group's values).
create table series (
  id         bigserial primary key,
  tenant     text    not null default 'default',
  stream     text    not null,
  kind       text    not null check (kind in ('series', 'group')),
  group_by   text[]  not null default '{}',
  dims       jsonb   not null default '{}',
  created_at timestamptz not null default now()
);
-- The identity of a series. dims is hashed: a series may have 16 dims of 256 characters, more than
-- a b-tree entry can hold; md5 over jsonb's canonical text is immutable, so it can be indexed, and
-- ON CONFLICT infers this index from the same expression.
create unique index series_identity on series (tenant, stream, kind, group_by, md5(dims::text));

-- Closed windows, one table per resolution: rollup_1s (written live), rollup_1m and rollup_1h
-- (written by downsampling). One table each rather than one with a resolution column because
-- retention deletes whole time ranges per resolution (24 h of 1 s, 30 d of 1 min, 2 y of 1 h): a
-- table per resolution deletes and vacuums only its own rows, the heavily churned 1 s table does
-- not bloat the long-lived ones, keys stay narrow, and the 1 s table can later be partitioned by
-- day (drop a partition instead of deleting) without touching the others.
--
-- Key (series_id, start): a replayed final is an idempotent upsert. No foreign key to series: it
-- would cost an index probe per row on the write path, and series rows are never deleted.
-- A BRIN index on start serves the retention deletes: rows arrive in time order, so it stays a
-- few pages however large the table grows, and costs next to nothing per insert.
create table rollup_1s (
  series_id bigint not null,
  start     bigint not null,           -- window start, epoch ms
  tenant    text   not null default 'default',
  count     bigint not null,           -- events in the window
  latest    bigint,                    -- newest event time in the window, epoch ms
  data      bytea  not null,           -- per value: count, sum, min, max, DDSketch bins
  primary key (series_id, start)
);
create index rollup_1s_start on rollup_1s using brin (start);

create table rollup_1m (like rollup_1s including defaults including constraints);
alter table rollup_1m add primary key (series_id, start);
create index rollup_1m_start on rollup_1m using brin (start);

create table rollup_1h (like rollup_1s including defaults including constraints);
alter table rollup_1h add primary key (series_id, start);
create index rollup_1h_start on rollup_1h using brin (start);

-- The stream catalogue: what GET /api/v1/streams lists after a restart.
create table streams (
  tenant      text        not null default 'default',
  name        text        not null,
  dims        jsonb       not null default '{}',   -- dim name -> array of known values
  value_names jsonb       not null default '[]',   -- array of value names
  first_seen  timestamptz not null,
  last_seen   timestamptz not null,
  primary key (tenant, name)
);

-- Rejected events. The same payload rejected again for the same reason bumps count and last_seen
-- (fingerprint: a hash of stream, reason and payload, computed by Pulse).
create table quarantine (
  id          bigserial   primary key,
  tenant      text        not null default 'default',
  stream      text,                                  -- null when the event named none we could read
  source      text        not null,                  -- http, kafka, demo, ...
  reason      text        not null,
  payload     text        not null,
  fingerprint text        not null,
  first_seen  timestamptz not null,
  last_seen   timestamptz not null,
  count       bigint      not null default 1,
  unique (tenant, fingerprint)
);
create index quarantine_recent on quarantine (tenant, stream, last_seen desc);

-- Rules and dashboards as JSON documents: the current version of each here, every version
-- (including deletions) in definition_versions.
create table definitions (
  tenant     text        not null default 'default',
  kind       text        not null check (kind in ('rule', 'dashboard')),
  id         text        not null,
  version    integer     not null,
  doc        jsonb       not null,
  updated_by text        not null,
  updated_at timestamptz not null default now(),
  deleted    boolean     not null default false,
  primary key (tenant, kind, id)
);

create table definition_versions (
  tenant     text        not null default 'default',
  kind       text        not null check (kind in ('rule', 'dashboard')),
  id         text        not null,
  version    integer     not null,
  doc        jsonb       not null,
  updated_by text        not null,
  updated_at timestamptz not null,
  deleted    boolean     not null default false,
  primary key (tenant, kind, id, version)
);

-- Every change to definitions and every admin action.
create table audit (
  id     bigserial   primary key,
  at     timestamptz not null default now(),
  tenant text        not null default 'default',
  actor  text        not null,
  action text        not null,                      -- e.g. rule.update, quarantine.purge
  target text,
  detail jsonb       not null default '{}'
);
create index audit_recent on audit (tenant, at desc);
