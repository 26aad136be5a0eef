//! OGC GeoPackage 1.3 written with rusqlite: `gpkg_spatial_ref_sys` (with the
//! required -1/0 rows and EPSG:4326), `gpkg_contents`, `gpkg_geometry_columns`, one
//! feature table with standard GeoPackage binary geometries (header, envelope,
//! little-endian WKB), and the `gpkg_rtree_index` extension (R*Tree plus its triggers).

use std::path::Path;

use geo::{BoundingRect, Geometry};
use geozero::{CoordDimensions, ToWkb};
use rusqlite::{Connection, params_from_iter, types::Value as Sql};

use super::{ColumnKind, ExportError, Field, GeometryKind, Layer, Progress};

const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

/// `"name"` quoted as an SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table name GeoPackage accepts: letters, digits and `_`, not starting with `gpkg_`.
fn table_name(layer: &Layer) -> String {
    let mut name: String = layer
        .name()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) || name.to_ascii_lowercase().starts_with("gpkg_") {
        name.insert_str(0, "t_");
    }
    name
}

/// GeoPackage binary geometry (geozero): `GP`, version 0, little-endian flags, srs_id
/// 4326, envelope `[minx, maxx, miny, maxy]` (none for points), WKB.
pub fn geometry_blob(geometry: &Geometry<f64>) -> Result<Vec<u8>, String> {
    let envelope = match geometry {
        Geometry::Point(_) => Vec::new(),
        g => g
            .bounding_rect()
            .map_or_else(Vec::new, |r| vec![r.min().x, r.max().x, r.min().y, r.max().y]),
    };
    geometry
        .to_gpkg_wkb(CoordDimensions::xy(), Some(4326), envelope)
        .map_err(|e| e.to_string())
}

/// Writes `layer` as a new GeoPackage at `path` (which must not exist).
pub fn write(layer: &Layer, path: &Path, progress: Progress) -> Result<(), ExportError> {
    let sql = |source| ExportError::Gpkg {
        path: path.display().to_string(),
        source,
    };
    let mut conn = Connection::open(path).map_err(sql)?;
    let table = table_name(layer);
    let t = ident(&table);
    let rtree_name = format!("rtree_{table}_geom");
    let rtree = ident(&rtree_name);
    let geometry_type = match layer.geometry_kind {
        GeometryKind::MultiPolygon => "MULTIPOLYGON",
        GeometryKind::Mixed => "GEOMETRY",
        GeometryKind::Point => "POINT",
    };
    let columns: Vec<String> = layer
        .columns
        .iter()
        .map(|c| {
            let kind = match c.kind {
                ColumnKind::Text => "TEXT",
                ColumnKind::Real => "REAL",
                ColumnKind::Integer => "INTEGER",
                ColumnKind::Bool => "BOOLEAN",
            };
            format!("{} {kind}", ident(&c.name))
        })
        .collect();
    conn.execute_batch(&format!(
        r#"
        PRAGMA application_id = 1196444487;
        PRAGMA user_version = 10300;
        PRAGMA journal_mode = OFF;
        PRAGMA synchronous = OFF;
        CREATE TABLE gpkg_spatial_ref_sys (
            srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
            organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
        INSERT INTO gpkg_spatial_ref_sys VALUES
            ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
            ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
            ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{WGS84_WKT}', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
        CREATE TABLE gpkg_contents (
            table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
            description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
        CREATE TABLE gpkg_geometry_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
            srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
            CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
            CONSTRAINT uk_gc_table_name UNIQUE (table_name),
            CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
        CREATE TABLE gpkg_extensions (
            table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
            scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
        CREATE TABLE {t} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom {geometry_type}, {columns});
        CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy);
        "#,
        columns = columns.join(", ")
    ))
    .map_err(sql)?;

    let tx = conn.transaction().map_err(sql)?;
    {
        let names: Vec<String> = layer.columns.iter().map(|c| ident(&c.name)).collect();
        let marks = vec!["?"; layer.columns.len() + 1].join(", ");
        let mut insert = tx
            .prepare(&format!(
                "INSERT INTO {t} (geom, {}) VALUES ({marks})",
                names.join(", ")
            ))
            .map_err(sql)?;
        let mut index = tx
            .prepare(&format!("INSERT INTO {rtree} VALUES (?, ?, ?, ?, ?)"))
            .map_err(sql)?;
        let mut values: Vec<Sql> = Vec::with_capacity(layer.columns.len() + 1);
        for (n, record) in layer.records().enumerate() {
            values.clear();
            let blob = match &record.geometry {
                Some(g) => Some(geometry_blob(g).map_err(|reason| ExportError::Geometry {
                    id: record.id.clone(),
                    reason,
                })?),
                None => None,
            };
            values.push(blob.map_or(Sql::Null, Sql::Blob));
            values.extend(record.fields.iter().map(|f| match f {
                Field::Null => Sql::Null,
                Field::Text(s) => Sql::Text(s.clone()),
                Field::Real(v) => Sql::Real(*v),
                Field::Integer(v) => Sql::Integer(*v),
                Field::Bool(v) => Sql::Integer(i64::from(*v)),
            }));
            insert.execute(params_from_iter(values.iter())).map_err(sql)?;
            let fid = tx.last_insert_rowid();
            if let Some(r) = record.geometry.as_ref().and_then(BoundingRect::bounding_rect) {
                index
                    .execute(rusqlite::params![fid, r.min().x, r.max().x, r.min().y, r.max().y])
                    .map_err(sql)?;
            }
            if n % 1024 == 0 {
                progress(n);
            }
        }
    }
    let extent = layer.extent();
    let (min_x, min_y, max_x, max_y) = extent.map_or((None, None, None, None), |r| {
        (Some(r.min().x), Some(r.min().y), Some(r.max().x), Some(r.max().y))
    });
    let description = format!(
        "geoalign alignment '{}' revision {}, level {}",
        layer.snapshot.alignment,
        layer.snapshot.revision,
        layer.level.name(layer.snapshot)
    );
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id)
         VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, ?6, 4326)",
        rusqlite::params![table, description, min_x, min_y, max_x, max_y],
    )
    .map_err(sql)?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, 4326, 0, 0)",
        rusqlite::params![table, geometry_type],
    )
    .map_err(sql)?;
    tx.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        rusqlite::params![table],
    )
    .map_err(sql)?;
    // The R-tree triggers call ST_* functions that GeoPackage readers (GDAL) provide;
    // they are created after the rows, which were indexed above.
    let trigger = |suffix: &str| ident(&format!("{rtree_name}_{suffix}"));
    let bounds = "NEW.\"geom\", ST_MaxX(NEW.\"geom\"), ST_MinY(NEW.\"geom\"), ST_MaxY(NEW.\"geom\")";
    tx.execute_batch(&format!(
        r#"
        CREATE TRIGGER {insert} AFTER INSERT ON {t}
          WHEN (new."geom" NOT NULL AND NOT ST_IsEmpty(NEW."geom"))
          BEGIN INSERT OR REPLACE INTO {rtree} VALUES (NEW."fid", ST_MinX({bounds})); END;
        CREATE TRIGGER {update1} AFTER UPDATE OF "geom" ON {t}
          WHEN OLD."fid" = NEW."fid" AND (NEW."geom" NOTNULL AND NOT ST_IsEmpty(NEW."geom"))
          BEGIN INSERT OR REPLACE INTO {rtree} VALUES (NEW."fid", ST_MinX({bounds})); END;
        CREATE TRIGGER {update2} AFTER UPDATE OF "geom" ON {t}
          WHEN OLD."fid" = NEW."fid" AND (NEW."geom" ISNULL OR ST_IsEmpty(NEW."geom"))
          BEGIN DELETE FROM {rtree} WHERE id = OLD."fid"; END;
        CREATE TRIGGER {update3} AFTER UPDATE ON {t}
          WHEN OLD."fid" != NEW."fid" AND (NEW."geom" NOTNULL AND NOT ST_IsEmpty(NEW."geom"))
          BEGIN DELETE FROM {rtree} WHERE id = OLD."fid";
                INSERT OR REPLACE INTO {rtree} VALUES (NEW."fid", ST_MinX({bounds})); END;
        CREATE TRIGGER {update4} AFTER UPDATE ON {t}
          WHEN OLD."fid" != NEW."fid" AND (NEW."geom" ISNULL OR ST_IsEmpty(NEW."geom"))
          BEGIN DELETE FROM {rtree} WHERE id IN (OLD."fid", NEW."fid"); END;
        CREATE TRIGGER {delete} AFTER DELETE ON {t}
          WHEN old."geom" NOT NULL
          BEGIN DELETE FROM {rtree} WHERE id = OLD."fid"; END;
        "#,
        insert = trigger("insert"),
        update1 = trigger("update1"),
        update2 = trigger("update2"),
        update3 = trigger("update3"),
        update4 = trigger("update4"),
        delete = trigger("delete"),
    ))
    .map_err(sql)?;
    tx.commit().map_err(sql)?;
    progress(layer.len());
    Ok(())
}
