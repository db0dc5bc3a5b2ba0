-- What changed after a data version, for the incremental refresh.
CREATE INDEX current_values_by_submission ON current_values (submission_id);
-- Snapshots move from JSON text to MessagePack bytes.
DROP TABLE analytics_snapshots;
CREATE TABLE analytics_snapshots (
    data_version BIGINT PRIMARY KEY,
    computed_at TEXT NOT NULL,
    payload BYTEA NOT NULL
);
