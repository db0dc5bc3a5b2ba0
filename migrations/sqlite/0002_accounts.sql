-- Accounts, server-side sessions, API tokens, targets and uploads awaiting confirmation.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    org_code TEXT REFERENCES organisations (ods_code),
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE TABLE targets (
    org_code TEXT NOT NULL,
    metric_id TEXT NOT NULL,
    period_index INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    target REAL NOT NULL,
    set_in_index INTEGER NOT NULL,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (org_code, metric_id, period_index, revision)
);
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    filename TEXT,
    content BLOB NOT NULL,
    created_at TEXT NOT NULL
);
ALTER TABLE audit_log ADD COLUMN origin TEXT;
ALTER TABLE submissions ADD COLUMN org_code TEXT;
