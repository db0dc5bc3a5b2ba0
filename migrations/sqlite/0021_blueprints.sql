-- Blueprints: what a trust changed, submitted by its users, published after review; searched
-- with the database's own full-text index (FTS5 here), as findings are.
CREATE TABLE blueprints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_code TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    what_we_did TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '',
    standards TEXT NOT NULL DEFAULT '',
    systems TEXT NOT NULL DEFAULT '',
    started TEXT NOT NULL,
    contact_role TEXT NOT NULL,
    status TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    reviewed_by TEXT NOT NULL DEFAULT '',
    reviewed_at TEXT NOT NULL DEFAULT '',
    review_note TEXT NOT NULL DEFAULT ''
);
CREATE VIRTUAL TABLE blueprints_fts USING fts5(title, summary, what_we_did, content='blueprints', content_rowid='id');
CREATE TRIGGER blueprints_fts_insert AFTER INSERT ON blueprints BEGIN
    INSERT INTO blueprints_fts (rowid, title, summary, what_we_did) VALUES (new.id, new.title, new.summary, new.what_we_did);
END;
CREATE VIRTUAL TABLE findings_fts USING fts5(title, body, content='findings', content_rowid='id');
INSERT INTO findings_fts (rowid, title, body) SELECT id, title, body FROM findings;
CREATE TRIGGER findings_fts_insert AFTER INSERT ON findings BEGIN
    INSERT INTO findings_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
