-- Alerting, schema 4: alerts with their transitions, and silences. Rules are stored documents
-- (definitions, kind 'rule'), not here. Everything is keyed by tenant.

-- One row per alert (one rule on one series, from pending or firing to resolved), its latest
-- state: upserted by each transition. At start the alerts still active are taken up again by the
-- engine (state, acknowledgement) when their rule still exists; the others are closed.
create table alerts (
  tenant      text        not null,
  id          text        not null,
  rule_id     text        not null,
  rule_name   text        not null,
  stream      text        not null,
  series      jsonb       not null default '{}',
  severity    text        not null,
  state       text        not null check (state in ('pending', 'firing', 'acknowledged', 'resolved')),
  value       double precision,
  message     text,
  labels      jsonb       not null default '{}',
  flapping    boolean     not null default false,
  silenced    boolean     not null default false,
  ack         jsonb,                                  -- {by, comment, at, until, untilResolved} or null
  started_at  timestamptz not null,
  fired_at    timestamptz,
  updated_at  timestamptz not null,
  resolved_at timestamptz,
  primary key (tenant, id)
);
-- GET /api/v1/alerts?state=: a tenant's alerts by state, newest change first
create index alerts_by_state on alerts (tenant, state, updated_at desc);

-- Every transition of every alert, as published on pulse.alerts (the body is that JSON).
create table alert_transitions (
  id         bigserial   primary key,
  tenant     text        not null,
  alert_id   text        not null,
  at         timestamptz not null,
  state      text        not null,
  previous   text,
  reason     text        not null,
  notify     boolean     not null,
  body       jsonb       not null
);
create index alert_transitions_by_alert on alert_transitions (tenant, alert_id, id);
create index alert_transitions_at on alert_transitions using brin (at);

-- Silences: label matchers (Alertmanager's shape) muting notifications for a period.
create table silences (
  tenant      text        not null,
  id          text        not null,
  matchers    jsonb       not null,
  starts_at   timestamptz not null,
  ends_at     timestamptz not null,
  created_by  text        not null,
  created_at  timestamptz not null,
  comment     text,
  primary key (tenant, id)
);
