//! WKT1 CRS definitions (OGC and ESRI dialects, as found in `.prj` files and
//! GeoPackage `definition` columns) turned into PROJ strings for `proj4rs`.
//!
//! Covers the projections boundary files commonly use: Transverse Mercator
//! (UTM, British National Grid, state plane), Lambert Conformal Conic (1SP and
//! 2SP, state plane), Albers equal-area, Mercator and Web Mercator, Swiss
//! oblique Mercator (CH1903/CH1903+), oblique and polar stereographic,
//! Lambert azimuthal equal-area, and plain geographic CRSs.

/// A WKT node: `KEYWORD[arg, ...]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Wkt {
    /// A keyword with arguments.
    Node(String, Vec<Wkt>),
    /// A quoted string.
    Text(String),
    /// A number.
    Number(f64),
    /// A bare word (`EAST`, `NORTH`).
    Word(String),
}

impl Wkt {
    /// Parses WKT text.
    pub fn parse(text: &str) -> Result<Wkt, String> {
        let mut parser = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let node = parser.value()?;
        parser.skip_space();
        if parser.i != parser.s.len() {
            return Err(format!("unexpected text after position {}", parser.i));
        }
        Ok(node)
    }

    fn keyword(&self) -> &str {
        match self {
            Wkt::Node(k, _) => k,
            _ => "",
        }
    }

    fn args(&self) -> &[Wkt] {
        match self {
            Wkt::Node(_, a) => a,
            _ => &[],
        }
    }

    fn child(&self, keyword: &str) -> Option<&Wkt> {
        self.args()
            .iter()
            .find(|a| a.keyword().eq_ignore_ascii_case(keyword))
    }

    fn children<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a Wkt> + 'a {
        self.args()
            .iter()
            .filter(move |a| a.keyword().eq_ignore_ascii_case(keyword))
    }

    fn text(&self, i: usize) -> Option<&str> {
        match self.args().get(i) {
            Some(Wkt::Text(t)) => Some(t),
            _ => None,
        }
    }

    fn number(&self, i: usize) -> Option<f64> {
        match self.args().get(i) {
            Some(Wkt::Number(n)) => Some(*n),
            _ => None,
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Wkt, String> {
        self.skip_space();
        match self.s.get(self.i) {
            None => Err("unexpected end of WKT".into()),
            Some(b'"') => {
                self.i += 1;
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i] != b'"' {
                    self.i += 1;
                }
                let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                Ok(Wkt::Text(text))
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' || *c == b'+' || *c == b'.' => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || b"-+.".contains(&self.s[self.i]))
                {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                text.parse()
                    .map(Wkt::Number)
                    .map_err(|_| format!("bad number '{text}'"))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
                {
                    self.i += 1;
                }
                let word = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.skip_space();
                if !matches!(self.s.get(self.i), Some(b'[' | b'(')) {
                    return Ok(Wkt::Word(word));
                }
                self.i += 1;
                let mut args = Vec::new();
                loop {
                    args.push(self.value()?);
                    self.skip_space();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']' | b')') => {
                            self.i += 1;
                            return Ok(Wkt::Node(word, args));
                        }
                        _ => return Err(format!("expected ',' or ']' at position {}", self.i)),
                    }
                }
            }
            Some(c) => Err(format!("unexpected '{}' at position {}", *c as char, self.i)),
        }
    }
}

fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Converts a WKT1 CRS to a PROJ string.
///
/// ```
/// use geoalign::ingest::wkt::to_proj_string;
/// let prj = r#"PROJCS["NAD_1983_UTM_Zone_18N",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-75.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
/// let proj = to_proj_string(prj).unwrap();
/// assert!(proj.starts_with("+proj=tmerc +lat_0=0 +lon_0=-75 +k=0.9996 +x_0=500000 +y_0=0"));
/// ```
pub fn to_proj_string(text: &str) -> Result<String, String> {
    let root = Wkt::parse(text)?;
    match normalize(root.keyword()).as_str() {
        "projcs" | "projectedcrs" => projected(&root),
        "geogcs" | "geographiccrs" | "geodcrs" => Ok(format!("+proj=longlat {}", datum(&root)?)),
        other => Err(format!("'{other}' is not a projected or geographic CRS")),
    }
}

fn datum(geogcs: &Wkt) -> Result<String, String> {
    let datum = geogcs.child("DATUM").ok_or("GEOGCS without DATUM")?;
    let spheroid = datum.child("SPHEROID").ok_or("DATUM without SPHEROID")?;
    let (a, rf) = match (spheroid.number(1), spheroid.number(2)) {
        (Some(a), Some(rf)) => (a, rf),
        _ => return Err("SPHEROID without axis and flattening".into()),
    };
    let mut out = if rf == 0.0 {
        format!("+a={a} +b={a}")
    } else {
        format!("+a={a} +rf={rf}")
    };
    let shift = match datum.child("TOWGS84") {
        Some(t) => Some(Shift::Towgs84(
            t.args()
                .iter()
                .filter_map(|v| match v {
                    Wkt::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(","),
        )),
        None => known_shift(&normalize(datum.text(0).unwrap_or(""))),
    };
    match shift {
        Some(Shift::Towgs84(shift)) => out.push_str(&format!(" +towgs84={shift}")),
        // The reprojector chooses: the NAD27 grid when installed, else a 3-parameter shift.
        Some(Shift::Nad27) => out.push_str(" +datum=NAD27"),
        None => {}
    }
    if let Some(pm) = geogcs.child("PRIMEM").and_then(|p| p.number(1))
        && pm != 0.0
    {
        out.push_str(&format!(" +pm={pm}"));
    }
    Ok(out)
}

/// How a datum reaches WGS 84.
enum Shift {
    /// `+towgs84=` parameters.
    Towgs84(String),
    /// NAD27: `+datum=NAD27`, left to [`super::crs::Reprojector`].
    Nad27,
}

/// Datum shifts to WGS 84 for datums that WKT names without a TOWGS84.
fn known_shift(datum: &str) -> Option<Shift> {
    let datum = datum.trim_start_matches('d');
    if datum.contains("northamerican1927") || datum.contains("nad27") {
        return Some(Shift::Nad27);
    }
    Some(Shift::Towgs84(known_towgs84(datum)?.to_owned()))
}

fn known_towgs84(datum: &str) -> Option<&'static str> {
    Some(match datum {
        d if d.contains("wgs1984") || d.contains("wgs84") => "0,0,0",
        d if d.contains("northamerican1983") || d.contains("nad83") => "0,0,0",
        d if d.contains("europeanterrestrialreferencesystem1989")
            || d.contains("etrs1989")
            || d.contains("etrs89") =>
        {
            "0,0,0"
        }
        d if d.contains("gda94") || d.contains("gda2020") || d.contains("geocentricdatumofaustralia") => {
            "0,0,0"
        }
        d if d.contains("ch1903plus") || d.contains("ch1903+") => "674.374,15.056,405.346,0,0,0,0",
        d if d.contains("ch1903") => "674.4,15.1,405.3,0,0,0,0",
        d if d.contains("osgb1936") => "446.448,-125.157,542.06,0.15,0.247,0.842,-20.489",
        _ => return None,
    })
}

fn projected(root: &Wkt) -> Result<String, String> {
    let geogcs = root.child("GEOGCS").ok_or("PROJCS without GEOGCS")?;
    let method = root
        .child("PROJECTION")
        .and_then(|p| p.text(0))
        .ok_or("PROJCS without PROJECTION")?;
    let param = |names: &[&str]| -> Option<f64> {
        root.children("PARAMETER").find_map(|p| {
            let name = normalize(p.text(0)?);
            names.contains(&name.as_str()).then(|| p.number(1)).flatten()
        })
    };
    let lon_0 = param(&[
        "centralmeridian",
        "longitudeofcenter",
        "longitudeoforigin",
        "longitudeofnaturalorigin",
    ])
    .unwrap_or(0.0);
    let lat_0 = param(&["latitudeoforigin", "latitudeofcenter", "latitudeofnaturalorigin"]).unwrap_or(0.0);
    let k = param(&["scalefactor", "scalefactoratnaturalorigin"]).unwrap_or(1.0);
    let sp1 = param(&["standardparallel1", "latitudeof1ststandardparallel"]);
    let sp2 = param(&["standardparallel2", "latitudeof2ndstandardparallel"]);
    let unit = root
        .children("UNIT")
        .last()
        .and_then(|u| u.number(1))
        .unwrap_or(1.0);
    // False easting and northing are in the CRS unit; PROJ wants metres.
    let x_0 = param(&["falseeasting", "eastingatfalseorigin"]).unwrap_or(0.0) * unit;
    let y_0 = param(&["falsenorthing", "northingatfalseorigin"]).unwrap_or(0.0) * unit;
    let offsets = format!("+x_0={x_0} +y_0={y_0}");
    let head = match normalize(method).as_str() {
        "transversemercator" | "gausskruger" => {
            format!("+proj=tmerc +lat_0={lat_0} +lon_0={lon_0} +k={k} {offsets}")
        }
        "lambertconformalconic2sp" | "lambertconformalconic" if sp2.is_some() => format!(
            "+proj=lcc +lat_1={} +lat_2={} +lat_0={lat_0} +lon_0={lon_0} {offsets}",
            sp1.unwrap_or(lat_0),
            sp2.unwrap_or(lat_0)
        ),
        "lambertconformalconic1sp" | "lambertconformalconic" => {
            format!("+proj=lcc +lat_1={lat_0} +lat_0={lat_0} +lon_0={lon_0} +k={k} {offsets}")
        }
        "albersconicequalarea" | "albers" => format!(
            "+proj=aea +lat_1={} +lat_2={} +lat_0={lat_0} +lon_0={lon_0} {offsets}",
            sp1.unwrap_or(lat_0),
            sp2.unwrap_or(lat_0)
        ),
        "mercator1sp" => format!("+proj=merc +lon_0={lon_0} +k={k} {offsets}"),
        "mercator2sp" | "mercator" => match sp1 {
            Some(lat_ts) => format!("+proj=merc +lon_0={lon_0} +lat_ts={lat_ts} {offsets}"),
            None => format!("+proj=merc +lon_0={lon_0} +k={k} {offsets}"),
        },
        "popularvisualisationpseudomercator" | "mercatorauxiliarysphere" => {
            return Ok(format!(
                "+proj=merc +a=6378137 +b=6378137 +lon_0={lon_0} {offsets} +nadgrids=@null +towgs84=0,0,0"
            ));
        }
        "hotineobliquemercatorazimuthcenter"
        | "obliquemercator"
        | "hotineobliquemercator"
        | "swissobliquemercator"
            if (param(&["azimuth"]).unwrap_or(90.0) - 90.0).abs() < 1e-9 =>
        {
            format!("+proj=somerc +lat_0={lat_0} +lon_0={lon_0} +k={k} {offsets}")
        }
        "obliquestereographic" | "doublestereographic" => {
            format!("+proj=sterea +lat_0={lat_0} +lon_0={lon_0} +k={k} {offsets}")
        }
        "polarstereographic" | "stereographicnorthpole" | "stereographicsouthpole" => {
            let lat_ts = sp1.unwrap_or(lat_0);
            let pole = if lat_ts < 0.0 { -90 } else { 90 };
            format!("+proj=stere +lat_0={pole} +lat_ts={lat_ts} +lon_0={lon_0} +k={k} {offsets}")
        }
        "lambertazimuthalequalarea" => format!("+proj=laea +lat_0={lat_0} +lon_0={lon_0} {offsets}"),
        "equirectangular" | "platecarree" | "equidistantcylindrical" => {
            format!(
                "+proj=eqc +lat_ts={} +lon_0={lon_0} {offsets}",
                sp1.unwrap_or(0.0)
            )
        }
        "cylindricalequalarea" | "lambertcylindricalequalarea" => {
            format!(
                "+proj=cea +lat_ts={} +lon_0={lon_0} {offsets}",
                sp1.unwrap_or(0.0)
            )
        }
        _ => {
            return Err(format!(
                "projection method '{method}' is not supported without GDAL"
            ));
        }
    };
    Ok(format!("{head} {} +to_meter={unit}", datum(geogcs)?))
}
