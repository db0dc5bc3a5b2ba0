-- A snapshot quarter's head (its quality flags) before its body. SQLite keeps a row's columns in
-- order and reaches a column stored after a large blob only by walking that blob's overflow
-- pages: with the head last, reading every head at start read every body too (a gigabyte at
-- ten million values). The stored payloads are of snapshot format 5, which is no longer read
-- (the figures are computed in full once and stored anew), so the table starts empty, and no
-- snapshot is said to be stored.
DROP TABLE snapshot_quarters;
DELETE FROM app_state WHERE key IN ('snapshot_version', 'snapshot_format', 'snapshot_computed_at');
CREATE TABLE snapshot_quarters (
    period_index INTEGER PRIMARY KEY,
    head BLOB,
    payload BLOB NOT NULL
);
