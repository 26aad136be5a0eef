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

/// `[lon, lat, zoom]`: the middle of the data and a zoom that shows all of it.
pub fn center(view: &AlignmentView, options: &TileOptions) -> [f64; 3] {
    let b = view.bbox();
    if b[0] > b[2] {
        return [0.0, 0.0, 0.0];
    }
    let [lon, lat] = world_to_lonlat((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
    let size = (b[2] - b[0]).max(b[3] - b[1]).max(1e-9);
    let zoom = (1.0 / size)
        .log2()
        .floor()
        .clamp(f64::from(options.minzoom), f64::from(options.maxzoom));
    let r = |v: f64| (v * 1e6).round() / 1e6;
    [r(lon), r(lat), zoom]
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
