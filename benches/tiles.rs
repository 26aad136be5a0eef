//! Tile rendering on ../shared/data/zip5_us.fgb with a ZIP3 alignment (regions =
//! states), in process: the time to prepare the dataset and the alignment, then per
//! zoom 4-12 render time (total, mean, p50, p99, max) over the tiles holding every 25th
//! ZIP, bytes per tile, gzip + entity tag time and size, and each layer's share of the
//! bytes. `cargo bench --bench tiles` (skipped with a message when the data is absent).
//! `TILES_LIST=FILE` renders the `z x y` lines of FILE instead (e.g. the list of
//! `BENCH_KEEP=1 scripts/bench tiles`); `TILES_REPEAT=N` renders each tile N times (for
//! a profiler). scripts/bench tiles compares with PostGIS over HTTP.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use geoalign::tiles::{TileId, TileOptions, TileService, lonlat_to_world};

fn layer_sizes(tile: &[u8], sizes: &mut BTreeMap<String, usize>) {
    let mut pos = 0;
    let varint = |pos: &mut usize| {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = tile[*pos];
            *pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    };
    while pos < tile.len() {
        let _key = varint(&mut pos);
        let len = varint(&mut pos) as usize;
        let layer = &tile[pos..pos + len];
        // The name is field 1 right after the version (field 15, 2 bytes).
        let mut p = 2;
        let _ = varint(&mut p);
        let name = if layer.get(2) == Some(&0x0a) {
            let mut q = 3;
            let mut n = 0usize;
            let mut shift = 0;
            loop {
                let b = layer[q];
                q += 1;
                n |= usize::from(b & 0x7f) << shift;
                if b < 0x80 {
                    break;
                }
                shift += 7;
            }
            String::from_utf8_lossy(&layer[q..q + n]).into_owned()
        } else {
            "?".into()
        };
        *sizes.entry(name).or_default() += len;
        pos += len;
    }
}

fn main() {
    let Some(data) = common::zip5_us() else { return };
    let (_dir, engine) = common::engine(&data);
    common::import_zip3(&engine, &common::zip3_sheet(&engine));
    let started = Instant::now();
    let engine = Arc::new(engine);
    let snapshot = engine.snapshot("zip3").expect("snapshot");
    println!("snapshot (dissolve) {:.2} s", started.elapsed().as_secs_f64());
    let fallback: Vec<usize> = snapshot
        .shapes
        .iter()
        .map(|level| {
            level
                .values()
                .filter(|s| s.method == geoalign::topo::DissolveMethod::Fallback)
                .count()
        })
        .collect();
    println!("overlay fallbacks per level: {fallback:?}");
    let service = TileService::new(engine.clone(), TileOptions::default());
    let started = Instant::now();
    let view = service.view("zip3").expect("view");
    println!(
        "dataset + alignment prepared {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let _ = view.dataset.units();
    println!("units prepared {:.2} s", started.elapsed().as_secs_f64());

    let mut by_zoom: BTreeMap<u8, Vec<TileId>> = BTreeMap::new();
    // TILES_LIST=FILE ("z x y" lines, e.g. scripts/bench's tile list) renders exactly
    // those tiles; otherwise the tiles holding every 25th ZIP.
    if let Ok(list) = std::env::var("TILES_LIST") {
        let text = std::fs::read_to_string(&list).expect("TILES_LIST");
        for line in text.lines() {
            let v: Vec<u32> = line
                .split_whitespace()
                .map(|f| f.parse().expect("z x y"))
                .collect();
            let tile = TileId::new(v[0] as u8, v[1], v[2]).expect("tile");
            by_zoom.entry(v[0] as u8).or_default().push(tile);
        }
    }
    for i in 0..snapshot.dataset.unit_of_topo.len() {
        if std::env::var_os("TILES_LIST").is_some() {
            break;
        }
        if i % 25 != 0 {
            continue;
        }
        let Some(c) = geo::InteriorPoint::interior_point(&snapshot.dataset.polygons[i]) else {
            continue;
        };
        let [x, y] = lonlat_to_world(c.x(), c.y());
        for z in 4..=12 {
            by_zoom.entry(z).or_default().push(TileId::containing(z, x, y));
        }
    }
    println!(
        "| z | tiles | total ms | mean ms | p50 ms | p99 ms | max ms | mean KB | max KB | gzip+tag ms | gzip KB | layers (share of bytes) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let options = TileOptions::default();
    for (z, mut tiles) in by_zoom {
        tiles.sort();
        tiles.dedup();
        tiles.truncate(300);
        let mut times = Vec::new();
        let (mut encode_ms, mut gzip_bytes) = (0.0, 0usize);
        let mut bytes = Vec::new();
        let mut layers: BTreeMap<String, usize> = BTreeMap::new();
        let repeat: usize = std::env::var("TILES_REPEAT")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(1);
        for t in tiles.iter().cycle().take(tiles.len() * repeat) {
            let started = Instant::now();
            let tile = geoalign::tiles::render::render(&view, *t, &options);
            times.push(started.elapsed().as_secs_f64() * 1e3);
            let started = Instant::now();
            let encoded = geoalign::tiles::EncodedTile::new(tile.clone());
            encode_ms += started.elapsed().as_secs_f64() * 1e3;
            gzip_bytes += encoded.gzip.len();
            layer_sizes(&tile, &mut layers);
            bytes.push(tile.len());
        }
        times.sort_by(f64::total_cmp);
        let n = times.len();
        let total: usize = layers.values().sum();
        let shares: Vec<String> = layers
            .iter()
            .map(|(k, v)| format!("{k} {:.0}%", 100.0 * *v as f64 / total.max(1) as f64))
            .collect();
        println!(
            "| {z} | {n} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} | {encode_ms:.1} | {:.1} | {} |",
            times.iter().sum::<f64>(),
            times.iter().sum::<f64>() / n as f64,
            times[n / 2],
            times[(n * 99 / 100).min(n - 1)],
            times[n - 1],
            bytes.iter().sum::<usize>() as f64 / n as f64 / 1024.0,
            *bytes.iter().max().unwrap_or(&0) as f64 / 1024.0,
            gzip_bytes as f64 / n as f64 / 1024.0,
            shares.join(", ")
        );
    }
}
