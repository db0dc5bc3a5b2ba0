-- The quarters each submission stored values in. What changed after a data version is read
-- quarter by quarter through the value table's primary key, so that table needs no index on
-- submission_id: that index cost a bulk import on PostgreSQL a third of its time. The quarters
-- that hold values are those of this table, so `value_periods` goes.
CREATE TABLE submission_quarters (
    submission_id BIGINT NOT NULL,
    period_index BIGINT NOT NULL,
    PRIMARY KEY (submission_id, period_index)
);
INSERT INTO submission_quarters (submission_id, period_index)
    SELECT DISTINCT submission_id, period_index FROM metric_values;
DROP INDEX metric_values_by_submission;
DROP TABLE value_periods;
