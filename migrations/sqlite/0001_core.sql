-- Reference data, submissions with revisions, the audit log and stored benchmark snapshots.
CREATE TABLE organisations (
    ods_code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    trust_type TEXT NOT NULL,
    region TEXT NOT NULL,
    exemplar TEXT NOT NULL,
    exemplar_cohort INTEGER
);
CREATE TABLE domains (
    domain_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE metrics (
    metric_id TEXT PRIMARY KEY,
    domain TEXT NOT NULL REFERENCES domains (domain_id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    unit TEXT NOT NULL,
    scale_min REAL NOT NULL,
    scale_max REAL NOT NULL,
    direction TEXT NOT NULL,
    applies_to TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE standards (
    standard_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    version TEXT NOT NULL,
    mandatory_from TEXT,
    assessed_at TEXT NOT NULL,
    reference TEXT NOT NULL,
    description TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE systems (
    system_id TEXT PRIMARY KEY,
    supplier TEXT NOT NULL,
    product TEXT NOT NULL,
    version TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE deployments (
    ods_code TEXT NOT NULL REFERENCES organisations (ods_code),
    system_id TEXT NOT NULL REFERENCES systems (system_id),
    function TEXT NOT NULL,
    PRIMARY KEY (ods_code, system_id, function)
);
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    source TEXT NOT NULL,
    filename TEXT,
    rows_total INTEGER NOT NULL,
    rows_stored INTEGER NOT NULL,
    errors TEXT NOT NULL
);
CREATE INDEX submissions_by_hash ON submissions (kind, content_hash, status);
-- Every revision of every value; nothing is updated or deleted.
CREATE TABLE metric_values (
    org_code TEXT NOT NULL,
    metric_id TEXT NOT NULL,
    period_index INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    value REAL NOT NULL,
    comment TEXT,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (org_code, metric_id, period_index, revision)
);
-- The newest revision of each (organisation, metric, quarter).
CREATE TABLE current_values (
    org_code TEXT NOT NULL,
    metric_id TEXT NOT NULL,
    period_index INTEGER NOT NULL,
    value REAL NOT NULL,
    revision INTEGER NOT NULL,
    submission_id INTEGER NOT NULL,
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (org_code, metric_id, period_index)
);
CREATE INDEX current_values_by_period ON current_values (period_index);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    submission_id INTEGER,
    detail TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE app_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE analytics_snapshots (
    data_version INTEGER PRIMARY KEY,
    computed_at TEXT NOT NULL,
    payload TEXT NOT NULL
);
