-- Published releases: a quarter's figures as they stood at a data version, which never change.
CREATE TABLE releases (
    id TEXT PRIMARY KEY,
    quarter TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    data_version BIGINT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    note TEXT NOT NULL,
    changes TEXT NOT NULL
);
