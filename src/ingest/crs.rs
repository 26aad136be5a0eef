//! Coordinate reference systems: recognising what a file declares and
//! reprojecting to EPSG:4326 with the pure-Rust `proj4rs` (EPSG definitions
//! from `crs-definitions`, other WKT through [`super::wkt`]).

use geo::{Coord, Geometry, MapCoordsInPlace};
use proj4rs::Proj;
use proj4rs::transform::{Transform, TransformClosure, transform};

/// A CRS as a source declares it.
#[derive(Debug, Clone, PartialEq)]
pub enum CrsDef {
    /// An EPSG code.
    Epsg(u32),
    /// A WKT1 or WKT2 definition (`.prj`, GeoPackage `definition`, FlatGeobuf header).
    Wkt(String),
    /// A PROJ string (`+proj=...`).
    Proj(String),
}

impl CrsDef {
    /// Parses a user's `--s-srs`: `EPSG:N`, a PROJ string or WKT.
    ///
    /// ```
    /// use geoalign::ingest::crs::CrsDef;
    /// assert_eq!(CrsDef::parse_user("EPSG:32618"), Some(CrsDef::Epsg(32618)));
    /// assert_eq!(CrsDef::parse_user("epsg:4326"), Some(CrsDef::Epsg(4326)));
    /// assert!(CrsDef::parse_user("nonsense").is_none());
    /// ```
    pub fn parse_user(text: &str) -> Option<CrsDef> {
        let text = text.trim();
        if let Some((authority, code)) = text.split_once(':')
            && authority.eq_ignore_ascii_case("epsg")
        {
            return code.trim().parse().ok().map(CrsDef::Epsg);
        }
        if text.starts_with('+') {
            return Some(CrsDef::Proj(text.to_owned()));
        }
        if text.contains('[') {
            return Some(CrsDef::Wkt(text.to_owned()));
        }
        None
    }

    /// Parses an OGC CRS URN or URL as found in legacy GeoJSON `crs` members
    /// (`urn:ogc:def:crs:EPSG::2263`, `urn:ogc:def:crs:OGC:1.3:CRS84`, `EPSG:4326`).
    pub fn parse_urn(text: &str) -> Option<CrsDef> {
        let upper = text.trim().to_ascii_uppercase();
        if upper.ends_with("CRS84") {
            return Some(CrsDef::Epsg(4326));
        }
        if upper.contains("EPSG") {
            let code: String = upper
                .rsplit(|c: char| !c.is_ascii_digit())
                .find(|part| !part.is_empty())?
                .to_owned();
            return code.parse().ok().map(CrsDef::Epsg);
        }
        None
    }

    /// A short label for messages and the ingest summary.
    pub fn label(&self) -> String {
        match self {
            CrsDef::Epsg(code) => format!("EPSG:{code}"),
            CrsDef::Proj(text) => text.clone(),
            CrsDef::Wkt(text) => match epsg_of_wkt(text) {
                Some(code) => format!("EPSG:{code}"),
                None => {
                    let name: String = text
                        .split('"')
                        .nth(1)
                        .unwrap_or("unnamed WKT")
                        .chars()
                        .take(80)
                        .collect();
                    format!("WKT \"{name}\"")
                }
            },
        }
    }

    /// Whether this is WGS 84 lon/lat already (no reprojection needed).
    pub fn is_wgs84(&self) -> bool {
        match self {
            CrsDef::Epsg(code) => *code == 4326,
            CrsDef::Wkt(text) => epsg_of_wkt(text) == Some(4326),
            CrsDef::Proj(text) => {
                let t = text.replace(' ', "");
                (t.contains("+proj=longlat") || t.contains("+proj=lonlat"))
                    && (t.contains("+datum=WGS84") || t.contains("+ellps=WGS84"))
                    && !t.contains("+towgs84=") // an explicit shift is not the identity
            }
        }
    }

    /// The PROJ string for this definition.
    fn proj_string(&self) -> Result<String, String> {
        match self {
            CrsDef::Proj(text) => Ok(text.clone()),
            CrsDef::Epsg(code) => epsg_proj_string(*code),
            CrsDef::Wkt(text) => match epsg_of_wkt(text) {
                Some(code) => epsg_proj_string(code),
                None => super::wkt::to_proj_string(text),
            },
        }
    }
}

fn epsg_proj_string(code: u32) -> Result<String, String> {
    u16::try_from(code)
        .ok()
        .and_then(crs_definitions::from_code)
        .map(|def| def.proj4.to_owned())
        .ok_or_else(|| format!("EPSG:{code} is not in the built-in EPSG table"))
}

/// The EPSG code of the CRS a WKT defines, read from its top-level
/// `AUTHORITY["EPSG","N"]` (WKT1) or `ID["EPSG",N]` (WKT2).
///
/// ```
/// use geoalign::ingest::crs::epsg_of_wkt;
/// let wkt = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],AUTHORITY["EPSG","4326"]]"#;
/// assert_eq!(epsg_of_wkt(wkt), Some(4326));
/// assert_eq!(epsg_of_wkt(r#"PROJCS["x",GEOGCS["y",AUTHORITY["EPSG","4326"]]]"#), None);
/// ```
pub fn epsg_of_wkt(wkt: &str) -> Option<u32> {
    let mut depth = 0usize;
    let mut found = None;
    let bytes = wkt.as_bytes();
    let mut in_string = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => in_string = !in_string,
            b'[' | b'(' if !in_string => {
                depth += 1;
                if depth == 2 {
                    let keyword_start = wkt[..i]
                        .rfind(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                        .map_or(0, |p| p + 1);
                    let keyword = &wkt[keyword_start..i];
                    if keyword.eq_ignore_ascii_case("AUTHORITY") || keyword.eq_ignore_ascii_case("ID") {
                        let rest = &wkt[i + 1..];
                        let end = rest.find(']').unwrap_or(rest.len());
                        let mut parts = rest[..end].split(',').map(|p| p.trim().trim_matches('"'));
                        if parts.next().is_some_and(|a| a.eq_ignore_ascii_case("EPSG")) {
                            found = parts.next().and_then(|c| c.parse().ok());
                        }
                    }
                }
            }
            b']' | b')' if !in_string => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    found
}

/// Reprojects coordinates from a source CRS to EPSG:4326 (lon, lat in degrees).
pub struct Reprojector {
    source: Proj,
    target: Proj,
    label: String,
}

impl std::fmt::Debug for Reprojector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reprojector({} -> EPSG:4326)", self.label)
    }
}

impl Reprojector {
    /// Builds a reprojector, or explains why the CRS is not supported.
    pub fn new(def: &CrsDef) -> Result<Reprojector, String> {
        // PROJ spells the scale factor k_0 as well as k; proj4rs knows k and k0.
        let text = def.proj_string()?.replace("+k_0=", "+k=");
        let source = Proj::from_proj_string(&text).map_err(|e| format!("{e} (from '{text}')"))?;
        if !source.has_inverse() {
            return Err(format!("projection '{}' has no inverse", source.projname()));
        }
        let target =
            Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").map_err(|e| e.to_string())?;
        Ok(Reprojector {
            source,
            target,
            label: def.label(),
        })
    }

    /// Reprojects one coordinate.
    pub fn coord(&self, c: Coord<f64>) -> Result<Coord<f64>, String> {
        let mut point = if self.source.is_latlong() {
            Xy(c.x.to_radians(), c.y.to_radians())
        } else {
            Xy(c.x, c.y)
        };
        transform(&self.source, &self.target, &mut point)
            .map_err(|e| format!("cannot reproject ({}, {}): {e}", c.x, c.y))?;
        let out = Coord {
            x: point.0.to_degrees(),
            y: point.1.to_degrees(),
        };
        if out.x.is_finite() && out.y.is_finite() {
            Ok(out)
        } else {
            Err(format!("({}, {}) has no lon/lat in {}", c.x, c.y, self.label))
        }
    }

    /// Reprojects a geometry in place.
    pub fn geometry(&self, geometry: &mut Geometry<f64>) -> Result<(), String> {
        map_geometry(geometry, &|c| self.coord(c))
    }
}

/// Maps every coordinate; collections recurse through a `dyn` closure, which
/// keeps the generic instantiation finite (geo's own impl recurses forever).
fn map_geometry(
    geometry: &mut Geometry<f64>,
    f: &dyn Fn(Coord<f64>) -> Result<Coord<f64>, String>,
) -> Result<(), String> {
    match geometry {
        Geometry::Point(g) => g.try_map_coords_in_place(f),
        Geometry::Line(g) => g.try_map_coords_in_place(f),
        Geometry::LineString(g) => g.try_map_coords_in_place(f),
        Geometry::Polygon(g) => g.try_map_coords_in_place(f),
        Geometry::MultiPoint(g) => g.try_map_coords_in_place(f),
        Geometry::MultiLineString(g) => g.try_map_coords_in_place(f),
        Geometry::MultiPolygon(g) => g.try_map_coords_in_place(f),
        Geometry::Rect(g) => g.try_map_coords_in_place(f),
        Geometry::Triangle(g) => g.try_map_coords_in_place(f),
        Geometry::GeometryCollection(gc) => gc.0.iter_mut().try_for_each(|g| map_geometry(g, f)),
    }
}

struct Xy(f64, f64);

impl Transform for Xy {
    fn transform_coordinates<F: TransformClosure>(&mut self, f: &mut F) -> proj4rs::errors::Result<()> {
        let (x, y, _) = f(self.0, self.1, 0.0)?;
        self.0 = x;
        self.1 = y;
        Ok(())
    }
}
