-- What an API token may do (`read`, `submit`, or both, space-separated) and when it stops
-- working (empty: never). Tokens made before scopes keep both.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read submit';
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
