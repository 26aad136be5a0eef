//! MapLibre styles: JSON templates in `styles/` whose `${origin}` and `${alignment}`
//! placeholders are resolved per request, so tile and glyph URLs point at this server.
//!
//! ```
//! use serde_json::json;
//! use geoalign::tiles::style::resolve;
//! let template = json!({"sources": {"a": {"url": "${origin}/tiles/${alignment}.json"}}});
//! let style = resolve(&template, "http://127.0.0.1:8080", "nyc");
//! assert_eq!(style["sources"]["a"]["url"], "http://127.0.0.1:8080/tiles/nyc.json");
//! ```

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::TileError;

/// The default style, built into the binary.
pub const DEFAULT: &str = include_str!("../../styles/default.json");

/// The `styles/` folder: `./styles` when run from a checkout, else the source tree's.
pub fn styles_dir() -> PathBuf {
    let local = Path::new("styles");
    if local.join("default.json").exists() {
        local.to_owned()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("styles")
    }
}

/// Whether a style name is safe to look up as a file (letters, digits, `-`, `_`).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A style template by name: `styles/NAME.json`, or the built-in default.
pub fn template(name: &str) -> Result<Value, TileError> {
    if !valid_name(name) {
        return Err(TileError::NoStyle(name.to_owned()));
    }
    let path = styles_dir().join(format!("{name}.json"));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) if name == "default" => DEFAULT.to_owned(),
        Err(_) => return Err(TileError::NoStyle(name.to_owned())),
    };
    serde_json::from_str(&text).map_err(|e| TileError::Export {
        path,
        reason: format!("not a style: {e}"),
    })
}

/// Names of the styles in `styles/`.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(styles_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json")
                .filter(|n| valid_name(n))
                .map(str::to_owned)
        })
        .collect();
    if !names.iter().any(|n| n == "default") {
        names.push("default".into());
    }
    names.sort();
    names
}

/// Replaces `${origin}` and `${alignment}` in every string of a style.
pub fn resolve(template: &Value, origin: &str, alignment: &str) -> Value {
    match template {
        Value::String(s) => Value::String(s.replace("${origin}", origin).replace("${alignment}", alignment)),
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, origin, alignment)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, origin, alignment)))
                .collect(),
        ),
        other => other.clone(),
    }
}
