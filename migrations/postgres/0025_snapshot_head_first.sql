-- A snapshot quarter's head (its quality flags) before its body, as on SQLite, where a column
-- stored after a large blob is reached only by walking that blob's pages (here each is stored
-- apart, EXTERNAL, so the order costs nothing; the two schemas keep one shape). The stored
-- payloads are of snapshot format 5, which is no longer read (the figures are computed in full
-- once and stored anew), so the table starts empty, and no snapshot is said to be stored.
DROP TABLE snapshot_quarters;
DELETE FROM app_state WHERE key IN ('snapshot_version', 'snapshot_format', 'snapshot_computed_at');
CREATE TABLE snapshot_quarters (
    period_index INTEGER PRIMARY KEY,
    head BYTEA,
    payload BYTEA NOT NULL
);
ALTER TABLE snapshot_quarters ALTER COLUMN head SET STORAGE EXTERNAL;
ALTER TABLE snapshot_quarters ALTER COLUMN payload SET STORAGE EXTERNAL;
