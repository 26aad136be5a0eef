//! Settings of the server and the command line, merged in one place ([`Config::load`])
//! from, in increasing priority: built-in defaults, an optional TOML file
//! (`--config FILE` or `GEOALIGN_CONFIG`), `GEOALIGN_*` environment variables, and
//! command-line flags.
//!
//! [`SETTINGS`] names every setting's flag, environment variable and TOML key;
//! `geoalign serve --help` ([`help`]) and the README table show them with their defaults.
//!
//! ```
//! use geoalign::config::{Config, Overrides};
//! let env = |name: &str| (name == "GEOALIGN_TILE_CACHE_MB").then(|| "64".to_owned());
//! let flags = Overrides { units_minzoom: Some(10), ..Overrides::default() };
//! let config = Config::load(None, &env, flags).unwrap();
//! assert_eq!((config.tile_cache_mb, config.units_minzoom), (64, 10));
//! assert_eq!(config.bind, Config::default().bind);
//! ```

use std::fmt::Display;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use crate::tiles::{MAX_ZOOM, TileOptions};

/// Environment variable naming the TOML file when `--config` is not given.
pub const CONFIG_ENV: &str = "GEOALIGN_CONFIG";

const MIB: usize = 1 << 20;

/// Largest batch body the HTTP API accepts by default (bytes; the `max_batch_mb`
/// setting): a million CSV rows fit in about 40 MB.
pub const MAX_BATCH_BYTES: usize = 128 << 20;

/// The settings in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// SQLite store file.
    pub store: PathBuf,
    /// Address the server listens on.
    pub bind: String,
    /// HTTP worker threads (`None`: one per core).
    pub workers: Option<usize>,
    /// Size bound of the tile cache, in MiB.
    pub tile_cache_mb: usize,
    /// First zoom of the `units` tile layer.
    pub units_minzoom: u8,
    /// Largest body of a lookup or geocode batch request, in MiB.
    pub max_batch_mb: usize,
    /// Origins that may read the API from a browser page of another site (CORS on GET,
    /// HEAD and OPTIONS): `*` for any, or a comma-separated list of `scheme://host[:port]`.
    pub cors_origins: String,
    /// Whether those origins may also send state-changing requests (POST, PUT, DELETE).
    pub cors_writes: bool,
    /// Requests without a token may read (and a server on a non-loopback address
    /// with no token may start).
    pub allow_anonymous_read: bool,
    /// How log lines are written to standard error.
    pub log_format: LogFormat,
    /// The URL clients reach the server at (`https://maps.example/geoalign`), used in the
    /// links of TileJSON, styles, OpenAPI and OGC documents; `None`: the request's own
    /// `Host` (and, from a trusted proxy, its forwarded headers).
    pub public_url: Option<String>,
    /// Peers whose `Forwarded` / `X-Forwarded-*` headers are believed: a comma-separated
    /// list of addresses and CIDR blocks (empty: none).
    pub trusted_proxies: String,
    /// How many alignments the store keeps at most.
    pub max_alignments: usize,
}

/// How log lines are written: plain text (ANSI colours only on a terminal) or one JSON
/// object per line (every field escaped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `2026-01-01T00:00:00Z  INFO request{id=…}: message field=value`.
    #[default]
    Text,
    /// `{"timestamp":…,"level":…,"fields":{…},"span":{…}}`.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("'{other}': expected text or json")),
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

impl Default for Config {
    fn default() -> Config {
        let tiles = TileOptions::default();
        Config {
            store: PathBuf::from("geoalign.db"),
            bind: "127.0.0.1:8080".into(),
            workers: None,
            tile_cache_mb: tiles.cache_bytes / MIB,
            units_minzoom: tiles.units_minzoom,
            max_batch_mb: MAX_BATCH_BYTES / MIB,
            allow_anonymous_read: false,
            log_format: LogFormat::Text,
            cors_origins: "*".into(),
            cors_writes: false,
            public_url: None,
            trusted_proxies: String::new(),
            max_alignments: crate::store::MAX_ALIGNMENTS,
        }
    }
}

/// The settings one source gives (a TOML file, the environment, the command line);
/// `None` where it says nothing. The TOML file has exactly these keys.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// SQLite store file.
    pub store: Option<PathBuf>,
    /// Address the server listens on.
    pub bind: Option<String>,
    /// HTTP worker threads.
    pub workers: Option<usize>,
    /// Size bound of the tile cache, in MiB.
    pub tile_cache_mb: Option<usize>,
    /// First zoom of the `units` tile layer.
    pub units_minzoom: Option<u8>,
    /// Largest body of a batch request, in MiB.
    pub max_batch_mb: Option<usize>,
    /// Requests without a token may read.
    pub allow_anonymous_read: Option<bool>,
    /// How log lines are written.
    pub log_format: Option<LogFormat>,
    /// Origins allowed by CORS (`*` or a comma-separated list).
    pub cors_origins: Option<String>,
    /// Whether CORS also covers state-changing requests.
    pub cors_writes: Option<bool>,
    /// The URL clients reach the server at.
    pub public_url: Option<String>,
    /// Peers whose forwarded headers are believed.
    pub trusted_proxies: Option<String>,
    /// How many alignments the store keeps at most.
    pub max_alignments: Option<usize>,
}

/// One setting: how each source names it, and what it does.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// Command-line flag (on `serve` and `demo`; `--store` on every command).
    pub flag: &'static str,
    /// Environment variable.
    pub env: &'static str,
    /// Key in the TOML file.
    pub key: &'static str,
    /// What it sets.
    pub about: &'static str,
}

/// Every setting, in the order [`help`] and the README list them.
pub const SETTINGS: &[Setting] = &[
    Setting {
        flag: "--store",
        env: "GEOALIGN_STORE",
        key: "store",
        about: "SQLite store file",
    },
    Setting {
        flag: "--bind",
        env: "GEOALIGN_BIND",
        key: "bind",
        about: "address the server listens on",
    },
    Setting {
        flag: "--workers",
        env: "GEOALIGN_WORKERS",
        key: "workers",
        about: "HTTP worker threads",
    },
    Setting {
        flag: "--tile-cache-mb",
        env: "GEOALIGN_TILE_CACHE_MB",
        key: "tile_cache_mb",
        about: "size bound of the tile cache, MiB",
    },
    Setting {
        flag: "--units-minzoom",
        env: "GEOALIGN_UNITS_MINZOOM",
        key: "units_minzoom",
        about: "first zoom of the units tile layer",
    },
    Setting {
        flag: "--max-batch-mb",
        env: "GEOALIGN_MAX_BATCH_MB",
        key: "max_batch_mb",
        about: "largest lookup/geocode batch body, MiB",
    },
    Setting {
        flag: "--allow-anonymous-read",
        env: "GEOALIGN_ALLOW_ANONYMOUS_READ",
        key: "allow_anonymous_read",
        about: "requests without a token may read; writes need a token",
    },
    Setting {
        flag: "--log-format",
        env: "GEOALIGN_LOG_FORMAT",
        key: "log_format",
        about: "log lines as text (ANSI colours on a terminal only) or json",
    },
    Setting {
        flag: "--cors-origins",
        env: "GEOALIGN_CORS_ORIGINS",
        key: "cors_origins",
        about: "origins that may read from other sites (CORS): * or a comma-separated list",
    },
    Setting {
        flag: "--cors-writes",
        env: "GEOALIGN_CORS_WRITES",
        key: "cors_writes",
        about: "CORS also for state-changing requests (true/false)",
    },
    Setting {
        flag: "--public-url",
        env: "GEOALIGN_PUBLIC_URL",
        key: "public_url",
        about: "URL clients reach the server at, for the links it writes (default: the request's Host)",
    },
    Setting {
        flag: "--trusted-proxies",
        env: "GEOALIGN_TRUSTED_PROXIES",
        key: "trusted_proxies",
        about: "addresses/CIDRs whose Forwarded and X-Forwarded-* headers are believed",
    },
    Setting {
        flag: "--max-alignments",
        env: "GEOALIGN_MAX_ALIGNMENTS",
        key: "max_alignments",
        about: "how many alignments (scenarios, copies) the store keeps at most",
    },
];

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML file cannot be read.
    #[error("config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The TOML file is not valid, or has an unknown key or a value of the wrong type
    /// (the message gives the line and the key).
    #[error("config file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: Box<toml::de::Error>,
    },
    /// A value that parses but is out of range, or an environment variable that does not parse.
    #[error("{setting}: {reason}")]
    Invalid {
        /// The setting as its source names it (`GEOALIGN_WORKERS=x`, `geoalign.toml: workers`, `--workers`).
        setting: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Config {
    /// The settings of defaults < the TOML file (`file`, else `$GEOALIGN_CONFIG`, else
    /// none) < environment variables (read through `env`; an empty value counts as
    /// unset) < `flags`.
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
        flags: Overrides,
    ) -> Result<Config, ConfigError> {
        flags.check(|s| s.flag.to_owned())?;
        let from_env = Overrides::from_env(env)?;
        let file = match file {
            Some(path) => Some(path.to_owned()),
            None => var(env, CONFIG_ENV).map(PathBuf::from),
        };
        let from_file = match &file {
            Some(path) => Overrides::from_file(path)?,
            None => Overrides::default(),
        };
        Ok(Config::default().with(flags.over(from_env).over(from_file)))
    }

    /// Tile options of these settings.
    pub fn tile_options(&self) -> TileOptions {
        TileOptions {
            cache_bytes: self.tile_cache_mb * MIB,
            units_minzoom: self.units_minzoom,
            ..TileOptions::default()
        }
    }

    /// The batch body limit in bytes.
    pub fn max_batch_bytes(&self) -> usize {
        self.max_batch_mb * MIB
    }

    fn with(self, o: Overrides) -> Config {
        Config {
            store: o.store.unwrap_or(self.store),
            bind: o.bind.unwrap_or(self.bind),
            workers: o.workers.or(self.workers),
            tile_cache_mb: o.tile_cache_mb.unwrap_or(self.tile_cache_mb),
            units_minzoom: o.units_minzoom.unwrap_or(self.units_minzoom),
            max_batch_mb: o.max_batch_mb.unwrap_or(self.max_batch_mb),
            allow_anonymous_read: o.allow_anonymous_read.unwrap_or(self.allow_anonymous_read),
            log_format: o.log_format.unwrap_or(self.log_format),
            cors_origins: o.cors_origins.unwrap_or(self.cors_origins),
            cors_writes: o.cors_writes.unwrap_or(self.cors_writes),
            public_url: o
                .public_url
                .map(|u| u.trim_end_matches('/').to_owned())
                .or(self.public_url),
            trusted_proxies: o.trusted_proxies.unwrap_or(self.trusted_proxies),
            max_alignments: o.max_alignments.unwrap_or(self.max_alignments),
        }
    }

    /// The value of each setting, as [`help`] shows it.
    fn shown(&self, key: &str) -> String {
        match key {
            "store" => self.store.display().to_string(),
            "bind" => self.bind.clone(),
            "workers" => self.workers.map_or("one per core".into(), |n| n.to_string()),
            "tile_cache_mb" => self.tile_cache_mb.to_string(),
            "units_minzoom" => self.units_minzoom.to_string(),
            "max_batch_mb" => self.max_batch_mb.to_string(),
            "allow_anonymous_read" => self.allow_anonymous_read.to_string(),
            "log_format" => self.log_format.to_string(),
            "cors_origins" => self.cors_origins.clone(),
            "cors_writes" => self.cors_writes.to_string(),
            "public_url" => self.public_url.clone().unwrap_or_else(|| "the request's".into()),
            "trusted_proxies" => "none".into(),
            "max_alignments" => self.max_alignments.to_string(),
            _ => String::new(),
        }
    }
}

impl Overrides {
    /// `self`, with what it leaves unset taken from `lower`.
    fn over(self, lower: Overrides) -> Overrides {
        Overrides {
            store: self.store.or(lower.store),
            bind: self.bind.or(lower.bind),
            workers: self.workers.or(lower.workers),
            tile_cache_mb: self.tile_cache_mb.or(lower.tile_cache_mb),
            units_minzoom: self.units_minzoom.or(lower.units_minzoom),
            max_batch_mb: self.max_batch_mb.or(lower.max_batch_mb),
            allow_anonymous_read: self.allow_anonymous_read.or(lower.allow_anonymous_read),
            log_format: self.log_format.or(lower.log_format),
            cors_origins: self.cors_origins.or(lower.cors_origins),
            cors_writes: self.cors_writes.or(lower.cors_writes),
            public_url: self.public_url.or(lower.public_url),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
            max_alignments: self.max_alignments.or(lower.max_alignments),
        }
    }

    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Overrides, ConfigError> {
        let parsed = Overrides {
            store: var(env, "GEOALIGN_STORE").map(PathBuf::from),
            bind: var(env, "GEOALIGN_BIND"),
            workers: parse_var(env, "GEOALIGN_WORKERS")?,
            tile_cache_mb: parse_var(env, "GEOALIGN_TILE_CACHE_MB")?,
            units_minzoom: parse_var(env, "GEOALIGN_UNITS_MINZOOM")?,
            max_batch_mb: parse_var(env, "GEOALIGN_MAX_BATCH_MB")?,
            allow_anonymous_read: parse_var(env, "GEOALIGN_ALLOW_ANONYMOUS_READ")?,
            log_format: parse_var(env, "GEOALIGN_LOG_FORMAT")?,
            cors_origins: var(env, "GEOALIGN_CORS_ORIGINS"),
            cors_writes: parse_var(env, "GEOALIGN_CORS_WRITES")?,
            public_url: var(env, "GEOALIGN_PUBLIC_URL"),
            trusted_proxies: var(env, "GEOALIGN_TRUSTED_PROXIES"),
            max_alignments: parse_var(env, "GEOALIGN_MAX_ALIGNMENTS")?,
        };
        parsed.check(|s| format!("{}={}", s.env, var(env, s.env).unwrap_or_default()))?;
        Ok(parsed)
    }

    fn from_file(path: &Path) -> Result<Overrides, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let parsed: Overrides = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
        parsed.check(|s| format!("config file {}: {}", path.display(), s.key))?;
        Ok(parsed)
    }

    /// Refuses values out of range, naming the setting as `name` spells it for the source.
    fn check(&self, name: impl Fn(&Setting) -> String) -> Result<(), ConfigError> {
        let problem = if self.workers == Some(0) {
            Some(("workers", "must be at least 1".to_owned()))
        } else if self.max_alignments == Some(0) {
            Some(("max_alignments", "must be at least 1".to_owned()))
        } else if self.max_batch_mb == Some(0) {
            Some(("max_batch_mb", "must be at least 1".to_owned()))
        } else if self.tile_cache_mb.is_some_and(|mb| mb.checked_mul(MIB).is_none()) {
            Some(("tile_cache_mb", "too large".to_owned()))
        } else if self.max_batch_mb.is_some_and(|mb| mb.checked_mul(MIB).is_none()) {
            Some(("max_batch_mb", "too large".to_owned()))
        } else if self.units_minzoom.is_some_and(|z| z > MAX_ZOOM) {
            Some(("units_minzoom", format!("must be 0-{MAX_ZOOM}")))
        } else if let Some(bad) = self.cors_origins.as_deref().and_then(bad_origin) {
            Some((
                "cors_origins",
                format!("'{bad}' is not * or scheme://host[:port]"),
            ))
        } else if let Some(reason) = self.public_url.as_deref().and_then(bad_public_url) {
            Some(("public_url", reason))
        } else {
            self.trusted_proxies
                .as_deref()
                .and_then(|list| TrustedProxies::parse(list).err())
                .map(|reason| ("trusted_proxies", reason))
        };
        match problem {
            None => Ok(()),
            Some((key, reason)) => Err(ConfigError::Invalid {
                setting: SETTINGS
                    .iter()
                    .find(|s| s.key == key)
                    .map_or_else(|| key.to_owned(), name),
                reason,
            }),
        }
    }
}

/// The first entry of a `cors_origins` list that is neither `*` nor `scheme://host[:port]`.
fn bad_origin(list: &str) -> Option<&str> {
    list.split(',').map(str::trim).find(|o| {
        *o != "*"
            && o.split_once("://")
                .is_none_or(|(scheme, host)| scheme.is_empty() || host.is_empty() || host.contains('/'))
    })
}

/// Why `url` cannot be the public URL: it must be `http(s)://host[:port][/path]`, with
/// no query or fragment.
fn bad_public_url(url: &str) -> Option<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some(format!("'{url}' is not an http(s) URL"));
    };
    let host = rest.split('/').next().unwrap_or_default();
    if !matches!(scheme, "http" | "https") {
        Some(format!("'{url}': the scheme must be http or https"))
    } else if !is_host(host) {
        Some(format!("'{url}': '{host}' is not host[:port]"))
    } else if rest.contains(['?', '#']) {
        Some(format!("'{url}' must have no query or fragment"))
    } else {
        None
    }
}

/// Peers whose forwarded headers are believed: addresses and CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Reads a comma-separated list of addresses (`10.0.0.1`, `::1`) and CIDR blocks
    /// (`10.0.0.0/8`); empty entries are skipped.
    ///
    /// ```
    /// use geoalign::config::TrustedProxies;
    /// let proxies = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap();
    /// assert!(proxies.trusts("10.1.2.3".parse().unwrap()));
    /// assert!(!proxies.trusts("192.168.0.1".parse().unwrap()));
    /// assert!(TrustedProxies::parse("10.0.0.0/40").is_err());
    /// ```
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net = match entry.parse::<ipnet::IpNet>() {
                Ok(net) => net,
                Err(_) => entry
                    .parse::<IpAddr>()
                    .map(ipnet::IpNet::from)
                    .map_err(|_| format!("'{entry}' is not an IP address or CIDR block"))?,
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    /// Whether `peer` is one of them.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|net| net.contains(&peer))
    }
}

/// Whether `text` is a plain `host[:port]`: a name, an IPv4 address or a bracketed IPv6
/// address, with an optional numeric port; nothing that could end a URL's authority.
pub fn is_host(text: &str) -> bool {
    let (name, port) = match text.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') || name.ends_with(']') => (name, Some(port)),
        _ => (text, None),
    };
    let name_ok = if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        v6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    name_ok && port_ok
}

/// The process environment, for [`Config::load`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

fn var(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

fn parse_var<T: FromStr>(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<Option<T>, ConfigError>
where
    T::Err: Display,
{
    var(env, name)
        .map(|text| {
            text.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
                setting: format!("{name}={text}"),
                reason: e.to_string(),
            })
        })
        .transpose()
}

/// The settings table of `geoalign serve --help`: each setting's flag, environment
/// variable, TOML key and default.
pub fn help() -> String {
    let defaults = Config::default();
    let mut text = format!(
        "Settings: flag, environment variable, key of the TOML file given by --config FILE (or {CONFIG_ENV}), default.\n\
         Flags override the environment, which overrides the file, which overrides the defaults.\n\
         Unknown keys in the file are refused.\n\n"
    );
    text.push_str(&format!(
        "  {:<17} {:<24} {:<15} {:<15} {}\n",
        "FLAG", "ENVIRONMENT", "TOML KEY", "DEFAULT", ""
    ));
    for s in SETTINGS {
        text.push_str(&format!(
            "  {:<17} {:<24} {:<15} {:<15} {}\n",
            s.flag,
            s.env,
            s.key,
            defaults.shown(s.key),
            s.about
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    /// The message of loading with only this environment, which must fail.
    fn env_error(pairs: &'static [(&'static str, &'static str)]) -> String {
        Config::load(None, &env_of(pairs), Overrides::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_match_the_tile_options_and_batch_limit() {
        let config = Config::load(None, &env_of(&[]), Overrides::default()).unwrap();
        assert_eq!(config, Config::default());
        let tiles = config.tile_options();
        assert_eq!(tiles.cache_bytes, TileOptions::default().cache_bytes);
        assert_eq!(tiles.units_minzoom, TileOptions::default().units_minzoom);
        assert_eq!(config.max_batch_bytes(), MAX_BATCH_BYTES);
    }

    #[test]
    fn environment_values_are_parsed_and_checked() {
        let env = env_of(&[("GEOALIGN_WORKERS", " 3 "), ("GEOALIGN_BIND", "")]);
        let config = Config::load(None, &env, Overrides::default()).unwrap();
        assert_eq!(
            (config.workers, config.bind.as_str()),
            (Some(3), "127.0.0.1:8080")
        );
        let err = env_error(&[("GEOALIGN_WORKERS", "many")]);
        assert!(err.starts_with("GEOALIGN_WORKERS=many: "), "{err}");
        let err = env_error(&[("GEOALIGN_UNITS_MINZOOM", "30")]);
        assert_eq!(err, "GEOALIGN_UNITS_MINZOOM=30: must be 0-22");
    }

    #[test]
    fn cors_settings_merge_and_are_checked() {
        assert_eq!(Config::default().cors_origins, "*");
        let env = env_of(&[
            (
                "GEOALIGN_CORS_ORIGINS",
                "https://maps.example, http://localhost:3000",
            ),
            ("GEOALIGN_CORS_WRITES", "true"),
        ]);
        let config = Config::load(None, &env, Overrides::default()).unwrap();
        assert_eq!(config.cors_origins, "https://maps.example, http://localhost:3000");
        assert!(config.cors_writes);
        let flags = Overrides {
            cors_origins: Some("*".into()),
            ..Overrides::default()
        };
        assert_eq!(Config::load(None, &env, flags).unwrap().cors_origins, "*");
        let err = env_error(&[("GEOALIGN_CORS_ORIGINS", "maps.example")]);
        assert!(err.starts_with("GEOALIGN_CORS_ORIGINS=maps.example: "), "{err}");
        assert!(help().contains("--cors-origins"));
    }

    #[test]
    fn flags_are_checked_by_their_names() {
        let flags = Overrides {
            workers: Some(0),
            ..Overrides::default()
        };
        let err = Config::load(None, &env_of(&[]), flags).unwrap_err().to_string();
        assert_eq!(err, "--workers: must be at least 1");
    }

    #[test]
    fn the_example_file_parses_to_the_defaults() {
        let example: Overrides = toml::from_str(include_str!("../geoalign.example.toml")).unwrap();
        assert_eq!(Config::default().with(example), Config::default());
    }

    #[test]
    fn every_setting_is_in_the_help_and_the_readme() {
        let help = help();
        let readme = include_str!("../README.md");
        for s in SETTINGS {
            for name in [s.flag, s.env, s.key] {
                assert!(help.contains(name), "help lacks {name}");
                assert!(readme.contains(&format!("`{name}`")), "README lacks `{name}`");
            }
            assert!(
                !Config::default().shown(s.key).is_empty(),
                "{} has no default shown",
                s.key
            );
        }
        assert!(readme.contains(CONFIG_ENV));
    }
}
