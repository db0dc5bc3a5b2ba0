-- Recommendations: a finding's due date, and the history of its status (who moved it, when,
-- and why), kept for good.
ALTER TABLE findings ADD COLUMN due_on TEXT NOT NULL DEFAULT '';
CREATE TABLE finding_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id INTEGER NOT NULL REFERENCES findings (id),
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX finding_history_finding ON finding_history (finding_id, id);
-- Each finding recorded before now starts its history with its current status.
INSERT INTO finding_history (finding_id, status, note, changed_by, changed_at)
SELECT id, status, 'status when the history began', created_by, updated_at FROM findings;
