//! Coordinate reference systems: recognising what a file declares and
//! reprojecting to EPSG:4326 with the pure-Rust `proj4rs` (EPSG definitions
//! from `crs-definitions`, other WKT through [`super::wkt`]).
//!
//! NAD27 (`+datum=NAD27`, EPSG:4267 and the projected CRSs on it) is shifted with a
//! NAD27 -> NAD83 NTv2 grid when one is installed (see [`nad27_grids`]), else with the
//! 3-parameter shift PROJ also falls back to in the conterminous US; either way the
//! reprojector's [`Reprojector::notes`] say which. With the `gdal` feature, a CRS
//! `proj4rs` cannot do is handed to GDAL/PROJ.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use geo::{Coord, Geometry, MapCoordsInPlace};
use proj4rs::Proj;
use proj4rs::nadgrids::Catalog;
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
                        .char_indices()
                        .rev()
                        .find(|(_, c)| !c.is_ascii_alphanumeric() && *c != '_')
                        .map_or(0, |(p, c)| p + c.len_utf8());
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

/// Where datum grids are looked for: the directories PROJ's data packages install to
/// (Debian's `proj-data` puts its grids in `/usr/share/proj`). The environment is not
/// read (settings come from the CLI); [`Reprojector::with_grid_dirs`] takes others.
pub const GRID_DIRS: [&str; 2] = ["/usr/share/proj", "/usr/local/share/proj"];

/// File names of NAD27 -> NAD83 grids as PROJ and `proj4rs` know them (US NADCON
/// `conus` and `alaska`, Canada's NTv2 `ntv2_0.gsb`); only NTv2 files can be read.
const NAD27_GRID_NAMES: [&str; 4] = ["conus", "alaska", "ntv2_0.gsb", "NTv2_0.gsb"];

/// EPSG:1173 "NAD27 to WGS 84 (4)": the 3-parameter shift (metres) PROJ uses for the
/// conterminous US when the NADCON grid is missing (accuracy 10 m).
const NAD27_TOWGS84: &str = "-8,160,176";

/// The summary's note when NAD27 is shifted without a grid.
pub const NAD27_WITHOUT_GRID: &str = "NAD27 -> WGS84 without the NADCON grid: errors up to ~10 m \
(EPSG:1173 3-parameter shift, as PROJ falls back to; tens of metres outside the conterminous US)";

/// The NAD27 -> NAD83 grids in `dirs` that can be read (NTv2), by the names PROJ gives
/// them, the first directory holding a name winning.
///
/// ```
/// use geoalign::ingest::crs::nad27_grids;
/// assert!(nad27_grids(&[std::path::PathBuf::from("/nonexistent")]).is_empty());
/// ```
pub fn nad27_grids(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    for name in NAD27_GRID_NAMES {
        let hit = dirs.iter().map(|d| d.join(name)).find(|p| is_ntv2(p));
        if let Some(path) = hit {
            let path = path.canonicalize().unwrap_or(path);
            if !found.contains(&path) {
                found.push(path);
            }
        }
    }
    found
}

/// Whether `path` is an NTv2 grid file (the only grid format `proj4rs` reads).
fn is_ntv2(path: &Path) -> bool {
    let mut head = [0u8; 56];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head.starts_with(b"NUM_OREC") && &head[48..55] == b"GS_TYPE")
}

/// Lets `proj4rs` load the grids a PROJ string names (`+nadgrids=`): an absolute path
/// as it is, a bare name from [`GRID_DIRS`].
fn grid_builder(catalog: &Catalog, key: &str) -> Result<(), proj4rs::errors::Error> {
    let path = Path::new(key);
    let path = if path.is_absolute() {
        path.to_owned()
    } else {
        GRID_DIRS
            .iter()
            .map(|d| Path::new(d).join(key))
            .find(|p| p.is_file())
            .ok_or_else(|| proj4rs::errors::Error::GridFileNotFound(key.into()))?
    };
    proj4rs::nadgrids::files::read(catalog, key, &mut BufReader::new(File::open(path)?))
}

fn install_grid_builder() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        proj4rs::nadgrids::catalog::set_builder(grid_builder);
    });
}

/// How the datum of the source reaches WGS 84, when the summary should say so.
#[derive(Debug)]
enum DatumShift {
    /// Nothing worth a note.
    Plain,
    /// NAD27 with the 3-parameter shift.
    Nad27WithoutGrid,
    /// NAD27 with these grids; coordinates outside them got the 3-parameter shift.
    Nad27Grid {
        grids: Vec<PathBuf>,
        outside: AtomicUsize,
    },
    /// Handed to GDAL/PROJ because `proj4rs` cannot do it.
    #[cfg(feature = "gdal")]
    Gdal { reason: String },
}

/// The `proj4rs` pair (and NAD27's fallback source).
struct Projs {
    source: Proj,
    /// NAD27 outside the grids: the same CRS with the 3-parameter shift.
    fallback: Option<Proj>,
    target: Proj,
}

enum Engine {
    Proj(Box<Projs>),
    #[cfg(feature = "gdal")]
    Gdal(gdal::spatial_ref::CoordTransform),
}

/// Reprojects coordinates from a source CRS to EPSG:4326 (lon, lat in degrees).
pub struct Reprojector {
    engine: Engine,
    shift: DatumShift,
    label: String,
}

impl std::fmt::Debug for Reprojector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reprojector({} -> EPSG:4326, {:?})", self.label, self.shift)
    }
}

impl Reprojector {
    /// Builds a reprojector, or explains why the CRS is not supported. NAD27 grids are
    /// looked for in [`GRID_DIRS`]. With the `gdal` feature, a CRS `proj4rs` cannot do
    /// goes to GDAL/PROJ.
    pub fn new(def: &CrsDef) -> Result<Reprojector, String> {
        let dirs: Vec<PathBuf> = GRID_DIRS.iter().map(PathBuf::from).collect();
        Reprojector::with_grid_dirs(def, &dirs)
    }

    /// [`Reprojector::new`] looking for NAD27 grids in `dirs` instead.
    pub fn with_grid_dirs(def: &CrsDef, dirs: &[PathBuf]) -> Result<Reprojector, String> {
        match Reprojector::native(def, dirs) {
            Ok(r) => Ok(r),
            #[cfg(feature = "gdal")]
            Err(native) => {
                let transform =
                    super::readers::gdal::to_wgs84(def).map_err(|e| format!("{native}; GDAL/PROJ: {e}"))?;
                Ok(Reprojector {
                    engine: Engine::Gdal(transform),
                    shift: DatumShift::Gdal { reason: native },
                    label: def.label(),
                })
            }
            #[cfg(not(feature = "gdal"))]
            Err(native) => Err(native),
        }
    }

    fn native(def: &CrsDef, dirs: &[PathBuf]) -> Result<Reprojector, String> {
        install_grid_builder();
        // PROJ spells the scale factor k_0 as well as k; proj4rs knows k and k0.
        let text = def.proj_string()?.replace("+k_0=", "+k=");
        let build = |text: &str| -> Result<Proj, String> {
            let text = minor_axis_as_rf(text);
            let proj = Proj::from_proj_string(&text).map_err(|e| format!("{e} (from '{text}')"))?;
            if proj.has_inverse() {
                Ok(proj)
            } else {
                Err(format!("projection '{}' has no inverse", proj.projname()))
            }
        };
        let (source, fallback, shift) = match nad27_rewrite(&text, &nad27_grids(dirs)) {
            None => (build(&text)?, None, DatumShift::Plain),
            Some(Nad27 { helmert, grid: None }) => (build(&helmert)?, None, DatumShift::Nad27WithoutGrid),
            Some(Nad27 {
                helmert,
                grid: Some((gridded, grids)),
            }) => match build(&gridded) {
                Ok(source) => (
                    source,
                    Some(build(&helmert)?),
                    DatumShift::Nad27Grid {
                        grids,
                        outside: AtomicUsize::new(0),
                    },
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "NAD27 grid unusable, shifting without it");
                    (build(&helmert)?, None, DatumShift::Nad27WithoutGrid)
                }
            },
        };
        let target =
            Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").map_err(|e| e.to_string())?;
        Ok(Reprojector {
            engine: Engine::Proj(Box::new(Projs {
                source,
                fallback,
                target,
            })),
            shift,
            label: def.label(),
        })
    }

    /// Reprojects one coordinate.
    pub fn coord(&self, c: Coord<f64>) -> Result<Coord<f64>, String> {
        let out = match &self.engine {
            Engine::Proj(projs) => match (project(&projs.source, &projs.target, c), &projs.fallback) {
                (Err(proj4rs::errors::Error::PointOutsideNadShiftArea), Some(fallback)) => {
                    if let DatumShift::Nad27Grid { outside, .. } = &self.shift {
                        outside.fetch_add(1, Ordering::Relaxed);
                    }
                    project(fallback, &projs.target, c)
                }
                (result, _) => result,
            }
            .map_err(|e| format!("cannot reproject ({}, {}): {e}", c.x, c.y))?,
            #[cfg(feature = "gdal")]
            Engine::Gdal(transform) => {
                let (mut x, mut y, mut z) = ([c.x], [c.y], [0.0]);
                transform
                    .transform_coords(&mut x, &mut y, &mut z)
                    .map_err(|e| format!("cannot reproject ({}, {}): {e}", c.x, c.y))?;
                Coord { x: x[0], y: y[0] }
            }
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

    /// What the summary should say about how the coordinates reached WGS 84 (the
    /// datum shift used and its accuracy), counting the coordinates reprojected so far.
    pub fn notes(&self) -> Vec<String> {
        match &self.shift {
            DatumShift::Plain => Vec::new(),
            DatumShift::Nad27WithoutGrid => vec![NAD27_WITHOUT_GRID.to_owned()],
            DatumShift::Nad27Grid { grids, outside } => {
                let names: Vec<String> = grids.iter().map(|g| g.display().to_string()).collect();
                let mut note = format!(
                    "NAD27 -> WGS84 with the grid {} (NAD27 -> NAD83; NAD83 taken as WGS84, ~1 m)",
                    names.join(", ")
                );
                let outside = outside.load(Ordering::Relaxed);
                if outside > 0 {
                    note.push_str(&format!(
                        "; {outside} coordinate(s) outside the grid: {NAD27_WITHOUT_GRID}"
                    ));
                }
                vec![note]
            }
            #[cfg(feature = "gdal")]
            DatumShift::Gdal { reason } => vec![format!(
                "{} -> WGS84 by GDAL/PROJ (not supported natively: {reason})",
                self.label
            )],
        }
    }
}

/// `proj4rs` 0.1 takes the flattening of an ellipsoid given by its minor axis as
/// (a - b) / b instead of (a - b) / a, which moves Transverse Mercator (UTM, NAD27 state
/// planes) latitudes by ~80 m on Clarke 1866. Spelling the shape as `+rf=` avoids it.
///
/// ```
/// use geoalign::ingest::crs::minor_axis_as_rf;
/// assert_eq!(minor_axis_as_rf("+proj=utm +zone=18 +a=6378206.4 +b=6356583.8"),
///     "+proj=utm +zone=18 +a=6378206.4 +rf=294.9786982138982");
/// assert!(minor_axis_as_rf("+proj=utm +zone=18 +ellps=clrk66").ends_with(" +rf=294.9786982138982"));
/// assert_eq!(minor_axis_as_rf("+proj=utm +zone=18 +ellps=WGS84"), "+proj=utm +zone=18 +ellps=WGS84");
/// ```
pub fn minor_axis_as_rf(text: &str) -> String {
    /// The ellipsoids `proj4rs` defines by their minor axis: (name, a, b).
    const BY_MINOR_AXIS: [(&str, f64, f64); 6] = [
        ("clrk66", 6_378_206.4, 6_356_583.8),
        ("mod_airy", 6_377_340.189, 6_356_034.446),
        ("new_intl", 6_378_157.5, 6_356_772.2),
        ("plessis", 6_376_523.0, 6_355_863.0),
        ("SEasia", 6_378_155.0, 6_356_773.320_5),
        ("walbeck", 6_376_896.0, 6_355_834.846_7),
    ];
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let value = |key: &str| -> Option<&str> { tokens.iter().find_map(|t| t.strip_prefix(key)) };
    if ["+rf=", "+f=", "+es=", "+e=", "+R="]
        .iter()
        .any(|k| value(k).is_some())
    {
        return text.to_owned();
    }
    let number = |key: &str| value(key).and_then(|v| v.parse::<f64>().ok());
    let rf = |a: f64, b: f64| (a > b).then(|| a / (a - b));
    match (number("+a="), number("+b="), value("+ellps=")) {
        (Some(a), Some(b), _) => match rf(a, b) {
            Some(rf) => tokens
                .iter()
                .map(|t| {
                    if t.starts_with("+b=") {
                        format!("+rf={rf}")
                    } else {
                        (*t).to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            None => text.to_owned(),
        },
        (None, None, Some(name)) => match BY_MINOR_AXIS.iter().find(|(n, _, _)| *n == name) {
            Some((_, a, b)) => match rf(*a, *b) {
                Some(rf) => format!("{} +rf={rf}", tokens.join(" ")),
                None => text.to_owned(),
            },
            None => text.to_owned(),
        },
        _ => text.to_owned(),
    }
}

/// A NAD27 PROJ string rewritten for `proj4rs`, which knows `+datum=NAD27` only with
/// its grids.
struct Nad27 {
    /// With the 3-parameter shift.
    helmert: String,
    /// With the grids, and which.
    grid: Option<(String, Vec<PathBuf>)>,
}

/// Rewrites `+datum=NAD27` (without an explicit `+towgs84` or `+nadgrids`, which win).
fn nad27_rewrite(text: &str, grids: &[PathBuf]) -> Option<Nad27> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let is = |t: &&str, key: &str| t.len() >= key.len() && t[..key.len()].eq_ignore_ascii_case(key);
    if !tokens.iter().any(|t| t.eq_ignore_ascii_case("+datum=NAD27"))
        || tokens.iter().any(|t| is(t, "+towgs84=") || is(t, "+nadgrids="))
    {
        return None;
    }
    let has_ellipsoid = tokens
        .iter()
        .any(|t| is(t, "+ellps=") || is(t, "+a=") || is(t, "+R="));
    let mut base: Vec<&str> = tokens
        .into_iter()
        .filter(|t| !t.eq_ignore_ascii_case("+datum=NAD27"))
        .collect();
    if !has_ellipsoid {
        base.push("+ellps=clrk66");
    }
    let base = base.join(" ");
    // A path proj4rs could not parse back out of a PROJ string is skipped.
    let usable: Vec<PathBuf> = grids
        .iter()
        .filter(|g| g.to_str().is_some_and(|s| !s.contains([',', ' ', '\t', '@'])))
        .cloned()
        .collect();
    let grid = (!usable.is_empty()).then(|| {
        let list: Vec<&str> = usable.iter().filter_map(|g| g.to_str()).collect();
        (format!("{base} +nadgrids={}", list.join(",")), usable.clone())
    });
    Some(Nad27 {
        helmert: format!("{base} +towgs84={NAD27_TOWGS84}"),
        grid,
    })
}

fn project(source: &Proj, target: &Proj, c: Coord<f64>) -> Result<Coord<f64>, proj4rs::errors::Error> {
    let mut point = if source.is_latlong() {
        Xy(c.x.to_radians(), c.y.to_radians())
    } else {
        Xy(c.x, c.y)
    };
    transform(source, target, &mut point)?;
    Ok(Coord {
        x: point.0.to_degrees(),
        y: point.1.to_degrees(),
    })
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
