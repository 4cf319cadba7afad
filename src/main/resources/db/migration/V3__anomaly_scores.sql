-- Anomaly scores and outlier counts on stored windows, and the detectors' saved state.
--
-- score: the window's anomaly score in [0, 1] (io.pulse.agg.Anomaly), null when no detector scored
-- it (not watched, or still warming up). anomaly: its compact explanation (figure, value,
-- expected, band, deviation, method), as the live feed sends it. outliers: events of the window
-- that the stream's event model scored as outliers. Downsampled rows keep the highest score of the
-- windows they merge, with its explanation, and the sum of outliers.
alter table rollup_1s add column score real, add column anomaly jsonb, add column outliers bigint not null default 0;
alter table rollup_1m add column score real, add column anomaly jsonb, add column outliers bigint not null default 0;
alter table rollup_1h add column score real, add column anomaly jsonb, add column outliers bigint not null default 0;

-- The time-series detectors' state, so that a restart does not start every series' warm-up again.
-- One row per detector: a watched figure of one series of a stored view (detector = the view's
-- spec, the series' dims and the figure, as io.pulse.anomaly.RollupScorer names it). Saved in
-- batches on a timer and at shutdown, read at start.
create table detector_state (
  tenant     text        not null,
  stream     text        not null,
  detector   text        not null,
  state      bytea       not null,
  updated_at timestamptz not null default now(),
  primary key (tenant, stream, detector)
);
