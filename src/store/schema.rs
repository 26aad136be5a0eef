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
        levels      TEXT NOT NULL DEFAULT '["territory","district","region"]',
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE TABLE territories (
        id           INTEGER PRIMARY KEY,
        alignment_id INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        level        INTEGER NOT NULL,
        code         TEXT NOT NULL,
        name         TEXT NOT NULL,
        parent_id    INTEGER REFERENCES territories(id) ON DELETE SET NULL,
        locked       INTEGER NOT NULL DEFAULT 0,
        UNIQUE (alignment_id, level, code)
    );
    CREATE TABLE assignments (
        alignment_id INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        unit_id      INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
        territory_id INTEGER NOT NULL REFERENCES territories(id),
        locked       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (alignment_id, unit_id)
    ) WITHOUT ROWID;
    CREATE INDEX assignments_territory ON assignments(territory_id);
    CREATE TABLE reps (
        id           INTEGER PRIMARY KEY,
        alignment_id INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        code         TEXT NOT NULL,
        name         TEXT NOT NULL,
        email        TEXT,
        lon          REAL,
        lat          REAL,
        UNIQUE (alignment_id, code)
    );
    CREATE TABLE rep_territories (
        rep_id       INTEGER NOT NULL REFERENCES reps(id) ON DELETE CASCADE,
        territory_id INTEGER NOT NULL REFERENCES territories(id) ON DELETE CASCADE,
        PRIMARY KEY (rep_id, territory_id)
    ) WITHOUT ROWID;
    CREATE TABLE accounts (
        id                    INTEGER PRIMARY KEY,
        alignment_id          INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        code                  TEXT NOT NULL,
        name                  TEXT NOT NULL,
        lon                   REAL,
        lat                   REAL,
        metrics               TEXT NOT NULL DEFAULT '{}',
        override_territory_id INTEGER REFERENCES territories(id) ON DELETE SET NULL,
        UNIQUE (alignment_id, code)
    );
    CREATE TABLE change_sets (
        id           INTEGER PRIMARY KEY,
        alignment_id INTEGER NOT NULL REFERENCES alignments(id) ON DELETE CASCADE,
        revision     INTEGER NOT NULL,
        created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        author       TEXT NOT NULL DEFAULT '',
        summary      TEXT NOT NULL DEFAULT '',
        changes      TEXT NOT NULL,
        inverse      TEXT NOT NULL,
        UNIQUE (alignment_id, revision)
    );
    "#,
];
