-- A snapshot quarter's head (its quality flags) apart from its body (its tables and values): a
-- starting instance reads every head and the latest body before it is ready, and the other
-- bodies after (snapshot format 4).
ALTER TABLE snapshot_quarters ADD COLUMN head BLOB;
