//! Tile benchmarks (being written).
fn main() {}
