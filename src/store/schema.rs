//! Schema migrations, applied in order and recorded in `PRAGMA user_version`.

/// Migration `i` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: datasets and units, and the alignment tables built on them.
    r#"
    CREATE TABLE datasets (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        source      TEXT NOT NULL,
        id_field    TEXT NOT NULL,
        source_crs  TEXT NOT NULL,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE TABLE units (
        id          INTEGER PRIMARY KEY,
        dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        code        TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('polygon', 'point')),
        parent_code TEXT,
        attributes  TEXT NOT NULL,
        metrics     TEXT NOT NULL,
        geom        BLOB NOT NULL,
        UNIQUE (dataset_id, code)
    );
    CREATE VIRTUAL TABLE units_rtree USING rtree(id, minx, maxx, miny, maxy);

    CREATE TABLE alignments (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        revision    INTEGER NOT NULL DEFAULT 0,
        levels      TEXT NOT NULL,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    -- Territories at every level, by code; the domain layer keeps parents consistent.
    CREATE TABLE territories (
        alignment_id INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        level        INTEGER NOT NULL,
        code         TEXT NOT NULL,
        name         TEXT NOT NULL,
        parent_code  TEXT,
        locked       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (alignment_id, level, code)
    ) WITHOUT ROWID;
    CREATE TABLE assignments (
        alignment_id   INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        unit_code      TEXT NOT NULL,
        territory_code TEXT NOT NULL,
        PRIMARY KEY (alignment_id, unit_code)
    ) WITHOUT ROWID;
    CREATE TABLE unit_locks (
        alignment_id INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        unit_code    TEXT NOT NULL,
        PRIMARY KEY (alignment_id, unit_code)
    ) WITHOUT ROWID;
    CREATE TABLE reps (
        alignment_id INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        code         TEXT NOT NULL,
        name         TEXT NOT NULL,
        email        TEXT,
        lon          REAL,
        lat          REAL,
        PRIMARY KEY (alignment_id, code)
    ) WITHOUT ROWID;
    CREATE TABLE rep_territories (
        alignment_id   INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        rep_code       TEXT NOT NULL,
        territory_code TEXT NOT NULL,
        PRIMARY KEY (alignment_id, rep_code, territory_code)
    ) WITHOUT ROWID;
    CREATE TABLE accounts (
        alignment_id       INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        code               TEXT NOT NULL,
        name               TEXT NOT NULL,
        lon                REAL NOT NULL,
        lat                REAL NOT NULL,
        metrics            TEXT NOT NULL DEFAULT '{}',
        override_territory TEXT,
        PRIMARY KEY (alignment_id, code)
    ) WITHOUT ROWID;
    -- Append-only change log; `inverse` undoes `changes`.
    CREATE TABLE change_sets (
        alignment_id INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        revision     INTEGER NOT NULL,
        created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        author       TEXT NOT NULL DEFAULT '',
        summary      TEXT NOT NULL DEFAULT '',
        changes      TEXT NOT NULL,
        inverse      TEXT NOT NULL,
        undoes       INTEGER,
        PRIMARY KEY (alignment_id, revision)
    ) WITHOUT ROWID;
    "#,
    // 2: address points (OpenAddresses) of a dataset, by normalised street, with a
    // trigram FTS5 index over the street names for misspelt queries.
    r#"
    CREATE TABLE streets (
        id          INTEGER PRIMARY KEY,
        dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        norm        TEXT NOT NULL,
        UNIQUE (dataset_id, norm)
    );
    CREATE VIRTUAL TABLE streets_fts USING fts5(
        norm, content = 'streets', content_rowid = 'id', tokenize = 'trigram'
    );
    CREATE TRIGGER streets_ai AFTER INSERT ON streets BEGIN
        INSERT INTO streets_fts (rowid, norm) VALUES (new.id, new.norm);
    END;
    CREATE TRIGGER streets_ad AFTER DELETE ON streets BEGIN
        INSERT INTO streets_fts (streets_fts, rowid, norm) VALUES ('delete', old.id, old.norm);
    END;
    CREATE TABLE addresses (
        id          INTEGER PRIMARY KEY,
        street_id   INTEGER NOT NULL REFERENCES streets(id) ON DELETE CASCADE,
        number      TEXT NOT NULL,
        street      TEXT NOT NULL,
        unit        TEXT NOT NULL DEFAULT '',
        city        TEXT NOT NULL DEFAULT '',
        district    TEXT NOT NULL DEFAULT '',
        region      TEXT NOT NULL DEFAULT '',
        postcode    TEXT NOT NULL DEFAULT '',
        lon         REAL NOT NULL,
        lat         REAL NOT NULL
    );
    CREATE INDEX addresses_street ON addresses (street_id);
    "#,
    // 3: a dataset's generation, bumped whenever its units are replaced, so a server
    // notices units another process re-ingested.
    r#"
    ALTER TABLE datasets ADD COLUMN generation INTEGER NOT NULL DEFAULT 1;
    "#,
    // 4: access tokens (only their SHA-256 is kept) and the Idempotency-Key of each
    // state-changing request answered, written in the transaction of its change.
    r#"
    CREATE TABLE tokens (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        role        TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
        alignment   TEXT,
        hash        TEXT NOT NULL UNIQUE,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        revoked_at  TEXT
    );
    CREATE TABLE idempotency_keys (
        scope        TEXT NOT NULL,
        key          TEXT NOT NULL,
        fingerprint  TEXT NOT NULL,
        status       INTEGER NOT NULL,
        body         TEXT NOT NULL,
        created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (scope, key)
    ) WITHOUT ROWID;
    "#,
    // 5: a dataset's weighted means (`--mean-weighted-by`): a JSON object of field ->
    // weight field.
    r#"
    ALTER TABLE datasets ADD COLUMN means TEXT NOT NULL DEFAULT '{}';
    "#,
    // 6: accounts' text attributes (a JSON object) and rule territories.
    r#"
    ALTER TABLE accounts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
    CREATE TABLE rules (
        alignment_id INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        code         TEXT NOT NULL,
        territory    TEXT NOT NULL,
        condition    TEXT NOT NULL,
        priority     INTEGER NOT NULL,
        PRIMARY KEY (alignment_id, code)
    ) WITHOUT ROWID;
    "#,
    // 7: teams (sales forces): an alignment may be the plan of a team, and one per team
    // is its active plan, the one lookups and lead routing answer from.
    r#"
    ALTER TABLE alignments ADD COLUMN team TEXT;
    ALTER TABLE alignments ADD COLUMN active INTEGER NOT NULL DEFAULT 0;
    CREATE UNIQUE INDEX alignments_active_team ON alignments (team) WHERE active = 1;
    "#,
];
