//! GeoJSON (RFC 7946, and the legacy `crs` member of 2008 GeoJSON).

use std::path::Path;

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Point, Polygon};
use serde_json::Value;

use super::{Layer, malformed};
use crate::feature::{Properties, RawFeature};
use crate::ingest::IngestError;
use crate::ingest::crs::CrsDef;

const FORMAT: &str = "GeoJSON";

/// Reads a FeatureCollection, a single Feature or a bare geometry.
pub fn read(path: &Path) -> Result<Layer, IngestError> {
    let bytes = std::fs::read(path).map_err(|source| IngestError::Open {
        path: path.to_owned(),
        source,
    })?;
    let root: Value = serde_json::from_slice(&bytes).map_err(|e| malformed(path, FORMAT, e))?;
    let crs = root
        .pointer("/crs/properties/name")
        .and_then(Value::as_str)
        .and_then(CrsDef::parse_urn)
        .or(Some(CrsDef::Epsg(4326)));
    let features: Vec<&Value> = match root.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => root
            .get("features")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed(path, FORMAT, "FeatureCollection without a 'features' array"))?
            .iter()
            .collect(),
        Some("Feature") => vec![&root],
        Some(_) => {
            return Err(malformed(
                path,
                FORMAT,
                "expected a FeatureCollection or a Feature",
            ));
        }
        None => return Err(malformed(path, FORMAT, "no 'type' member at the top level")),
    };
    let mut fields: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(features.len());
    for (index, feature) in features.into_iter().enumerate() {
        let mut properties = Properties::default();
        if let Some(map) = feature.get("properties").and_then(Value::as_object) {
            for (name, value) in map {
                if !fields.contains(name) {
                    fields.push(name.clone());
                }
                match value {
                    Value::Null => {}
                    Value::Number(n) => properties.number(name, n.as_f64().unwrap_or(f64::NAN)),
                    Value::String(s) => properties.text(name, s.as_str()),
                    Value::Bool(b) => properties.text(name, b.to_string()),
                    other => properties.text(name, other.to_string()),
                }
            }
        }
        let mut raw = RawFeature::new(index, properties, None);
        match feature.get("geometry") {
            None | Some(Value::Null) => {}
            Some(geometry) => match geometry_from_json(geometry, &mut raw.repairs) {
                Ok(g) => raw.geometry = Some(g),
                Err(reason) => raw.defect = Some(reason),
            },
        }
        out.push(raw);
    }
    Ok(Layer {
        format: FORMAT,
        crs,
        features: out,
        fields,
        reprojected_from: None,
    })
}

fn geometry_from_json(value: &Value, repairs: &mut Vec<&'static str>) -> Result<Geometry<f64>, String> {
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or("geometry without 'type'")?;
    if kind == "GeometryCollection" {
        let members = value
            .get("geometries")
            .and_then(Value::as_array)
            .ok_or("GeometryCollection without 'geometries'")?;
        let parts = members
            .iter()
            .map(|m| geometry_from_json(m, repairs))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Geometry::GeometryCollection(parts.into()));
    }
    let coordinates = value.get("coordinates").ok_or("geometry without 'coordinates'")?;
    Ok(match kind {
        "Point" => Geometry::Point(Point(position(coordinates)?)),
        "MultiPoint" => Geometry::MultiPoint(
            array(coordinates)?
                .iter()
                .map(|p| position(p).map(Point))
                .collect::<Result<Vec<_>, _>>()?
                .into(),
        ),
        "LineString" => Geometry::LineString(line(coordinates)?),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString::new(
            array(coordinates)?
                .iter()
                .map(line)
                .collect::<Result<Vec<_>, _>>()?,
        )),
        "Polygon" => Geometry::Polygon(polygon(coordinates, repairs)?),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon::new(
            array(coordinates)?
                .iter()
                .map(|p| polygon(p, repairs))
                .collect::<Result<Vec<_>, _>>()?,
        )),
        other => return Err(format!("unknown geometry type '{other}'")),
    })
}

fn array(value: &Value) -> Result<&Vec<Value>, String> {
    value
        .as_array()
        .ok_or_else(|| "coordinates are not an array".to_owned())
}

fn position(value: &Value) -> Result<Coord<f64>, String> {
    let p = array(value)?;
    match (
        p.first().and_then(Value::as_f64),
        p.get(1).and_then(Value::as_f64),
    ) {
        (Some(x), Some(y)) => Ok(Coord { x, y }),
        _ => Err(format!("invalid position {value}")),
    }
}

fn line(value: &Value) -> Result<LineString<f64>, String> {
    Ok(LineString::new(
        array(value)?
            .iter()
            .map(position)
            .collect::<Result<Vec<_>, _>>()?,
    ))
}

fn polygon(value: &Value, repairs: &mut Vec<&'static str>) -> Result<Polygon<f64>, String> {
    let mut rings = Vec::new();
    for ring in array(value)? {
        let ring = line(ring)?;
        if ring.0.len() > 1 && ring.0.first() != ring.0.last() && !repairs.contains(&"closed open rings") {
            repairs.push("closed open rings");
        }
        rings.push(ring);
    }
    let mut rings = rings.into_iter();
    let exterior = rings.next().unwrap_or_else(|| LineString::new(Vec::new()));
    Ok(Polygon::new(exterior, rings.collect()))
}
