//! A walk over WKB (OGC, ISO and EWKB flavours) that checks every count a geometry
//! declares against the bytes that follow, before a decoder trusts it: geozero reserves
//! memory for the declared number of points, so a blob claiming four billion of them
//! would abort the process (found by `fuzz/fuzz_targets/geopackage.rs`).
//!
//! ```
//! use geoalign::ingest::readers::wkb_check::check;
//! // A little-endian point (type 1) with its two coordinates.
//! let mut point = vec![1, 1, 0, 0, 0];
//! point.extend_from_slice(&[0; 16]);
//! assert!(check(&point).is_ok());
//! // A line string claiming 2^32 - 1 points in 4 bytes.
//! assert!(check(&[1, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]).is_err());
//! ```

/// Deepest nesting of collections accepted.
const MAX_DEPTH: usize = 32;

/// Whether `wkb` is one whole geometry whose every count fits in its bytes.
pub fn check(wkb: &[u8]) -> Result<(), String> {
    let end = geometry(wkb, 0, 0)?;
    if end == wkb.len() {
        Ok(())
    } else {
        Err(format!("{} bytes after the end of the geometry", wkb.len() - end))
    }
}

fn u32_at(wkb: &[u8], at: usize, little: bool) -> Result<u32, String> {
    let bytes: [u8; 4] = wkb
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("geometry ends at byte {} inside a count", wkb.len()))?;
    Ok(if little {
        u32::from_le_bytes(bytes)
    } else {
        u32::from_be_bytes(bytes)
    })
}

/// Checks `count` items of at least `each` bytes starting at `at`; the end of the first
/// `count * each` bytes.
fn fits(wkb: &[u8], at: usize, count: u32, each: usize, what: &str) -> Result<usize, String> {
    let need = (count as usize).checked_mul(each).and_then(|n| n.checked_add(at));
    match need {
        Some(end) if end <= wkb.len() => Ok(end),
        _ => Err(format!(
            "{count} {what} declared at byte {at}, but only {} bytes follow",
            wkb.len().saturating_sub(at)
        )),
    }
}

/// The end of the geometry starting at `at`.
fn geometry(wkb: &[u8], at: usize, depth: usize) -> Result<usize, String> {
    if depth > MAX_DEPTH {
        return Err(format!("collections nested deeper than {MAX_DEPTH}"));
    }
    let little = match wkb.get(at) {
        Some(0) => false,
        Some(1) => true,
        Some(b) => return Err(format!("byte order {b} at byte {at} (expected 0 or 1)")),
        None => return Err(format!("geometry ends at byte {at}")),
    };
    let code = u32_at(wkb, at + 1, little)?;
    let mut pos = at + 5;
    let (mut z, mut m) = (code & 0x8000_0000 != 0, code & 0x4000_0000 != 0);
    if code & 0x2000_0000 != 0 {
        pos += 4; // EWKB SRID
    }
    let iso = code & 0x0fff_ffff;
    match iso / 1000 {
        0 => {}
        1 => z = true,
        2 => m = true,
        3 => (z, m) = (true, true),
        _ => return Err(format!("geometry type {code} at byte {at}")),
    }
    let point = 8 * (2 + usize::from(z) + usize::from(m));
    match iso % 1000 {
        1 => fits(wkb, pos, 1, point, "point"),
        2 => {
            let n = u32_at(wkb, pos, little)?;
            fits(wkb, pos + 4, n, point, "points")
        }
        3 => {
            let rings = u32_at(wkb, pos, little)?;
            pos += 4;
            fits(wkb, pos, rings, 4, "rings")?;
            for _ in 0..rings {
                let n = u32_at(wkb, pos, little)?;
                pos = fits(wkb, pos + 4, n, point, "points")?;
            }
            Ok(pos)
        }
        4..=7 => {
            let parts = u32_at(wkb, pos, little)?;
            pos += 4;
            fits(wkb, pos, parts, 5, "parts")?;
            for _ in 0..parts {
                pos = geometry(wkb, pos, depth + 1)?;
            }
            Ok(pos)
        }
        _ => Err(format!("geometry type {code} at byte {at}")),
    }
}
