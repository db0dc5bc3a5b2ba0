-- Sessions end after a time without use as well as at their absolute expiry; visitors who have not
-- signed in no longer get a stored session (their CSRF token is derived from a cookie).
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
DELETE FROM sessions WHERE user_id IS NULL;
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
