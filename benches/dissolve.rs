//! Dissolve benchmarks (filled in with the topology module).
fn main() {}
