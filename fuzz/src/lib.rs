//! What the fuzz targets share: the demo sample in a store of its own (loaded once per
//! process) and input bytes written to a scratch file for the path-based readers.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use geoalign::engine::Engine;

struct Sample {
    _dir: tempfile::TempDir,
    engine: std::sync::Arc<Engine>,
}

fn sample() -> &'static Sample {
    static SAMPLE: OnceLock<Sample> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("scratch dir");
        let store = geoalign::store::Store::open(&dir.path().join("fuzz.db")).expect("store");
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        geoalign::demo::load_sample(&store, &data, false).expect("sample");
        let engine = Engine::new(std::sync::Arc::new(store));
        geoalign::demo::load_alignment(&engine, &data).expect("sample alignment");
        Sample {
            _dir: dir,
            engine: std::sync::Arc::new(engine),
        }
    })
}

/// The engine over the demo sample (NYC, alignment `nyc`).
pub fn engine() -> std::sync::Arc<Engine> {
    sample().engine.clone()
}

/// Writes `parts` to files `name.<ext>` (one per extension) in a scratch folder of this
/// process and returns the path of the first.
pub fn scratch_files(name: &str, parts: &[(&str, &[u8])]) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("scratch dir"));
    let mut first = None;
    for (ext, bytes) in parts {
        let path = dir.path().join(format!("{name}.{ext}"));
        std::fs::write(&path, bytes).expect("write scratch file");
        first.get_or_insert(path);
    }
    first.expect("at least one part")
}

/// Splits `data` into `n` parts at the lengths its first bytes give (a byte per cut, as
/// a share of what is left), so one input carries the files of a multi-file format.
pub fn split(data: &[u8], n: usize) -> Vec<&[u8]> {
    let (cuts, mut rest) = data.split_at(data.len().min(n - 1));
    let mut parts = Vec::with_capacity(n);
    for &cut in cuts {
        let at = rest.len() * usize::from(cut) / 255;
        let (part, tail) = rest.split_at(at);
        parts.push(part);
        rest = tail;
    }
    while parts.len() < n - 1 {
        parts.push(&[]);
    }
    parts.push(rest);
    parts
}
