//! TileJSON 3.0 for an alignment's tiles: revision-versioned tile URL, bounds, centre,
//! zoom range and every vector layer with its fields.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::TileOptions;
use super::render::{ACCOUNTS, BOUNDARIES, LABELS, REPS, UNITS};
use super::tile_id::world_to_lonlat;
use super::view::AlignmentView;

/// Bounds `[west, south, east, north]` in degrees of a view's dataset (the world when empty).
pub fn bounds(view: &AlignmentView) -> [f64; 4] {
    let b = view.bbox();
    if b[0] > b[2] {
        return [-180.0, -85.0511, 180.0, 85.0511];
    }
    let [west, north] = world_to_lonlat(b[0], b[1]);
    let [east, south] = world_to_lonlat(b[2], b[3]);
    let r = |v: f64| (v * 1e6).round() / 1e6;
    [r(west), r(south), r(east), r(north)]
}

/// `[lon, lat, zoom]`: the middle of the span the data covers (across the antimeridian
/// when the data lies on both sides of it, where the bounding box's middle would be on
/// the other side of the world) and the deepest zoom that shows all of it.
pub fn center(view: &AlignmentView, options: &TileOptions) -> [f64; 3] {
    let b = view.span();
    if b[1] > b[3] {
        return [0.0, 0.0, 0.0];
    }
    let width = (b[2] - b[0]).rem_euclid(1.0);
    let [lon, lat] = world_to_lonlat((b[0] + width / 2.0).rem_euclid(1.0), (b[1] + b[3]) / 2.0);
    let size = width.max(b[3] - b[1]).max(1e-9);
    let zoom = (1.0 / size)
        .log2()
        .floor()
        .clamp(f64::from(options.minzoom), f64::from(options.maxzoom));
    let r = |v: f64| (v * 1e6).round() / 1e6;
    [r(lon), r(lat), zoom]
}

/// The tiles `(min_col, min_row, max_col, max_row)` of zoom `z` that the data's span
/// touches (every column when it crosses the antimeridian, which one range cannot
/// say); `None` without data.
pub fn tile_limits(view: &AlignmentView, z: u8) -> Option<(u64, u64, u64, u64)> {
    let b = view.span();
    if b[1] > b[3] {
        return None;
    }
    let n = 1u64 << z;
    let cell = |v: f64| ((v * n as f64).floor().max(0.0) as u64).min(n - 1);
    let (min_col, max_col) = if b[0] <= b[2] {
        (cell(b[0]), cell(b[2]))
    } else {
        (0, n - 1)
    };
    Some((min_col, cell(b[1]), max_col, cell(b[3])))
}

/// Fields of the layers whose values are numbers (the others are strings); metric
/// fields are numbers too ([`archive_metadata`] tells them by their descriptions).
const NUMBER_FIELDS: [&str; 7] = [
    "units", "accounts", "area_km2", "color", "rank", "size", "override",
];

fn is_number(name: &str, description: &str) -> bool {
    NUMBER_FIELDS.contains(&name) || description.starts_with("sum over") || description == "unit metric"
}

/// The `vector_layers` and `tilestats` of an MBTiles or PMTiles archive of zooms
/// `minzoom..=maxzoom`, from the TileJSON `doc`: each layer's zoom range within the
/// archive's (layers that start above it are left out), field values as types
/// (`Number`, `String`; MBTiles 1.3), and per layer its geometry type and attributes.
pub fn archive_metadata(doc: &Value, minzoom: u8, maxzoom: u8) -> (Value, Value) {
    let mut layers = Vec::new();
    let mut stats = Vec::new();
    for layer in doc["vector_layers"].as_array().into_iter().flatten() {
        let id = layer["id"].as_str().unwrap_or("");
        let low = layer["minzoom"].as_u64().unwrap_or(0).max(u64::from(minzoom));
        let high = layer["maxzoom"]
            .as_u64()
            .unwrap_or(u64::from(maxzoom))
            .min(u64::from(maxzoom));
        if low > high {
            continue;
        }
        let mut fields = serde_json::Map::new();
        let mut attributes = Vec::new();
        for (name, description) in layer["fields"].as_object().into_iter().flatten() {
            let number = is_number(name, description.as_str().unwrap_or(""));
            fields.insert(name.clone(), json!(if number { "Number" } else { "String" }));
            attributes.push(json!({ "attribute": name, "type": if number { "number" } else { "string" } }));
        }
        let geometry = match id {
            BOUNDARIES => "LineString",
            LABELS | REPS | ACCOUNTS => "Point",
            _ => "Polygon",
        };
        layers.push(
            json!({ "id": id, "description": layer["description"], "fields": fields,
            "minzoom": low, "maxzoom": high }),
        );
        stats.push(
            json!({ "layer": id, "geometry": geometry, "attributeCount": attributes.len(),
            "attributes": attributes }),
        );
    }
    let tilestats = json!({ "layerCount": stats.len(), "layers": stats });
    (Value::Array(layers), tilestats)
}

/// The JSON Schema of the properties of TileJSON layer `layer` (its `fields`, numbers
/// and strings), as an OGC API - Tiles tileset's `layers[].propertiesSchema` says them.
pub fn properties_schema(layer: &Value) -> Value {
    let properties: serde_json::Map<String, Value> = layer["fields"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, description)| {
            let description = description.as_str().unwrap_or("");
            let kind = if is_number(name, description) {
                "number"
            } else {
                "string"
            };
            (name.clone(), json!({ "type": kind, "description": description }))
        })
        .collect();
    json!({ "type": "object", "properties": properties })
}

/// The TileJSON document; `base` is the server's origin (`http://host:port`).
pub fn tilejson(view: &AlignmentView, base: &str, options: &TileOptions) -> Value {
    let snapshot = &view.snapshot;
    let alignment = &snapshot.alignment;
    let (minzoom, maxzoom) = (options.minzoom, options.maxzoom);
    let layer = |id: &str, description: String, fields: Value, min: u8| json!({ "id": id, "description": description, "fields": fields, "minzoom": min.max(minzoom), "maxzoom": maxzoom });
    let mut layers = Vec::new();
    for (level, lv) in view.levels.iter().enumerate().rev() {
        let mut fields = serde_json::Map::new();
        fields.insert("id".into(), json!(format!("{} code", lv.name)));
        fields.insert("name".into(), json!(format!("{} name", lv.name)));
        if level + 1 < view.levels.len() {
            fields.insert(
                "parent".into(),
                json!(format!("{} code", view.levels[level + 1].name)),
            );
        }
        fields.insert("reps".into(), json!("rep ids, comma-separated"));
        fields.insert("rep_names".into(), json!("rep names, comma-separated"));
        fields.insert("color".into(), json!("colour index 0-7; neighbours differ"));
        fields.insert("units".into(), json!("units owned"));
        fields.insert("accounts".into(), json!("accounts owned"));
        fields.insert("area_km2".into(), json!("area in km²"));
        let metrics: BTreeSet<&String> = lv
            .shapes
            .iter()
            .flat_map(|s| {
                s.shape
                    .metrics
                    .sums
                    .keys()
                    .chain(s.shape.metrics.account_sums.keys())
            })
            .collect();
        for m in metrics {
            fields.insert(m.clone(), json!("sum over the units (or accounts)"));
        }
        layers.push(layer(
            &lv.layer,
            format!("{} outlines, dissolved from their units", lv.name),
            Value::Object(fields),
            minzoom,
        ));
    }
    let mut unit_fields = serde_json::Map::new();
    unit_fields.insert("id".into(), json!("unit id"));
    for lv in &view.levels {
        unit_fields.insert(lv.name.clone(), json!(format!("owning {} code", lv.name)));
    }
    let unit_metrics: BTreeSet<&String> = snapshot
        .dataset
        .units
        .iter()
        .flat_map(|u| u.metrics.keys())
        .collect();
    for m in unit_metrics {
        unit_fields.insert(m.clone(), json!("unit metric"));
    }
    layers.push(layer(
        UNITS,
        "units (postal areas) with their owners".into(),
        Value::Object(unit_fields),
        options.units_minzoom,
    ));
    let names: Vec<&str> = view.levels.iter().map(|l| l.name.as_str()).collect();
    layers.push(layer(
        BOUNDARIES,
        "lines between neighbours; level is the highest level whose items differ across them".into(),
        json!({ "level": names.join("|"), "rank": "level index, 0 = leaf" }),
        minzoom,
    ));
    layers.push(layer(
        LABELS,
        "one point per item of every level, inside its largest part".into(),
        json!({ "level": names.join("|"), "rank": "level index, 0 = leaf", "id": "code", "name": "name", "color": "colour index", "size": "log2 of the area in km², for label priority" }),
        minzoom,
    ));
    layers.push(layer(
        REPS,
        "reps' home locations".into(),
        json!({ "id": "rep id", "name": "rep name", "territories": "territory codes, comma-separated" }),
        options.points_minzoom,
    ));
    let mut account_fields = serde_json::Map::new();
    account_fields.insert("id".into(), json!("account id"));
    account_fields.insert("name".into(), json!("account name"));
    if let Some(leaf) = names.first() {
        account_fields.insert((*leaf).to_owned(), json!("owning territory code"));
    }
    account_fields.insert(
        "override".into(),
        json!("1 when the owner is an explicit override"),
    );
    layers.push(layer(
        ACCOUNTS,
        "accounts".into(),
        Value::Object(account_fields),
        options.points_minzoom,
    ));
    json!({
        "tilejson": "3.0.0",
        "name": alignment,
        "description": format!("alignment '{alignment}' of dataset '{}' at revision {}", snapshot.dataset.name, snapshot.revision),
        "version": format!("{}.0.0", snapshot.revision),
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{}/{}/{{z}}/{{x}}/{{y}}.mvt", super::path_segment(alignment), snapshot.revision)],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": bounds(view),
        "center": center(view, options),
        "vector_layers": layers,
        "revision": snapshot.revision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_layers_stay_within_the_archive_zooms_with_typed_fields() {
        let doc = json!({ "vector_layers": [
            { "id": "territories", "fields": { "id": "territory code", "units": "units owned",
                "population": "sum over the units (or accounts)" }, "minzoom": 0, "maxzoom": 14 },
            { "id": "units", "fields": { "id": "unit id" }, "minzoom": 8, "maxzoom": 14 },
            { "id": "labels", "fields": { "rank": "level index" }, "minzoom": 0, "maxzoom": 14 },
        ]});
        let (layers, stats) = archive_metadata(&doc, 2, 6);
        assert_eq!(
            layers.as_array().unwrap().len(),
            2,
            "units start above the archive"
        );
        assert_eq!(
            (layers[0]["minzoom"].as_u64(), layers[0]["maxzoom"].as_u64()),
            (Some(2), Some(6))
        );
        assert_eq!(
            layers[0]["fields"],
            json!({ "id": "String", "units": "Number", "population": "Number" })
        );
        assert_eq!(stats["layers"][1]["geometry"], "Point");
        assert_eq!(
            stats["layers"][0]["attributes"][1],
            json!({ "attribute": "population", "type": "number" })
        );
    }
}
