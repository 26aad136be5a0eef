//! Native readers (no system libraries) and, with the `gdal` feature, OGR.
//! Each turns a file into a [`Layer`] of [`RawFeature`]s in the file's own CRS.

use std::path::Path;

use crate::feature::RawFeature;
use crate::ingest::IngestError;

use super::crs::CrsDef;

pub mod csv;
pub mod flatgeobuf;
#[cfg(feature = "gdal")]
pub mod gdal;
pub mod geojson;
pub mod geopackage;
pub mod shapefile;
pub mod wkb_check;

/// The features of one layer and the CRS the source declares for them.
#[derive(Debug)]
pub struct Layer {
    /// Name of the format, for the summary.
    pub format: &'static str,
    /// CRS declared by the source, if any.
    pub crs: Option<CrsDef>,
    /// Features in source order.
    pub features: Vec<RawFeature>,
    /// Field names the source declares (for "field not found" messages).
    pub fields: Vec<String>,
    /// Set when the reader already reprojected to EPSG:4326 (GDAL): the source CRS.
    pub reprojected_from: Option<String>,
}

/// Reads `path` with the reader its extension selects.
///
/// `s_srs` is only used by the GDAL reader, which reprojects inside GDAL.
pub fn read(path: &Path, layer: Option<&str>, s_srs: Option<&CrsDef>) -> Result<Layer, IngestError> {
    if !path.exists() {
        return Err(IngestError::Open {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let _ = s_srs;
    match extension.as_str() {
        "geojson" | "json" => geojson::read(path),
        "fgb" => flatgeobuf::read(path),
        "shp" => shapefile::read(path),
        "gpkg" => geopackage::read(path, layer),
        "csv" => csv::read(path),
        #[cfg(feature = "gdal")]
        _ => gdal::read(path, layer, s_srs),
        #[cfg(not(feature = "gdal"))]
        _ => Err(IngestError::UnsupportedFormat {
            path: path.to_owned(),
            extension,
        }),
    }
}

/// Builds a [`IngestError::Malformed`] for `path`.
pub(crate) fn malformed(path: &Path, format: &'static str, reason: impl ToString) -> IngestError {
    IngestError::Malformed {
        path: path.to_owned(),
        format,
        reason: reason.to_string(),
    }
}
