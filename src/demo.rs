//! The demo: a fresh store loaded with the sample in `data/`.

use std::path::{Path, PathBuf};

use crate::align::records;
use crate::engine::AlignError;
use crate::engine::Engine;
use crate::ingest::IngestError;
use crate::ingest::roles::RoleChoices;
use crate::ingest::{IngestOptions, IngestReport, ingest};
use crate::store::Store;

/// The sample boundaries: NYC modified ZCTAs.
pub const SAMPLE_POLYGONS: &str = "nyc_modzcta.geojson";
/// The sample point ZIPs (PO boxes) of the same area.
pub const SAMPLE_POINTS: &str = "nyc_zip_points.csv";
/// The sample alignment sheet: territory, borough, region per ZIP.
pub const SAMPLE_SHEET: &str = "nyc_alignment.csv";
/// The sample reps.
pub const SAMPLE_REPS: &str = "nyc_reps.csv";
/// Dataset name the demo uses.
pub const DATASET: &str = "nyc";
/// Alignment name the demo uses.
pub const ALIGNMENT: &str = "nyc";

/// The `data/` folder: `./data` when run from a checkout, else the one the binary was built from.
pub fn data_dir() -> PathBuf {
    let local = Path::new("data");
    if local.join(SAMPLE_POLYGONS).exists() {
        local.to_owned()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
    }
}

/// Loads the sample polygons and point ZIPs into `store`.
pub fn load_sample(store: &Store, data: &Path, progress: bool) -> Result<Vec<IngestReport>, IngestError> {
    let polygons = IngestOptions {
        path: data.join(SAMPLE_POLYGONS),
        dataset: DATASET.into(),
        id_field: "modzcta".into(),
        layer: None,
        s_srs: None,
        replace: true,
        drop_alignments: false,
        points: false,
        cleaning: Default::default(),
        roles: Default::default(),
        progress,
    };
    // The points file's median income is averaged per territory, weighted by households.
    let points = IngestOptions {
        path: data.join(SAMPLE_POINTS),
        id_field: "zip".into(),
        replace: false,
        drop_alignments: false,
        points: true,
        roles: RoleChoices {
            means: vec![("median_household_income".into(), "households".into())],
            ..RoleChoices::default()
        },
        ..polygons.clone()
    };
    Ok(vec![ingest(store, &polygons)?, ingest(store, &points)?])
}

/// Creates the sample alignment from its sheet and loads its reps.
pub fn load_alignment(engine: &Engine, data: &Path) -> Result<(), AlignError> {
    let open = |name: &str| {
        std::fs::File::open(data.join(name)).map_err(|e| AlignError::Invalid(format!("{name}: {e}")))
    };
    engine.import_sheet(ALIGNMENT, DATASET, None, None, open(SAMPLE_SHEET)?)?;
    let snapshot = engine.snapshot(ALIGNMENT)?;
    let ops = records::reps(open(SAMPLE_REPS)?, &snapshot.state)?;
    engine.apply(ALIGNMENT, snapshot.revision, &ops, "demo")?;
    Ok(())
}
