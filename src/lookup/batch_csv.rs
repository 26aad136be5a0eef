//! The fast path of a CSV batch: unquoted CSV (no `"` anywhere, so every line is one
//! record) is cut into line-aligned chunks that every core parses, looks up and
//! writes on its own, with no per-row allocation; the chunks' outputs are joined in
//! input order. Output is byte-for-byte what [`super::batch::write_csv`] writes for
//! the rows [`super::batch::parse_csv`] reads. Quoted CSV takes that general path.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::batch::{BatchError, MAX_BATCH_POINTS, OwnerCells, csv_header, push_field};
use crate::geom::check;
use crate::snapshot::Snapshot;

/// Chunks per core, so a slow core does not hold up the others.
const CHUNKS_PER_THREAD: usize = 8;

/// One line-aligned piece of the body and the number of its first row.
struct Chunk<'a> {
    text: &'a [u8],
    first_row: usize,
}

/// Looks up an unquoted CSV batch on every core. `Ok(None)`: the body has quotes
/// (use the general parser).
pub fn lookup_unquoted_csv(s: &Snapshot, body: &[u8]) -> Result<Option<Vec<u8>>, BatchError> {
    if body.contains(&b'"') {
        return Ok(None);
    }
    let (header_line, rest) = match body.iter().position(|b| *b == b'\n') {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, &body[body.len()..]),
    };
    let header_text = std::str::from_utf8(header_line).map_err(|e| BatchError(format!("header: {e}")))?;
    let columns = csv_header(
        header_text
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect(),
    )?;

    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    // Line-aligned pieces, then their first row numbers (blank lines are no rows).
    let pieces = split_lines(rest, threads * CHUNKS_PER_THREAD);
    let counts: Vec<usize> = pieces.iter().map(|p| count_rows(p)).collect();
    let total: usize = counts.iter().sum();
    if total > MAX_BATCH_POINTS {
        return Err(BatchError(format!("more than {MAX_BATCH_POINTS} points")));
    }
    let mut first_row = 1;
    let chunks: Vec<Chunk> = pieces
        .into_iter()
        .zip(&counts)
        .map(|(text, n)| {
            let chunk = Chunk { text, first_row };
            first_row += n;
            chunk
        })
        .collect();
    let next = AtomicUsize::new(0);
    let mut outputs: Vec<(usize, Vec<u8>)> = Vec::with_capacity(chunks.len());
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(chunks.len()).max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut cells = OwnerCells::new(s);
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(chunk) = chunks.get(i) else {
                            break;
                        };
                        done.push((i, write_chunk(s, &columns, chunk, &mut cells)));
                    }
                    done
                })
            })
            .collect();
        for w in workers {
            match w.join() {
                Ok(done) => outputs.extend(done),
                Err(_) => tracing::error!("a batch lookup worker panicked"),
            }
        }
    });
    if outputs.len() != chunks.len() {
        return Err(BatchError("a batch lookup worker failed".into()));
    }
    outputs.sort_unstable_by_key(|(i, _)| *i);
    let header = super::batch::output_header(s);
    let mut out = Vec::with_capacity(header.len() + outputs.iter().map(|(_, o)| o.len()).sum::<usize>());
    out.extend_from_slice(header.as_bytes());
    for (_, o) in outputs {
        out.extend_from_slice(&o);
    }
    Ok(Some(out))
}

/// About `n` pieces of `text`, each ending just after a newline (the last at the end).
fn split_lines(text: &[u8], n: usize) -> Vec<&[u8]> {
    let target = text.len().div_ceil(n.max(1)).max(1);
    let mut pieces = Vec::with_capacity(n + 1);
    let mut rest = text;
    while !rest.is_empty() {
        let cut = if rest.len() <= target {
            rest.len()
        } else {
            rest[target..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(rest.len(), |i| target + i + 1)
        };
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// The lines of a piece, without their `\n` / `\r\n`, blank ones skipped (as the csv
/// reader skips them).
fn rows(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|b| *b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
}

fn count_rows(text: &[u8]) -> usize {
    rows(text).count()
}

/// Parses, looks up and writes one chunk.
fn write_chunk(
    s: &Snapshot,
    columns: &super::batch::Columns,
    chunk: &Chunk,
    cells: &mut OwnerCells,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.text.len() * 2 + 64);
    let empty_owner = ",".repeat(s.state.levels.len() + 2);
    for (k, line) in rows(chunk.text).enumerate() {
        let row = chunk.first_row + k;
        let Ok(line) = std::str::from_utf8(line) else {
            out.extend_from_slice(b",,,");
            out.extend_from_slice(empty_owner.as_bytes());
            let _ = write!(out, "row {row}: not UTF-8");
            out.push(b'\n');
            continue;
        };
        let mut fields: [&str; 16] = [""; 16];
        for (slot, f) in fields.iter_mut().zip(line.split(',')) {
            *slot = f.trim();
        }
        let get = |c: usize| -> &str {
            match fields.get(c) {
                Some(f) => f,
                None => line.split(',').nth(c).map_or("", str::trim),
            }
        };
        let id = columns.id.map_or("", get);
        push_field(&mut out, id);
        let (lon, lat) = (get(columns.lon), get(columns.lat));
        let coords = match (lon.parse::<f64>(), lat.parse::<f64>()) {
            (Ok(x), Ok(y)) => check(x, y)
                .map(|()| (x, y))
                .map_err(|e| format!("row {row}: {e}")),
            _ => Err(format!("row {row}: lon '{lon}' / lat '{lat}' are not numbers")),
        };
        match coords {
            Ok((x, y)) => {
                out.push(b',');
                push_f64(&mut out, x);
                out.push(b',');
                push_f64(&mut out, y);
                out.push(b',');
                match s.dataset.unit_at(x, y) {
                    Some(unit) => out.extend_from_slice(cells.get(unit).as_bytes()),
                    None => {
                        out.extend_from_slice(empty_owner.as_bytes());
                        out.extend_from_slice(b"in no unit");
                    }
                }
            }
            Err(e) => {
                out.extend_from_slice(b",,,");
                out.extend_from_slice(empty_owner.as_bytes());
                push_field(&mut out, &e);
            }
        }
        out.push(b'\n');
    }
    out
}

/// Appends `v` as `{v}` (`Display`) writes it. Ryu gives the same shortest digits
/// faster; only its exponent and trailing `.0` forms differ, and those go to `Display`.
fn push_f64(out: &mut Vec<u8>, v: f64) {
    let mut buffer = ryu::Buffer::new();
    let text = buffer.format(v);
    if text.contains('e') || text.ends_with(".0") || !v.is_finite() {
        let _ = write!(out, "{v}");
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}
