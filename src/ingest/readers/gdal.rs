//! Any vector format OGR reads (KML, GML, FileGDB, TopoJSON, ...), reprojected
//! to EPSG:4326 by GDAL/PROJ itself, so any CRS PROJ knows works.

use std::path::Path;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{FieldValue, LayerAccess};
use gdal::{Dataset, Metadata};
use geo::Geometry;

use super::Layer;
use crate::feature::{Properties, RawFeature};
use crate::ingest::IngestError;
use crate::ingest::crs::CrsDef;

/// Reads one layer with OGR; `s_srs` overrides the layer's CRS.
pub fn read(path: &Path, layer: Option<&str>, s_srs: Option<&CrsDef>) -> Result<Layer, IngestError> {
    let gdal_err = |source| IngestError::Gdal {
        path: path.to_owned(),
        source,
    };
    let dataset = Dataset::open(path).map_err(gdal_err)?;
    let format = dataset.driver().description().unwrap_or_default();
    let mut source = match layer {
        Some(name) => dataset.layer_by_name(name).map_err(|_| IngestError::Layer {
            path: path.to_owned(),
            reason: format!("no layer '{name}'; layers: {}", layer_names(&dataset).join(", ")),
        })?,
        None if dataset.layer_count() > 1 => {
            return Err(IngestError::Layer {
                path: path.to_owned(),
                reason: format!(
                    "several layers, choose one with --layer: {}",
                    layer_names(&dataset).join(", ")
                ),
            });
        }
        None => dataset.layer(0).map_err(gdal_err)?,
    };
    let declared = match s_srs {
        Some(def) => Some(spatial_ref(def).map_err(|e| IngestError::UnknownCrs {
            path: path.to_owned(),
            crs: def.label(),
            reason: e.to_string(),
        })?),
        None => source.spatial_ref(),
    };
    let (transform, reprojected_from) = match declared {
        Some(mut srs) => {
            let label = match (srs.auth_name(), srs.auth_code()) {
                (Some(auth), Ok(code)) => format!("{auth}:{code}"),
                _ => srs.name().unwrap_or_else(|| "unnamed CRS".into()),
            };
            (Some(transform_from(&mut srs).map_err(gdal_err)?), Some(label))
        }
        None => (None, None),
    };
    let fields: Vec<String> = source.defn().fields().map(|f| f.name()).collect();
    let mut features = Vec::new();
    for (index, feature) in source.features().enumerate() {
        let mut properties = Properties::default();
        for (name, value) in feature.fields() {
            match value {
                Some(FieldValue::IntegerValue(v)) => properties.number(&name, f64::from(v)),
                Some(FieldValue::Integer64Value(v)) => properties.number(&name, v as f64),
                Some(FieldValue::RealValue(v)) => properties.number(&name, v),
                Some(FieldValue::StringValue(v)) => properties.text(&name, v),
                Some(FieldValue::DateValue(v)) => properties.text(&name, v.to_string()),
                Some(FieldValue::DateTimeValue(v)) => properties.text(&name, v.to_string()),
                Some(other) => properties.text(&name, format!("{other:?}")),
                None => {}
            }
        }
        let mut raw = RawFeature::new(index, properties, None);
        if let Some(geometry) = feature.geometry() {
            let converted: Result<Geometry<f64>, String> = match &transform {
                Some(t) => geometry
                    .transform(t)
                    .map_err(|e| e.to_string())
                    .and_then(|g| g.to_geo().map_err(|e| e.to_string())),
                None => geometry.to_geo().map_err(|e| e.to_string()),
            };
            match converted {
                Ok(g) => raw.geometry = Some(g),
                Err(e) => raw.defect = Some(format!("unreadable geometry: {e}")),
            }
        }
        features.push(raw);
    }
    tracing::debug!(driver = %format, features = features.len(), "read with GDAL");
    Ok(Layer {
        format: "GDAL",
        crs: None,
        features,
        fields,
        reprojected_from,
    })
}

fn layer_names(dataset: &Dataset) -> Vec<String> {
    dataset.layers().map(|l| l.name()).collect()
}

/// GDAL/PROJ's transformation from `def` to EPSG:4326, both in traditional GIS axis
/// order (x = lon or easting, y = lat or northing): for the CRSs the native
/// reprojector cannot do.
pub(crate) fn to_wgs84(def: &CrsDef) -> gdal::errors::Result<CoordTransform> {
    transform_from(&mut spatial_ref(def)?)
}

fn transform_from(srs: &mut SpatialRef) -> gdal::errors::Result<CoordTransform> {
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut wgs84 = SpatialRef::from_epsg(4326)?;
    wgs84.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    CoordTransform::new(srs, &wgs84)
}

fn spatial_ref(def: &CrsDef) -> gdal::errors::Result<SpatialRef> {
    match def {
        CrsDef::Epsg(code) => SpatialRef::from_epsg(*code),
        CrsDef::Wkt(text) | CrsDef::Proj(text) => SpatialRef::from_definition(text),
    }
}
