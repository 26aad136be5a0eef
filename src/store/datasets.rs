//! Datasets and their units.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use geo::{BoundingRect, Geometry, MultiPolygon};
use geozero::wkb::Wkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use super::Store;
use crate::feature::{Properties, StoredUnit, Unit, UnitKind};
use crate::store::StoreError;

/// What the store records about a dataset's origin.
#[derive(Debug, Clone)]
pub struct DatasetMeta {
    /// Dataset name.
    pub name: String,
    /// Source file.
    pub source: String,
    /// Property that held the unit id.
    pub id_field: String,
    /// CRS of the source coordinates.
    pub source_crs: String,
    /// Fields averaged per territory (not summed), each with the metric weighing it.
    pub means: BTreeMap<String, String>,
}

/// A dataset as listed by the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Dataset)]
pub struct DatasetInfo {
    /// Dataset name.
    pub name: String,
    /// Source file.
    pub source: String,
    /// Property that held the unit id.
    pub id_field: String,
    /// CRS of the source coordinates (stored geometry is EPSG:4326).
    pub source_crs: String,
    /// When it was ingested (UTC, ISO 8601).
    pub created_at: String,
    /// Number of polygon units.
    pub polygon_units: i64,
    /// Number of point units.
    pub point_units: i64,
    /// Bounding box of all units: [west, south, east, north].
    pub bbox: Option<[f64; 4]>,
    /// Names of the numeric properties of its units summed per territory (metrics).
    pub metrics: Vec<String>,
    /// Numeric properties averaged per territory instead, each with the metric weighing it.
    pub means: BTreeMap<String, String>,
}

impl Store {
    /// Whether a dataset of that name exists.
    pub fn dataset_exists(&self, name: &str) -> Result<bool, StoreError> {
        self.read(|conn| {
            dataset_id(conn, name)
                .map(|id| id.is_some())
                .map_err(|e| self.sqlite_error(e))
        })
    }

    /// Stores a dataset in one transaction. A dataset of that name keeps its row (so
    /// its alignments and address points stay) and gets the new units and a new
    /// generation; the alignments named in `drop_alignments` are deleted with their
    /// history in the same transaction. `progress` is told of every batch stored.
    pub fn replace_dataset(
        &self,
        meta: &DatasetMeta,
        units: &[Unit],
        drop_alignments: &[String],
        progress: &dyn Fn(usize),
    ) -> Result<(), StoreError> {
        // A map of strings always serialises.
        let means = serde_json::to_string(&meta.means).unwrap_or_else(|_| "{}".into());
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.sqlite_error(e))?;
        let write = |tx: &Transaction| -> rusqlite::Result<()> {
            let id = match dataset_id(tx, &meta.name)? {
                Some(old) => {
                    tx.execute(
                        "DELETE FROM units_rtree WHERE id IN (SELECT id FROM units WHERE dataset_id = ?1)",
                        [old],
                    )?;
                    tx.execute("DELETE FROM units WHERE dataset_id = ?1", [old])?;
                    tx.execute(
                        "UPDATE datasets SET source = ?2, id_field = ?3, source_crs = ?4, means = ?5,
                             created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), generation = generation + 1
                         WHERE id = ?1",
                        params![old, meta.source, meta.id_field, meta.source_crs, means],
                    )?;
                    let mut drop =
                        tx.prepare_cached("DELETE FROM alignments WHERE dataset_id = ?1 AND name = ?2")?;
                    for name in drop_alignments {
                        drop.execute(params![old, name])?;
                    }
                    old
                }
                None => {
                    tx.execute(
                        "INSERT INTO datasets (name, source, id_field, source_crs, means) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![meta.name, meta.source, meta.id_field, meta.source_crs, means],
                    )?;
                    tx.last_insert_rowid()
                }
            };
            insert_units(tx, id, units, progress)
        };
        write(&tx).map_err(|e| self.sqlite_error(e))?;
        tx.commit().map_err(|e| self.sqlite_error(e))
    }

    /// The unit ids each alignment of a dataset refers to (assigned or locked), by
    /// alignment name: what a re-ingest must keep for the alignment to stay whole.
    pub fn units_referenced(&self, dataset: &str) -> Result<BTreeMap<String, BTreeSet<String>>, StoreError> {
        self.read(|conn| {
            let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let mut statement = conn
                .prepare(
                    "SELECT a.name, r.unit_code FROM alignments a JOIN datasets d ON d.id = a.dataset_id
                     JOIN (SELECT alignment_id, unit_code FROM assignments
                           UNION SELECT alignment_id, unit_code FROM unit_locks) r ON r.alignment_id = a.id
                     WHERE d.name = ?1",
                )
                .map_err(|e| self.sqlite_error(e))?;
            let rows = statement
                .query_map([dataset], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(|e| self.sqlite_error(e))?;
            for row in rows {
                let (alignment, unit) = row.map_err(|e| self.sqlite_error(e))?;
                out.entry(alignment).or_default().insert(unit);
            }
            for name in self.alignment_names_on(conn, dataset)? {
                out.entry(name).or_default();
            }
            Ok(out)
        })
    }

    fn alignment_names_on(&self, conn: &Connection, dataset: &str) -> Result<Vec<String>, StoreError> {
        conn.prepare(
            "SELECT a.name FROM alignments a JOIN datasets d ON d.id = a.dataset_id WHERE d.name = ?1",
        )
        .and_then(|mut s| s.query_map([dataset], |r| r.get(0))?.collect())
        .map_err(|e| self.sqlite_error(e))
    }

    /// The ids of a dataset's units (empty when it does not exist).
    pub fn unit_codes(&self, dataset: &str) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            conn.prepare(
                "SELECT u.code FROM units u JOIN datasets d ON d.id = u.dataset_id WHERE d.name = ?1",
            )
            .and_then(|mut s| s.query_map([dataset], |r| r.get(0))?.collect())
            .map_err(|e| self.sqlite_error(e))
        })
    }

    /// A dataset's generation: bumped each time its units are replaced (0 when absent).
    pub fn dataset_generation(&self, dataset: &str) -> Result<i64, StoreError> {
        self.read(|conn| {
            conn.query_row(
                "SELECT generation FROM datasets WHERE name = ?1",
                [dataset],
                |r| r.get(0),
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.sqlite_error(e))
        })
    }

    /// A dataset's weighted means: field -> the metric weighing it (empty when the
    /// dataset has none, or does not exist).
    pub fn dataset_means(&self, dataset: &str) -> Result<BTreeMap<String, String>, StoreError> {
        let text: Option<String> = self.read(|conn| {
            conn.query_row("SELECT means FROM datasets WHERE name = ?1", [dataset], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.sqlite_error(e))
        })?;
        text.map_or_else(|| Ok(BTreeMap::new()), |t| decode_means(self, &t))
    }

    /// Runs `write` on the row id of `dataset` in one write transaction, committed when
    /// it succeeds.
    fn write_dataset(
        &self,
        dataset: &str,
        write: impl FnOnce(&Transaction, i64) -> rusqlite::Result<()>,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.sqlite_error(e))?;
        let id = dataset_id(&tx, dataset)
            .map_err(|e| self.sqlite_error(e))?
            .ok_or_else(|| StoreError::DatasetNotFound(dataset.to_owned()))?;
        write(&tx, id).map_err(|e| self.sqlite_error(e))?;
        tx.commit().map_err(|e| self.sqlite_error(e))
    }

    /// Adds point units to an existing dataset in one transaction (replacing its
    /// previous point units), adds the given attributes and metrics to polygon units
    /// that lack them, and adds `means` to the dataset's weighted means.
    pub fn add_point_units(
        &self,
        dataset: &str,
        units: &[Unit],
        lent: &[(String, Properties)],
        means: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let means = serde_json::to_string(means).unwrap_or_else(|_| "{}".into());
        self.write_dataset(dataset, |tx, id| {
            tx.execute(
                "DELETE FROM units_rtree WHERE id IN (SELECT id FROM units WHERE dataset_id = ?1 AND kind = 'point')",
                [id],
            )?;
            tx.execute("DELETE FROM units WHERE dataset_id = ?1 AND kind = 'point'", [id])?;
            insert_units(tx, id, units, &|_| {})?;
            tx.execute(
                "UPDATE datasets SET generation = generation + 1, means = json_patch(means, ?2) WHERE id = ?1",
                params![id, means],
            )?;
            let mut read = tx.prepare_cached(
                "SELECT attributes, metrics FROM units WHERE dataset_id = ?1 AND code = ?2",
            )?;
            let mut write = tx.prepare_cached(
                "UPDATE units SET attributes = ?3, metrics = ?4 WHERE dataset_id = ?1 AND code = ?2",
            )?;
            for (code, extra) in lent {
                let (attributes, metrics): (String, String) =
                    read.query_row(params![id, code], |r| Ok((r.get(0)?, r.get(1)?)))?;
                let mut attributes: BTreeMap<String, String> =
                    serde_json::from_str(&attributes).unwrap_or_default();
                let mut metrics: BTreeMap<String, f64> = serde_json::from_str(&metrics).unwrap_or_default();
                // The polygon's own value wins; a name it has as the other kind is not lent.
                for (k, v) in &extra.attributes {
                    if !metrics.contains_key(k) {
                        attributes.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                for (k, v) in &extra.metrics {
                    if !attributes.contains_key(k) {
                        metrics.entry(k.clone()).or_insert(*v);
                    }
                }
                write.execute(params![id, code, json_text(&attributes)?, json_text(&metrics)?])?;
            }
            Ok(())
        })
    }

    /// Replaces the fields named in `columns` on every unit of a dataset with `values`
    /// (by unit id; a unit without a row loses them), sets or clears the weighted mean
    /// of each column (`means`: column -> its weight, or None), and bumps the dataset's
    /// generation so that snapshots reload: one transaction, all or nothing.
    pub fn replace_unit_fields(
        &self,
        dataset: &str,
        columns: &BTreeSet<String>,
        values: &[(String, Properties)],
        means: &BTreeMap<String, Option<String>>,
    ) -> Result<(), StoreError> {
        let by_code: HashMap<&str, &Properties> = values.iter().map(|(c, p)| (c.as_str(), p)).collect();
        let means = serde_json::to_string(means).unwrap_or_else(|_| "{}".into());
        self.write_dataset(dataset, |tx, id| {
            let mut read =
                tx.prepare("SELECT id, code, attributes, metrics FROM units WHERE dataset_id = ?1")?;
            let mut update =
                tx.prepare_cached("UPDATE units SET attributes = ?2, metrics = ?3 WHERE id = ?1")?;
            let units: Vec<(i64, String, String, String)> = read
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (row, code, attributes, metrics) in units {
                let mut attributes: BTreeMap<String, String> =
                    serde_json::from_str(&attributes).unwrap_or_default();
                let mut metrics: BTreeMap<String, f64> = serde_json::from_str(&metrics).unwrap_or_default();
                let had = attributes.len() + metrics.len();
                attributes.retain(|k, _| !columns.contains(k));
                metrics.retain(|k, _| !columns.contains(k));
                let new = by_code.get(code.as_str());
                if new.is_none() && attributes.len() + metrics.len() == had {
                    continue;
                }
                if let Some(p) = new {
                    attributes.extend(p.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
                    metrics.extend(p.metrics.iter().map(|(k, v)| (k.clone(), *v)));
                }
                update.execute(params![row, json_text(&attributes)?, json_text(&metrics)?])?;
            }
            tx.execute(
                "UPDATE datasets SET generation = generation + 1, means = json_patch(means, ?2) WHERE id = ?1",
                params![id, means],
            )?;
            Ok(())
        })
    }

    /// All polygon units of a dataset with their geometry.
    pub fn polygon_units(&self, dataset: &str) -> Result<Vec<(String, MultiPolygon<f64>)>, StoreError> {
        self.read(|conn| {
            let id = self.require_dataset(conn, dataset)?;
            let mut statement = conn
                .prepare("SELECT code, geom FROM units WHERE dataset_id = ?1 AND kind = 'polygon'")
                .map_err(|e| self.sqlite_error(e))?;
            let rows = statement
                .query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))
                .map_err(|e| self.sqlite_error(e))?;
            let mut out = Vec::new();
            for row in rows {
                let (code, blob) = row.map_err(|e| self.sqlite_error(e))?;
                match self.decode(&code, &blob)? {
                    Geometry::MultiPolygon(mp) => out.push((code, mp)),
                    Geometry::Polygon(p) => out.push((code, MultiPolygon::new(vec![p]))),
                    _ => {}
                }
            }
            Ok(out)
        })
    }

    /// All datasets, by name.
    pub fn datasets(&self) -> Result<Vec<DatasetInfo>, StoreError> {
        self.read(|conn| {
            let names: Vec<String> = conn
                .prepare("SELECT name FROM datasets ORDER BY name")
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .map_err(|e| self.sqlite_error(e))?;
            names.iter().map(|n| self.dataset_info(conn, n)).collect()
        })
    }

    /// How many datasets the store holds (one indexed count: `/health` asks it on every call).
    pub fn dataset_count(&self) -> Result<usize, StoreError> {
        self.read(|conn| {
            conn.query_row("SELECT count(*) FROM datasets", [], |r| r.get::<_, i64>(0))
                .map(|n| n as usize)
                .map_err(|e| self.sqlite_error(e))
        })
    }

    /// One dataset.
    pub fn dataset(&self, name: &str) -> Result<DatasetInfo, StoreError> {
        self.read(|conn| self.dataset_info(conn, name))
    }

    fn dataset_info(&self, conn: &Connection, name: &str) -> Result<DatasetInfo, StoreError> {
        let row = conn
            .query_row(
                "SELECT d.id, d.name, d.source, d.id_field, d.source_crs, d.created_at,
                        (SELECT count(*) FROM units u WHERE u.dataset_id = d.id AND u.kind = 'polygon'),
                        (SELECT count(*) FROM units u WHERE u.dataset_id = d.id AND u.kind = 'point'),
                        (SELECT json_array(min(r.minx), min(r.miny), max(r.maxx), max(r.maxy))
                           FROM units u JOIN units_rtree r ON r.id = u.id WHERE u.dataset_id = d.id),
                        (SELECT json_group_array(DISTINCT j.key) FROM units u, json_each(u.metrics) j
                           WHERE u.dataset_id = d.id AND u.kind = 'polygon'),
                        d.means
                 FROM datasets d WHERE d.name = ?1",
                [name],
                |r| {
                    Ok((
                        DatasetInfo {
                            name: r.get(1)?,
                            source: r.get(2)?,
                            id_field: r.get(3)?,
                            source_crs: r.get(4)?,
                            created_at: r.get(5)?,
                            polygon_units: r.get(6)?,
                            point_units: r.get(7)?,
                            bbox: None,
                            metrics: Vec::new(),
                            means: BTreeMap::new(),
                        },
                        r.get::<_, Option<String>>(8)?,
                        r.get::<_, Option<String>>(9)?,
                        r.get::<_, String>(10)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.sqlite_error(e))?;
        let (mut info, bbox, metrics, means) =
            row.ok_or_else(|| StoreError::DatasetNotFound(name.to_owned()))?;
        info.bbox = bbox.and_then(|b| serde_json::from_str::<[f64; 4]>(&b).ok());
        info.means = decode_means(self, &means)?;
        // Every metric some polygon unit has (a column imported for some units only too).
        info.metrics = metrics
            .and_then(|m| serde_json::from_str::<BTreeSet<String>>(&m).ok())
            .map(|m| m.into_iter().filter(|k| !info.means.contains_key(k)).collect())
            .unwrap_or_default();
        Ok(info)
    }

    /// One unit of a dataset.
    pub fn unit(&self, dataset: &str, unit: &str) -> Result<StoredUnit, StoreError> {
        self.read(|conn| {
            let id = self.require_dataset(conn, dataset)?;
            let row = conn
                .query_row(
                    &format!("{UNIT_COLUMNS} AND code = ?2"),
                    params![id, unit],
                    UnitRow::from_row,
                )
                .optional()
                .map_err(|e| self.sqlite_error(e))?;
            row.ok_or_else(|| StoreError::UnitNotFound {
                dataset: dataset.to_owned(),
                unit: unit.to_owned(),
            })?
            .decode(self)
        })
    }

    /// Every unit of a dataset (polygons and points), ordered by id.
    pub fn units(&self, dataset: &str) -> Result<Vec<StoredUnit>, StoreError> {
        self.read(|conn| {
            let id = self.require_dataset(conn, dataset)?;
            let mut statement = conn
                .prepare(&format!("{UNIT_COLUMNS} ORDER BY code"))
                .map_err(|e| self.sqlite_error(e))?;
            let rows = statement
                .query_map([id], UnitRow::from_row)
                .map_err(|e| self.sqlite_error(e))?;
            rows.map(|row| row.map_err(|e| self.sqlite_error(e))?.decode(self))
                .collect()
        })
    }

    pub(super) fn require_dataset(&self, conn: &Connection, dataset: &str) -> Result<i64, StoreError> {
        dataset_id(conn, dataset)
            .map_err(|e| self.sqlite_error(e))?
            .ok_or_else(|| StoreError::DatasetNotFound(dataset.to_owned()))
    }

    fn decode(&self, code: &str, blob: &[u8]) -> Result<Geometry<f64>, StoreError> {
        Wkb(blob).to_geo().map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            what: format!("unit {code}"),
            reason: e.to_string(),
        })
    }
}

const UNIT_COLUMNS: &str =
    "SELECT code, kind, parent_code, attributes, metrics, geom FROM units WHERE dataset_id = ?1";

/// A unit row before decoding its JSON and WKB.
struct UnitRow {
    code: String,
    kind: String,
    parent: Option<String>,
    attributes: String,
    metrics: String,
    geom: Vec<u8>,
}

impl UnitRow {
    fn from_row(r: &rusqlite::Row) -> rusqlite::Result<UnitRow> {
        Ok(UnitRow {
            code: r.get(0)?,
            kind: r.get(1)?,
            parent: r.get(2)?,
            attributes: r.get(3)?,
            metrics: r.get(4)?,
            geom: r.get(5)?,
        })
    }

    fn decode(self, store: &Store) -> Result<StoredUnit, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            path: store.path.clone(),
            what: format!("unit {}", self.code),
            reason,
        };
        Ok(StoredUnit {
            kind: if self.kind == "point" {
                UnitKind::Point
            } else {
                UnitKind::Polygon
            },
            parent: self.parent,
            properties: Properties {
                attributes: serde_json::from_str(&self.attributes).map_err(|e| corrupt(e.to_string()))?,
                metrics: serde_json::from_str(&self.metrics).map_err(|e| corrupt(e.to_string()))?,
            },
            geometry: store.decode(&self.code, &self.geom)?,
            id: self.code,
        })
    }
}

fn dataset_id(conn: &Connection, name: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT id FROM datasets WHERE name = ?1", [name], |r| r.get(0))
        .optional()
}

fn insert_units(
    tx: &Transaction,
    dataset: i64,
    units: &[Unit],
    progress: &dyn Fn(usize),
) -> rusqlite::Result<()> {
    let mut unit_insert = tx.prepare_cached(
        "INSERT INTO units (dataset_id, code, kind, parent_code, attributes, metrics, geom)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut rtree_insert = tx
        .prepare_cached("INSERT INTO units_rtree (id, minx, maxx, miny, maxy) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for (i, unit) in units.iter().enumerate() {
        let wkb = unit
            .geometry
            .to_wkb(CoordDimensions::xy())
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let attributes = json_text(&unit.properties.attributes)?;
        let metrics = json_text(&unit.properties.metrics)?;
        unit_insert.execute(params![
            dataset,
            unit.id,
            unit.kind.as_str(),
            unit.parent,
            attributes,
            metrics,
            wkb,
        ])?;
        let row = tx.last_insert_rowid();
        if let Some(r) = unit.geometry.bounding_rect() {
            rtree_insert.execute(params![row, r.min().x, r.max().x, r.min().y, r.max().y])?;
        }
        if i % 1024 == 1023 {
            progress(1024);
        }
    }
    progress(units.len() % 1024);
    Ok(())
}

/// A value as JSON text for a column.
fn json_text<T: Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// The `means` column: a JSON object of field -> weight field.
fn decode_means(store: &Store, text: &str) -> Result<BTreeMap<String, String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        path: store.path.clone(),
        what: "datasets.means".into(),
        reason: e.to_string(),
    })
}
