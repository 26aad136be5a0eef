//! PMTiles v3 writer: tiles in Hilbert tile-id order (clustered), identical tiles
//! stored once, runs of identical consecutive tiles as one directory entry, gzip
//! directories and metadata, leaf directories when the root would not fit in the
//! first 16 KiB.
//!
//! ```
//! use geoalign::tiles::pmtiles::tile_id;
//! assert_eq!(tile_id(0, 0, 0), 0);
//! assert_eq!([tile_id(1, 0, 0), tile_id(1, 0, 1), tile_id(1, 1, 1), tile_id(1, 1, 0)], [1, 2, 3, 4]);
//! assert_eq!(tile_id(2, 0, 0), 5);
//! ```

use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::TileError;
use super::cache::fnv1a;
use super::gzip::gzip;

const HEADER: usize = 127;
const ROOT_MAX: usize = 16_384 - HEADER;

/// The PMTiles tile id of z/x/y: tiles of lower zooms first, then the Hilbert index.
pub fn tile_id(z: u8, x: u32, y: u32) -> u64 {
    let acc = ((1u64 << (2 * u32::from(z))) - 1) / 3;
    let (mut tx, mut ty) = (u64::from(x), u64::from(y));
    let mut d = 0u64;
    let mut s = (1u64 << z) / 2;
    while s > 0 {
        let rx = u64::from(tx & s > 0);
        let ry = u64::from(ty & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                tx = s.wrapping_mul(2).wrapping_sub(1).wrapping_sub(tx) & (s * 2 - 1);
                ty = s.wrapping_mul(2).wrapping_sub(1).wrapping_sub(ty) & (s * 2 - 1);
            }
            std::mem::swap(&mut tx, &mut ty);
        }
        s /= 2;
    }
    acc + d
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    tile_id: u64,
    offset: u64,
    length: u32,
    run_length: u32,
}

/// Where the header's bounds, centre and zoom range come from.
#[derive(Debug, Clone)]
pub struct PmtilesInfo {
    /// Lowest zoom written.
    pub minzoom: u8,
    /// Highest zoom written.
    pub maxzoom: u8,
    /// `[west, south, east, north]` in degrees.
    pub bounds: [f64; 4],
    /// `[lon, lat, zoom]`.
    pub center: [f64; 3],
    /// Metadata JSON (TileJSON-like: name, vector_layers, ...).
    pub metadata: serde_json::Value,
}

/// Writes a PMTiles archive; tiles must be added in increasing tile id order.
pub struct PmtilesWriter {
    path: PathBuf,
    data: std::io::BufWriter<std::fs::File>,
    data_path: PathBuf,
    written: u64,
    entries: Vec<Entry>,
    seen: HashMap<(u64, u32), u64>,
    addressed: u64,
    contents: u64,
    last_id: Option<u64>,
}

impl std::fmt::Debug for PmtilesWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PmtilesWriter({})", self.path.display())
    }
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> TileError {
    TileError::Export {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

impl PmtilesWriter {
    /// Starts an archive at `path` (tile data is staged beside it).
    pub fn create(path: &Path) -> Result<PmtilesWriter, TileError> {
        let data_path = path.with_extension("pmtiles.data.tmp");
        let file = std::fs::File::create(&data_path).map_err(|e| io_error(&data_path, e))?;
        Ok(PmtilesWriter {
            path: path.to_owned(),
            data: std::io::BufWriter::new(file),
            data_path,
            written: 0,
            entries: Vec::new(),
            seen: HashMap::new(),
            addressed: 0,
            contents: 0,
            last_id: None,
        })
    }

    /// Adds a tile (gzip MVT bytes). Identical tiles share their bytes.
    pub fn add(&mut self, z: u8, x: u32, y: u32, bytes: &[u8]) -> Result<(), TileError> {
        let id = tile_id(z, x, y);
        if self.last_id.is_some_and(|last| id <= last) {
            return Err(io_error(
                &self.path,
                format!("tile {z}/{x}/{y} added out of order"),
            ));
        }
        self.last_id = Some(id);
        self.addressed += 1;
        let length = bytes.len() as u32;
        let key = (fnv1a(bytes), length);
        let offset = match self.seen.get(&key) {
            Some(&offset) => offset,
            None => {
                let offset = self.written;
                self.data
                    .write_all(bytes)
                    .map_err(|e| io_error(&self.data_path, e))?;
                self.written += u64::from(length);
                self.contents += 1;
                self.seen.insert(key, offset);
                offset
            }
        };
        if let Some(last) = self.entries.last_mut()
            && last.offset == offset
            && last.length == length
            && last.tile_id + u64::from(last.run_length) == id
        {
            last.run_length += 1;
            return Ok(());
        }
        self.entries.push(Entry {
            tile_id: id,
            offset,
            length,
            run_length: 1,
        });
        Ok(())
    }

    /// Writes directories, metadata and header, and moves the archive into place.
    pub fn finish(mut self, info: &PmtilesInfo) -> Result<(), TileError> {
        self.data.flush().map_err(|e| io_error(&self.data_path, e))?;
        let (root, leaves) = directories(&self.entries);
        let metadata = gzip(&serde_json::to_vec(&info.metadata).map_err(|e| io_error(&self.path, e))?);
        let root_offset = HEADER as u64;
        let metadata_offset = root_offset + root.len() as u64;
        let leaves_offset = metadata_offset + metadata.len() as u64;
        let data_offset = leaves_offset + leaves.len() as u64;
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(b"PMTiles");
        header.push(3);
        for v in [
            root_offset,
            root.len() as u64,
            metadata_offset,
            metadata.len() as u64,
            leaves_offset,
            leaves.len() as u64,
            data_offset,
            self.written,
            self.addressed,
            self.entries.len() as u64,
            self.contents,
        ] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        header.push(1); // clustered
        header.push(2); // internal compression: gzip
        header.push(2); // tile compression: gzip
        header.push(1); // tile type: MVT
        header.push(info.minzoom);
        header.push(info.maxzoom);
        let e7 = |v: f64| ((v * 1e7).round() as i32).to_le_bytes();
        header.extend_from_slice(&e7(info.bounds[0]));
        header.extend_from_slice(&e7(info.bounds[1]));
        header.extend_from_slice(&e7(info.bounds[2]));
        header.extend_from_slice(&e7(info.bounds[3]));
        header.push(info.center[2] as u8);
        header.extend_from_slice(&e7(info.center[0]));
        header.extend_from_slice(&e7(info.center[1]));
        debug_assert_eq!(header.len(), HEADER);

        let tmp = self.path.with_extension("pmtiles.tmp");
        let result = (|| -> std::io::Result<()> {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            out.write_all(&header)?;
            out.write_all(&root)?;
            out.write_all(&metadata)?;
            out.write_all(&leaves)?;
            let mut data = std::fs::File::open(&self.data_path)?;
            data.seek(SeekFrom::Start(0))?;
            std::io::copy(&mut data, &mut out)?;
            out.flush()?;
            Ok(())
        })();
        let _ = std::fs::remove_file(&self.data_path);
        result.map_err(|e| io_error(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| io_error(&self.path, e))
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn serialize(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    write_varint(&mut out, entries.len() as u64);
    let mut last = 0u64;
    for e in entries {
        write_varint(&mut out, e.tile_id - last);
        last = e.tile_id;
    }
    for e in entries {
        write_varint(&mut out, u64::from(e.run_length));
    }
    for e in entries {
        write_varint(&mut out, u64::from(e.length));
    }
    for (i, e) in entries.iter().enumerate() {
        if i > 0 && e.offset == entries[i - 1].offset + u64::from(entries[i - 1].length) {
            write_varint(&mut out, 0);
        } else {
            write_varint(&mut out, e.offset + 1);
        }
    }
    gzip(&out)
}

/// The root directory and the leaf directories (empty when the root holds everything).
fn directories(entries: &[Entry]) -> (Vec<u8>, Vec<u8>) {
    let root = serialize(entries);
    if root.len() <= ROOT_MAX {
        return (root, Vec::new());
    }
    let mut leaf_size = 4096usize;
    loop {
        let mut leaves = Vec::new();
        let mut root_entries = Vec::new();
        for chunk in entries.chunks(leaf_size) {
            let leaf = serialize(chunk);
            root_entries.push(Entry {
                tile_id: chunk[0].tile_id,
                offset: leaves.len() as u64,
                length: leaf.len() as u32,
                run_length: 0,
            });
            leaves.extend_from_slice(&leaf);
        }
        let root = serialize(&root_entries);
        if root.len() <= ROOT_MAX {
            return (root, leaves);
        }
        leaf_size *= 2;
    }
}
