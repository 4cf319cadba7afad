-- Cluster mode: the events-topic partition whose owner scores a detector's series, so that a new
-- owner of a partition reads exactly its series' detectors (io.pulse.store.DetectorStore.loadPartitions).
-- Null for a single node's detectors and for those of totals and group-bys, which every instance keeps.
alter table detector_state add column part integer;
create index detector_state_part on detector_state (part) where part is not null;
