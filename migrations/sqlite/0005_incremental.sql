-- What changed after a data version, for the incremental refresh.
CREATE INDEX current_values_by_submission ON current_values (submission_id);
-- Snapshots move from one JSON text per version to MessagePack, one row per quarter: a refresh
-- rewrites only the quarters it changed, and no row grows with the number of quarters.
DROP TABLE analytics_snapshots;
CREATE TABLE snapshot_quarters (
    period_index INTEGER PRIMARY KEY,
    payload BLOB NOT NULL
);
