-- Counts behind a proportion (docs/RULES.md §3.9): what a metric's denominator counts, and each
-- value revision's numerator and denominator when the trust sent them (NULL otherwise).
ALTER TABLE metrics ADD COLUMN counted TEXT NOT NULL DEFAULT '';
ALTER TABLE metric_values ADD COLUMN numerator INTEGER;
ALTER TABLE metric_values ADD COLUMN denominator INTEGER;
DROP VIEW current_values;
CREATE VIEW current_values AS
    SELECT v.org_code, v.metric_id, v.period_index, v.value, v.revision, v.submission_id, v.submitted_at, v.comment,
        v.numerator, v.denominator
    FROM metric_values v
    WHERE NOT EXISTS (SELECT 1 FROM metric_values w WHERE w.period_index = v.period_index
        AND w.org_code = v.org_code AND w.metric_id = v.metric_id AND w.revision > v.revision);
