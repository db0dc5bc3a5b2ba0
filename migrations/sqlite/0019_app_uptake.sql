-- NHS App uptake (docs/RULES.md §9): a count per area, month, measure and age band, every
-- revision kept as for metric values; the current count of a key is its highest revision.
-- Submitted by analysts and administrators, as submissions of kind `uptake`.
CREATE TABLE app_uptake (
    month_index INTEGER NOT NULL,
    area_code TEXT NOT NULL,
    measure TEXT NOT NULL,
    age_band TEXT NOT NULL,
    revision INTEGER NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    submission_id BIGINT NOT NULL,
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (month_index, area_code, measure, age_band, revision)
) WITHOUT ROWID;
CREATE INDEX app_uptake_by_submission ON app_uptake (submission_id);
