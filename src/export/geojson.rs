//! GeoJSON (RFC 7946): a FeatureCollection written feature by feature, rings
//! oriented by the right-hand rule (exteriors counter-clockwise, holes clockwise),
//! coordinates in EPSG:4326 lon/lat.

use std::io::Write;

use geo::orient::{Direction, Orient};
use geo::{Coord, Geometry, LineString, Polygon};
use serde_json::{Map, Value};

use super::{ExportError, Layer, Progress, Record, io_error};

fn coord(out: &mut dyn Write, c: Coord<f64>) -> std::io::Result<()> {
    write!(out, "[{},{}]", c.x, c.y)
}

fn ring(out: &mut dyn Write, ring: &LineString<f64>) -> std::io::Result<()> {
    out.write_all(b"[")?;
    for (i, c) in ring.0.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        coord(out, *c)?;
    }
    out.write_all(b"]")
}

fn polygon(out: &mut dyn Write, p: &Polygon<f64>) -> std::io::Result<()> {
    out.write_all(b"[")?;
    ring(out, p.exterior())?;
    for hole in p.interiors() {
        out.write_all(b",")?;
        ring(out, hole)?;
    }
    out.write_all(b"]")
}

/// Writes a geometry as a GeoJSON geometry object (right-hand rule).
pub fn write_geometry(out: &mut dyn Write, geometry: Option<&Geometry<f64>>) -> std::io::Result<()> {
    match geometry {
        Some(Geometry::MultiPolygon(mp)) => {
            let mp = mp.orient(Direction::Default);
            out.write_all(br#"{"type":"MultiPolygon","coordinates":["#)?;
            for (i, p) in mp.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                polygon(out, p)?;
            }
            out.write_all(b"]}")
        }
        Some(Geometry::Polygon(p)) => {
            out.write_all(br#"{"type":"Polygon","coordinates":"#)?;
            polygon(out, &p.orient(Direction::Default))?;
            out.write_all(b"}")
        }
        Some(Geometry::Point(p)) => {
            out.write_all(br#"{"type":"Point","coordinates":"#)?;
            coord(out, p.0)?;
            out.write_all(b"}")
        }
        _ => out.write_all(b"null"),
    }
}

/// The properties of a record as a JSON object.
pub fn properties(layer: &Layer, record: &Record) -> Map<String, Value> {
    layer
        .columns
        .iter()
        .zip(&record.fields)
        .map(|(c, f)| (c.name.clone(), f.to_json()))
        .collect()
}

/// Writes one record as a GeoJSON Feature.
pub fn write_feature(out: &mut dyn Write, layer: &Layer, record: &Record) -> std::io::Result<()> {
    out.write_all(br#"{"type":"Feature","id":"#)?;
    serde_json::to_writer(&mut *out, &record.id)?;
    out.write_all(br#","geometry":"#)?;
    write_geometry(out, record.geometry.as_ref())?;
    out.write_all(br#","properties":"#)?;
    serde_json::to_writer(&mut *out, &properties(layer, record))?;
    out.write_all(b"}")
}

/// Writes `layer` as a GeoJSON FeatureCollection to `out`.
pub fn write(layer: &Layer, out: &mut dyn Write, progress: Progress) -> Result<(), ExportError> {
    let io = io_error("geojson");
    out.write_all(br#"{"type":"FeatureCollection","name":"#)
        .map_err(&io)?;
    serde_json::to_writer(&mut *out, &layer.name()).map_err(|e| io(e.into()))?;
    out.write_all(br#","features":["#).map_err(&io)?;
    for (n, record) in layer.records().enumerate() {
        if n > 0 {
            out.write_all(b",\n").map_err(&io)?;
        }
        write_feature(out, layer, &record).map_err(&io)?;
        if n % 1024 == 0 {
            progress(n);
        }
    }
    out.write_all(b"]}\n").map_err(&io)?;
    progress(layer.len());
    Ok(())
}
