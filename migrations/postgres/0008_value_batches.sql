-- PostgreSQL keeps a submission's values for one organisation and quarter in one row, the metrics
-- in arrays, instead of one row per value. A bulk import then writes one heap tuple and one
-- primary-key entry per (quarter, organisation), not per value: maintaining a B-tree entry per
-- row is what made COPY into the value table 3-4 times as slow as into a bare table (see
-- BENCHMARKS.md, "PostgreSQL's floor"). `metric_values` becomes a view with the columns it had,
-- so every query reads the values as before.
--
-- A batch's `submitted_at` is its submission's; a (quarter, organisation) can have several
-- batches in one submission (`part` tells them apart). The key (quarter, organisation, metric,
-- revision) is kept unique by the writers, which hold the writers' lock and give each changed
-- value its key's next revision.
CREATE SEQUENCE value_batch_parts;
CREATE TABLE value_batches (
    period_index BIGINT NOT NULL,
    org_code TEXT NOT NULL,
    submission_id BIGINT NOT NULL,
    part BIGINT NOT NULL DEFAULT nextval('value_batch_parts'),
    submitted_at TEXT NOT NULL,
    metric_ids TEXT[] NOT NULL,
    revisions BIGINT[] NOT NULL,
    vals DOUBLE PRECISION[] NOT NULL,
    comments TEXT[] NOT NULL,
    PRIMARY KEY (period_index, org_code, submission_id, part)
);
INSERT INTO value_batches (period_index, org_code, submission_id, submitted_at, metric_ids, revisions, vals, comments)
    SELECT period_index, org_code, submission_id, min(submitted_at),
        array_agg(metric_id ORDER BY metric_id, revision), array_agg(revision ORDER BY metric_id, revision),
        array_agg(value ORDER BY metric_id, revision), array_agg(comment ORDER BY metric_id, revision)
    FROM metric_values
    GROUP BY period_index, org_code, submission_id
    ORDER BY period_index, org_code, submission_id;
DROP VIEW current_values;
DROP TABLE metric_values;
CREATE VIEW metric_values AS
    SELECT b.period_index, b.org_code, u.metric_id, u.revision, u.value, u.comment, b.submission_id, b.submitted_at
    FROM value_batches b, unnest(b.metric_ids, b.revisions, b.vals, b.comments) AS u (metric_id, revision, value, comment);
CREATE VIEW current_values AS
    SELECT v.org_code, v.metric_id, v.period_index, v.value, v.revision, v.submission_id, v.submitted_at, v.comment
    FROM metric_values v
    WHERE NOT EXISTS (SELECT 1 FROM metric_values w WHERE w.period_index = v.period_index
        AND w.org_code = v.org_code AND w.metric_id = v.metric_id AND w.revision > v.revision);
-- The row-by-row writer (web form and API uploads) inserts into the view: each row becomes a
-- batch of one value.
CREATE FUNCTION metric_values_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO value_batches (period_index, org_code, submission_id, submitted_at, metric_ids, revisions, vals, comments)
        VALUES (NEW.period_index, NEW.org_code, NEW.submission_id, NEW.submitted_at,
            ARRAY[NEW.metric_id], ARRAY[NEW.revision], ARRAY[NEW.value], ARRAY[NEW.comment]);
    RETURN NEW;
END
$$;
CREATE TRIGGER metric_values_insert INSTEAD OF INSERT ON metric_values
    FOR EACH ROW EXECUTE FUNCTION metric_values_insert();
