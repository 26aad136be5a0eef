//! Setup shared by the benchmarks on ../shared/data/zip5_us.fgb: the file (or a skip
//! message), the dataset ingested into a temporary store as the server ingests it, and
//! the ZIP3 sheet (territory = the ZIP's first three digits, region = the state of the
//! ZIP3's first ZIP), as `scripts/bench` builds it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use geoalign::engine::Engine;
use geoalign::ingest::{IngestOptions, ingest};
use geoalign::store::Store;

/// ../shared/data/zip5_us.fgb, or `None` after printing why the bench is skipped.
pub fn zip5_us() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/zip5_us.fgb");
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} is absent", path.display());
        None
    }
}

/// A store in a temporary folder (kept while the guard lives) holding `path` as dataset
/// "us" with units keyed by the `zip` field.
pub fn ingested(path: &Path) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("bench.db")).expect("store");
    let options = IngestOptions {
        path: path.to_owned(),
        dataset: "us".into(),
        id_field: "zip".into(),
        layer: None,
        s_srs: None,
        replace: false,
        drop_alignments: false,
        points: false,
        cleaning: Default::default(),
        roles: Default::default(),
        progress: false,
    };
    ingest(&store, &options).expect("ingest zip5_us");
    (dir, store)
}

/// An engine over [`ingested`].
pub fn engine(path: &Path) -> (tempfile::TempDir, Engine) {
    let (dir, store) = ingested(path);
    (dir, Engine::new(Arc::new(store)))
}

/// The ZIP3 sheet (`unit_id,territory,region`) of the units of dataset "us".
pub fn zip3_sheet(engine: &Engine) -> String {
    let mut units = engine.store().units("us").expect("units");
    units.sort_by(|a, b| a.id.cmp(&b.id));
    let mut region_of: BTreeMap<String, String> = BTreeMap::new();
    let mut sheet = String::from("unit_id,territory,region\n");
    for u in &units {
        let zip3 = &u.id[..3];
        let region = region_of
            .entry(zip3.to_owned())
            .or_insert_with(|| u.properties.attributes.get("state").cloned().unwrap_or_default());
        sheet.push_str(&format!("{},{zip3},{region}\n", u.id));
    }
    sheet
}

/// Imports `sheet` as alignment "zip3" of dataset "us" with levels territory and region.
pub fn import_zip3(engine: &Engine, sheet: &str) {
    engine
        .import_sheet(
            "zip3",
            "us",
            Some(vec!["territory".into(), "region".into()]),
            None,
            sheet.as_bytes(),
        )
        .expect("ZIP3 sheet");
}
