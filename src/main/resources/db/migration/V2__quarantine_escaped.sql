-- Quarantined events whose stream, reason or payload held what PostgreSQL text cannot (NUL,
-- unpaired surrogates) are stored escaped (io.pulse.store.PgText: a backslash doubled, NUL as \0,
-- an unpaired surrogate as \uXXXX); escaped says so, for all three columns of the row.
alter table quarantine add column escaped boolean not null default false;
