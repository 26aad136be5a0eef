//! Mapbox Vector Tile 2.1 encoder: protobuf written by hand (varints, packed
//! commands, zigzag deltas), keys and values deduplicated per layer, layer version 2.
//!
//! ```
//! use geoalign::tiles::encode::{LayerBuilder, Value, encode_tile};
//! let mut layer = LayerBuilder::new("labels", 4096);
//! layer.point(Some(1), &[("name", Value::from("T1000"))], [2048, 2048]);
//! let bytes = encode_tile(vec![layer]);
//! assert_eq!(bytes[0], 0x1a); // field 3 (layers), length-delimited
//! ```

use std::borrow::Cow;
use std::collections::HashMap;

/// A feature property value; strings are borrowed from the caller while a tile is
/// built, and copied into the layer only the first time a layer sees them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// A string.
    String(Cow<'a, str>),
    /// A double.
    Double(f64),
    /// An unsigned integer.
    Uint(u64),
    /// A signed integer.
    Sint(i64),
    /// A boolean.
    Bool(bool),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Value<'a> {
        Value::String(Cow::Borrowed(s))
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::String(Cow::Owned(s))
    }
}

impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        // Whole numbers as integers: smaller, and what readers expect for counts.
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            if v >= 0.0 {
                Value::Uint(v as u64)
            } else {
                Value::Sint(v as i64)
            }
        } else {
            Value::Double(v)
        }
    }
}

impl From<u64> for Value<'_> {
    fn from(v: u64) -> Self {
        Value::Uint(v)
    }
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl Value<'_> {
    fn into_owned(self) -> Value<'static> {
        match self {
            Value::String(s) => Value::String(Cow::Owned(s.into_owned())),
            Value::Double(d) => Value::Double(d),
            Value::Uint(u) => Value::Uint(u),
            Value::Sint(i) => Value::Sint(i),
            Value::Bool(b) => Value::Bool(b),
        }
    }
}

/// Hashable identity of a non-string value: its kind and its bits (doubles by their bits).
fn scalar_key(v: &Value<'_>) -> Option<(u8, u64)> {
    match v {
        Value::String(_) => None,
        Value::Double(d) => Some((0, d.to_bits())),
        Value::Uint(u) => Some((1, *u)),
        Value::Sint(i) => Some((2, *i as u64)),
        Value::Bool(b) => Some((3, u64::from(*b))),
    }
}

/// Maps of the layer's key and value tables (foldhash: keys are short and not hostile).
type Index<K> = HashMap<K, u32, foldhash::fast::RandomState>;

const POINT: u64 = 1;
const LINESTRING: u64 = 2;
const POLYGON: u64 = 3;

/// Builds one layer: features with their properties and geometry commands.
#[derive(Debug)]
pub struct LayerBuilder {
    name: String,
    extent: u32,
    keys: Vec<String>,
    key_index: Index<String>,
    values: Vec<Value<'static>>,
    string_index: Index<String>,
    scalar_index: Index<(u8, u64)>,
    features: Vec<u8>,
    count: usize,
    tags: Vec<u32>,
    geometry: Vec<u32>,
}

impl LayerBuilder {
    /// An empty layer.
    pub fn new(name: &str, extent: u32) -> LayerBuilder {
        LayerBuilder {
            name: name.to_owned(),
            extent,
            keys: Vec::new(),
            key_index: Index::default(),
            values: Vec::new(),
            string_index: Index::default(),
            scalar_index: Index::default(),
            features: Vec::new(),
            count: 0,
            tags: Vec::new(),
            geometry: Vec::new(),
        }
    }

    /// Number of features so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the layer has no feature.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn tag(&mut self, properties: &[(&str, Value<'_>)]) {
        self.tags.clear();
        for (key, value) in properties {
            let k = match self.key_index.get(*key) {
                Some(&k) => k,
                None => {
                    let k = self.keys.len() as u32;
                    self.keys.push((*key).to_owned());
                    self.key_index.insert((*key).to_owned(), k);
                    k
                }
            };
            let next = self.values.len() as u32;
            let v = match (value, scalar_key(value)) {
                (Value::String(text), _) => match self.string_index.get(text.as_ref()) {
                    Some(&v) => v,
                    None => {
                        self.string_index.insert(text.as_ref().to_owned(), next);
                        next
                    }
                },
                (_, Some(key)) => *self.scalar_index.entry(key).or_insert(next),
                (_, None) => next,
            };
            if v == next {
                self.values.push(value.clone().into_owned());
            }
            self.tags.push(k);
            self.tags.push(v);
        }
    }

    fn push_feature(&mut self, id: Option<u64>, kind: u64) {
        // Written straight into the layer: the feature's length is known up front.
        let tags = packed_len(&self.tags);
        let geometry = packed_len(&self.geometry);
        let mut len = 1 + varint_len(kind) + field_len(tags) + field_len(geometry);
        if let Some(id) = id {
            len += 1 + varint_len(id);
        }
        let out = &mut self.features;
        out.reserve(len + 6);
        write_key(out, 2, 2);
        write_varint(out, len as u64);
        if let Some(id) = id {
            write_key(out, 1, 0);
            write_varint(out, id);
        }
        write_packed(out, 2, &self.tags, tags);
        write_key(out, 3, 0);
        write_varint(out, kind);
        write_packed(out, 4, &self.geometry, geometry);
        self.count += 1;
    }

    /// Adds a point feature.
    pub fn point(&mut self, id: Option<u64>, properties: &[(&str, Value<'_>)], p: [i32; 2]) {
        self.tag(properties);
        self.geometry.clear();
        self.geometry.push(command(1, 1));
        self.geometry.push(zigzag(p[0]));
        self.geometry.push(zigzag(p[1]));
        self.push_feature(id, POINT);
    }

    /// Adds a (multi)linestring feature; parts with fewer than two points are skipped.
    /// Returns whether a feature was added.
    pub fn lines(
        &mut self,
        id: Option<u64>,
        properties: &[(&str, Value<'_>)],
        parts: &[Vec<[i32; 2]>],
    ) -> bool {
        self.geometry.clear();
        let mut cursor = [0i32, 0];
        for part in parts.iter().filter(|p| p.len() >= 2) {
            self.geometry.push(command(1, 1));
            push_delta(&mut self.geometry, &mut cursor, part[0]);
            self.geometry.push(command(2, part.len() as u32 - 1));
            for p in &part[1..] {
                push_delta(&mut self.geometry, &mut cursor, *p);
            }
        }
        if self.geometry.is_empty() {
            return false;
        }
        self.tag(properties);
        self.push_feature(id, LINESTRING);
        true
    }

    /// Adds a (multi)polygon feature: each polygon its exterior (positive area) then its
    /// holes (negative area), as [`super::clip::clip_polygons`] returns them. Returns
    /// whether a feature was added.
    pub fn polygons(
        &mut self,
        id: Option<u64>,
        properties: &[(&str, Value<'_>)],
        polygons: &[Vec<Vec<[i32; 2]>>],
    ) -> bool {
        self.geometry.clear();
        let mut cursor = [0i32, 0];
        for ring in polygons.iter().flatten().filter(|r| r.len() >= 3) {
            self.geometry.push(command(1, 1));
            push_delta(&mut self.geometry, &mut cursor, ring[0]);
            self.geometry.push(command(2, ring.len() as u32 - 1));
            for p in &ring[1..] {
                push_delta(&mut self.geometry, &mut cursor, *p);
            }
            self.geometry.push(command(7, 1));
        }
        if self.geometry.is_empty() {
            return false;
        }
        self.tag(properties);
        self.push_feature(id, POLYGON);
        true
    }

    fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.features.len() + 64 * self.keys.len() + 16 * self.values.len());
        write_key(&mut out, 15, 0);
        write_varint(&mut out, 2);
        write_bytes(&mut out, 1, self.name.as_bytes());
        out.extend_from_slice(&self.features);
        for key in &self.keys {
            write_bytes(&mut out, 3, key.as_bytes());
        }
        let mut value = Vec::new();
        for v in &self.values {
            value.clear();
            match v {
                Value::String(s) => write_bytes(&mut value, 1, s.as_bytes()),
                Value::Double(d) => {
                    write_key(&mut value, 3, 1);
                    value.extend_from_slice(&d.to_le_bytes());
                }
                Value::Uint(u) => {
                    write_key(&mut value, 5, 0);
                    write_varint(&mut value, *u);
                }
                Value::Sint(i) => {
                    write_key(&mut value, 6, 0);
                    write_varint(&mut value, ((*i << 1) ^ (*i >> 63)) as u64);
                }
                Value::Bool(b) => {
                    write_key(&mut value, 7, 0);
                    write_varint(&mut value, u64::from(*b));
                }
            }
            write_bytes(&mut out, 4, &value);
        }
        write_key(&mut out, 5, 0);
        write_varint(&mut out, u64::from(self.extent));
        out
    }
}

/// Encodes the non-empty layers into a tile; an empty tile is empty bytes.
pub fn encode_tile(layers: Vec<LayerBuilder>) -> Vec<u8> {
    let mut out = Vec::new();
    for layer in layers.into_iter().filter(|l| !l.is_empty()) {
        let bytes = layer.finish();
        write_bytes(&mut out, 3, &bytes);
    }
    out
}

fn command(id: u32, count: u32) -> u32 {
    (id & 0x7) | (count << 3)
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn push_delta(geometry: &mut Vec<u32>, cursor: &mut [i32; 2], p: [i32; 2]) {
    geometry.push(zigzag(p[0] - cursor[0]));
    geometry.push(zigzag(p[1] - cursor[1]));
    *cursor = p;
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn write_key(out: &mut Vec<u8>, field: u32, wire: u8) {
    write_varint(out, (u64::from(field) << 3) | u64::from(wire));
}

fn write_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    write_key(out, field, 2);
    write_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Bytes of `v` as a varint.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Bytes of the varints of `values` (the body of a packed field).
fn packed_len(values: &[u32]) -> usize {
    values.iter().map(|&v| varint_len(u64::from(v))).sum()
}

/// Bytes of a length-delimited field with a one-byte key and a `body`-byte body; none
/// for an empty packed field, which is left out.
fn field_len(body: usize) -> usize {
    if body == 0 {
        0
    } else {
        1 + varint_len(body as u64) + body
    }
}

/// Writes a packed field of `body` bytes (from [`packed_len`]); nothing when empty.
fn write_packed(out: &mut Vec<u8>, field: u32, values: &[u32], body: usize) {
    if values.is_empty() {
        return;
    }
    write_key(out, field, 2);
    write_varint(out, body as u64);
    for &v in values {
        write_varint(out, u64::from(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag() {
        let mut out = Vec::new();
        write_varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(command(1, 1), 9);
        assert_eq!(command(7, 1), 15);
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            write_varint(&mut out, v);
            assert_eq!(varint_len(v), out.len(), "{v}");
        }
    }

    #[test]
    fn keys_and_values_are_shared() {
        let mut layer = LayerBuilder::new("t", 4096);
        let props = [("level", Value::from("territory"))];
        layer.point(None, &props, [1, 1]);
        layer.point(None, &props, [2, 2]);
        assert_eq!((layer.keys.len(), layer.values.len()), (1, 1));
        assert_eq!(Value::from(3.0), Value::Uint(3));
        assert_eq!(Value::from(-3.0), Value::Sint(-3));
        assert_eq!(Value::from(0.5), Value::Double(0.5));
    }
}
