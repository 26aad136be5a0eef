//! The export-file cache of a server: each (alignment instance, revision, level, format)
//! is written once to a file under the temporary directory and served from there, with
//! an ETag tied to the revision. One folder per server process (revisions are per
//! store); on first use, the folders of processes that are gone are removed.

use std::path::{Path, PathBuf};
use std::sync::Once;

use super::{ExportError, Format, Layer, Level, export_file};
use crate::snapshot::Snapshot;

/// Prefix of the export cache folders in the temporary directory.
const CACHE_PREFIX: &str = "geoalign-exports-";

/// A cached export file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedExport {
    /// The file (complete: written aside and renamed into place).
    pub path: PathBuf,
    /// Its length in bytes.
    pub length: u64,
    /// Its ETag (quoted): alignment instance, revision, level, format.
    pub etag: String,
}

/// The export files of this process, written on first request (see the module docs).
#[derive(Debug)]
pub struct ExportCache {
    dir: PathBuf,
}

impl Default for ExportCache {
    fn default() -> ExportCache {
        ExportCache::new()
    }
}

impl ExportCache {
    /// The cache of this process: `geoalign-exports-{pid}` in the temporary directory
    /// (created, and stale folders removed, on first use).
    pub fn new() -> ExportCache {
        ExportCache {
            dir: std::env::temp_dir().join(format!("{CACHE_PREFIX}{}", std::process::id())),
        }
    }

    /// The cache file of an export, written first if missing (blocking: run it off the
    /// async executor), with its length and ETag.
    pub fn file(&self, s: &Snapshot, level: Level, format: Format) -> Result<CachedExport, ExportError> {
        static STALE: Once = Once::new();
        STALE.call_once(remove_stale_caches);
        let path = self.write_once(s, level, format)?;
        let length = std::fs::metadata(&path).map_err(io(format, &path))?.len();
        Ok(CachedExport {
            path,
            length,
            etag: etag(s, level, format),
        })
    }

    /// Writes (once) and returns the cache file of an export; older revisions of the same
    /// export are removed once a newer one is in place.
    fn write_once(&self, s: &Snapshot, level: Level, format: Format) -> Result<PathBuf, ExportError> {
        let dir = self.dir.join(cache_key(s));
        std::fs::create_dir_all(&dir).map_err(io(format, &dir))?;
        let stem = format!("{}.{}", level.name(s), format.extension());
        let path = dir.join(format!("r{}-{stem}", s.revision));
        if path.exists() {
            return Ok(path);
        }
        let started = std::time::Instant::now();
        let part = dir.join(format!(
            "part-{}-{:?}-{stem}",
            std::process::id(),
            std::thread::current().id()
        ));
        let layer = Layer::new(s, level);
        export_file(&layer, format, &part, &|_| {})?;
        std::fs::rename(&part, &path).map_err(io(format, &path))?;
        tracing::info!(
            alignment = %s.alignment,
            revision = s.revision,
            file = %stem,
            features = layer.len(),
            ms = started.elapsed().as_millis() as u64,
            "export written"
        );
        // Older revisions of the same export are no longer served.
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(rest) = name.strip_prefix('r')
                    && let Some((revision, other)) = rest.split_once('-')
                    && other == stem
                    && revision.parse::<i64>().is_ok_and(|r| r < s.revision)
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(path)
    }
}

/// An I/O error on `target` while caching a `format` export.
fn io(format: Format, target: &Path) -> impl FnOnce(std::io::Error) -> ExportError {
    let target = target.display().to_string();
    move |source| ExportError::Io {
        format: format.extension(),
        target,
        source,
    }
}

/// Removes cache folders whose process no longer runs (where `/proc` tells).
fn remove_stale_caches() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(CACHE_PREFIX)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => tracing::info!(dir = %entry.path().display(), "removed a stale export cache"),
                Err(e) => {
                    tracing::warn!(dir = %entry.path().display(), error = %e, "cannot remove a stale export cache")
                }
            }
        }
    }
}

/// The cache key of an alignment instance: a SHA-256 of its instance stamp and name
/// (hex, 128 bits), so that no two alignments share a key however their names are
/// spelt (`x.y`, `x y`), nor two instances of one name, nor alignments of two stores.
fn cache_key(s: &Snapshot) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(s.instance.to_le_bytes())
        .chain_update(s.alignment.as_bytes())
        .finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The ETag of an export: alignment instance, revision, level, format.
pub fn etag(s: &Snapshot, level: Level, format: Format) -> String {
    format!(
        "\"{}-r{}-{}.{}\"",
        cache_key(s),
        s.revision,
        level.name(s),
        format.extension()
    )
}
