-- Counts behind a proportion (docs/RULES.md §3.9): what a metric's denominator counts, and each
-- value revision's numerator and denominator when the trust sent them (NULL otherwise). A batch
-- written before holds no counts: its NULL arrays unnest as NULLs beside its values.
ALTER TABLE metrics ADD COLUMN counted TEXT NOT NULL DEFAULT '';
ALTER TABLE value_batches ADD COLUMN numerators BIGINT[];
ALTER TABLE value_batches ADD COLUMN denominators BIGINT[];
DROP VIEW current_values;
DROP TRIGGER metric_values_insert ON metric_values;
DROP VIEW metric_values;
CREATE VIEW metric_values AS
    SELECT b.period_index, b.org_code, u.metric_id, u.revision, u.value, u.comment, b.submission_id, b.submitted_at,
        u.numerator, u.denominator
    FROM value_batches b,
        unnest(b.metric_ids, b.revisions, b.vals, b.comments, b.numerators, b.denominators)
            AS u (metric_id, revision, value, comment, numerator, denominator);
CREATE VIEW current_values AS
    SELECT v.org_code, v.metric_id, v.period_index, v.value, v.revision, v.submission_id, v.submitted_at, v.comment,
        v.numerator, v.denominator
    FROM metric_values v
    WHERE NOT EXISTS (SELECT 1 FROM metric_values w WHERE w.period_index = v.period_index
        AND w.org_code = v.org_code AND w.metric_id = v.metric_id AND w.revision > v.revision);
CREATE OR REPLACE FUNCTION metric_values_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO value_batches (period_index, org_code, submission_id, submitted_at, metric_ids, revisions, vals, comments,
            numerators, denominators)
        VALUES (NEW.period_index, NEW.org_code, NEW.submission_id, NEW.submitted_at,
            ARRAY[NEW.metric_id], ARRAY[NEW.revision], ARRAY[NEW.value], ARRAY[NEW.comment],
            ARRAY[NEW.numerator], ARRAY[NEW.denominator]);
    RETURN NEW;
END
$$;
CREATE TRIGGER metric_values_insert INSTEAD OF INSERT ON metric_values
    FOR EACH ROW EXECUTE FUNCTION metric_values_insert();
