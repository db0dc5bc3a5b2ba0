-- Conformance results: every result ever submitted; the current one is chosen when read.
CREATE TABLE conformance_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    standard_id TEXT NOT NULL REFERENCES standards (standard_id),
    result TEXT NOT NULL,
    assessed_on TEXT NOT NULL,
    assessor TEXT,
    evidence TEXT,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    submitted_at TEXT NOT NULL
);
CREATE INDEX conformance_by_subject ON conformance_results (subject, standard_id);
