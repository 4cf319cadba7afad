-- Event scoring (issue 12): every trained event model of a scored stream, and the events its
-- models scored as outliers, kept for inspection (GET /api/v1/streams/{stream}/outliers).
-- Keyed by tenant like everything else.
create table event_models (
  tenant        text             not null,
  stream        text             not null,
  version       integer          not null,
  trained_at    bigint           not null,   -- epoch ms
  training_size integer          not null,   -- events in the training sample
  training_ms   bigint           not null,   -- how long training took
  nu            double precision not null,
  threshold     double precision not null,
  features      jsonb            not null,   -- feature names, in weight order
  model         jsonb            not null,   -- the whole record as GET .../model shows it (weights, transforms)
  trained_on    text             not null,   -- the worker thread that trained it
  primary key (tenant, stream, version)
);

create table event_outliers (
  id            bigserial        primary key,
  tenant        text             not null,
  stream        text             not null,
  ts            bigint           not null,   -- event time, epoch ms
  arrival       bigint           not null,   -- when Pulse received it
  event_id      text,                        -- the event's own id, when it had one
  score         double precision not null,   -- in [0, 1]; above 0.5 is outside the model's boundary
  decision      double precision not null,   -- the one-class SVM's decision value
  model_version integer          not null,
  dims          jsonb            not null,
  vals          jsonb            not null,
  reasons       jsonb            not null    -- the features that pulled it out most
);
create index event_outliers_stream_ts on event_outliers (tenant, stream, ts);
