//! MBTiles 1.3 writer (SQLite): gzip MVT tiles in the `tiles` table with TMS rows, and
//! the metadata GDAL, QGIS and tile servers read (`format=pbf`, bounds, centre, zooms,
//! `json` with the vector layers).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use super::TileError;

/// Writes an MBTiles file in one transaction.
pub struct MbtilesWriter {
    path: PathBuf,
    tmp: PathBuf,
    connection: Connection,
}

impl std::fmt::Debug for MbtilesWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MbtilesWriter({})", self.path.display())
    }
}

fn sql_error(path: &Path, e: impl std::fmt::Display) -> TileError {
    TileError::Export {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

impl MbtilesWriter {
    /// Starts a file at `path` (written beside it, moved into place by [`MbtilesWriter::finish`]).
    pub fn create(path: &Path) -> Result<MbtilesWriter, TileError> {
        let tmp = path.with_extension("mbtiles.tmp");
        let _ = std::fs::remove_file(&tmp);
        let connection = Connection::open(&tmp).map_err(|e| sql_error(&tmp, e))?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = OFF;
                 PRAGMA synchronous = OFF;
                 CREATE TABLE metadata (name TEXT NOT NULL, value TEXT);
                 CREATE UNIQUE INDEX metadata_name ON metadata (name);
                 CREATE TABLE tiles (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL,
                                     tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL);
                 CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);
                 BEGIN;",
            )
            .map_err(|e| sql_error(&tmp, e))?;
        Ok(MbtilesWriter {
            path: path.to_owned(),
            tmp,
            connection,
        })
    }

    /// Adds a tile (gzip MVT bytes) at XYZ z/x/y (stored with the TMS row).
    pub fn add(&mut self, z: u8, x: u32, y: u32, bytes: &[u8]) -> Result<(), TileError> {
        let row = (1u32 << z) - 1 - y;
        self.connection
            .prepare_cached(
                "INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![z, x, row, bytes]))
            .map_err(|e| sql_error(&self.tmp, e))?;
        Ok(())
    }

    /// Writes the metadata rows (name, value), commits and moves the file into place.
    pub fn finish(self, metadata: &[(&str, String)]) -> Result<(), TileError> {
        for (name, value) in metadata {
            self.connection
                .execute(
                    "INSERT OR REPLACE INTO metadata (name, value) VALUES (?1, ?2)",
                    params![name, value],
                )
                .map_err(|e| sql_error(&self.tmp, e))?;
        }
        self.connection
            .execute_batch("COMMIT;")
            .map_err(|e| sql_error(&self.tmp, e))?;
        self.connection
            .close()
            .map_err(|(_, e)| sql_error(&self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| sql_error(&self.path, e))
    }
}
