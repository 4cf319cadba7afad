-- Webhook notifications (io.pulse.notify): the receivers, and every notification made for them
-- until it is delivered or failed.

-- One row per webhook. doc is the API document (name, url, enabled, match); the secret signs
-- every notification (HMAC-SHA256), so it is kept as it is, apart from the document: the API
-- shows it once, in the answer to its creation, and never again.
create table webhooks (
  tenant     text        not null default 'default',
  id         text        not null,
  doc        jsonb       not null,
  secret     text        not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (tenant, id)
);

-- One row per notification to one webhook. body is the exact JSON text signed and sent on every
-- attempt. A pending row is tried again at next_attempt_at (after a restart too); delivered and
-- failed rows are final (kept notify.keepMs after their last change, then deleted). No foreign key
-- to webhooks: a deleted webhook's deliveries stay as its history.
create table webhook_deliveries (
  tenant          text        not null default 'default',
  id              text        not null,
  webhook         text        not null,
  body            text        not null,
  state           text        not null check (state in ('pending', 'delivered', 'failed')),
  attempts        integer     not null default 0,
  last_status     integer,
  last_error      text,
  next_attempt_at timestamptz,
  created_at      timestamptz not null,
  updated_at      timestamptz not null,
  primary key (tenant, id)
);
create index webhook_deliveries_recent on webhook_deliveries (tenant, webhook, created_at desc);
-- what a start resumes, and what retention deletes
create index webhook_deliveries_pending on webhook_deliveries (created_at) where state = 'pending';
create index webhook_deliveries_done on webhook_deliveries (updated_at) where state <> 'pending';
