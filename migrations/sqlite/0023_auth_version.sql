-- A counter every change to sessions, users' standing or API tokens moves on: each instance
-- keeps the sessions and tokens it has checked for a few seconds, and forgets them all as soon
-- as it sees the counter move (docs/RULES.md §1).
CREATE TABLE auth_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO auth_version (id, n) VALUES (1, 0);
