-- Every revision of every value in one table, clustered by quarter: an import into a quarter
-- appends to one end of one B-tree instead of writing two tables and four indexes, and the
-- current value of a key is its highest revision (the `current_values` view). No foreign key on
-- `submission_id`: the writer adds the submission in the same transaction as its values.
CREATE TABLE value_revisions (
    period_index BIGINT NOT NULL,
    org_code TEXT NOT NULL,
    metric_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    comment TEXT,
    submission_id BIGINT NOT NULL,
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (period_index, org_code, metric_id, revision)
);
INSERT INTO value_revisions (period_index, org_code, metric_id, revision, value, comment, submission_id, submitted_at)
    SELECT period_index, org_code, metric_id, revision, value, comment, submission_id, submitted_at FROM metric_values
    ORDER BY period_index, org_code, metric_id, revision;
DROP TABLE current_values;
DROP TABLE metric_values;
ALTER TABLE value_revisions RENAME TO metric_values;
-- What changed after a data version, for the incremental refresh (submission ids only grow).
CREATE INDEX metric_values_by_submission ON metric_values (submission_id);
-- The quarters that hold values: a look-up of one key's history seeks each quarter's part of
-- the primary key instead of scanning the table.
CREATE TABLE value_periods (period_index BIGINT PRIMARY KEY);
INSERT INTO value_periods (period_index) SELECT DISTINCT period_index FROM metric_values;
CREATE VIEW current_values AS
    SELECT v.org_code, v.metric_id, v.period_index, v.value, v.revision, v.submission_id, v.submitted_at, v.comment
    FROM metric_values v
    WHERE NOT EXISTS (SELECT 1 FROM metric_values w WHERE w.period_index = v.period_index
        AND w.org_code = v.org_code AND w.metric_id = v.metric_id AND w.revision > v.revision);
