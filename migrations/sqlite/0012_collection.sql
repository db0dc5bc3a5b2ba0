-- Collection windows (a quarter open for submissions until it closes), reopenings for one
-- trust, and trusts' sign-offs of their quarter.
CREATE TABLE collection_windows (
    quarter TEXT PRIMARY KEY,
    closes_at TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE TABLE window_reopenings (
    quarter TEXT NOT NULL,
    org_code TEXT NOT NULL,
    reopened_by TEXT NOT NULL,
    reopened_at TEXT NOT NULL,
    PRIMARY KEY (quarter, org_code)
);
CREATE TABLE signoffs (
    quarter TEXT NOT NULL,
    org_code TEXT NOT NULL,
    data_version INTEGER NOT NULL,
    signed_by TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    PRIMARY KEY (quarter, org_code)
);
ALTER TABLE users ADD COLUMN can_publish INTEGER NOT NULL DEFAULT 0;
