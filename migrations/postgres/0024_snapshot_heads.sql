-- A snapshot quarter's head (its quality flags) apart from its body (its tables and values): a
-- starting instance reads every head and the latest body before it is ready, and the other
-- bodies after (snapshot format 4). Neither is compressed: a body is read whole at start, and
-- decompressing tens of megabytes would cost more than reading them.
ALTER TABLE snapshot_quarters ADD COLUMN head BYTEA;
ALTER TABLE snapshot_quarters ALTER COLUMN head SET STORAGE EXTERNAL;
ALTER TABLE snapshot_quarters ALTER COLUMN payload SET STORAGE EXTERNAL;
