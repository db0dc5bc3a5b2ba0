-- Saved peer groups: a named set of trusts a signed-in user chose, private to its owner or
-- shared with every signed-in user; and the blueprints a board finding points to.
CREATE TABLE peer_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users (id),
    owner_email TEXT NOT NULL,
    shared INTEGER NOT NULL DEFAULT 0,
    -- ODS codes, comma separated, sorted.
    members TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX peer_groups_owner ON peer_groups (owner_id);
-- Blueprint ids, comma separated.
ALTER TABLE findings ADD COLUMN blueprints TEXT NOT NULL DEFAULT '';
