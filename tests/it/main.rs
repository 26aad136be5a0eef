//! The integration tests, in one binary: each module links the whole crate, and on a
//! 2-core machine one link instead of eleven saves most of a cold `cargo test`.
//! Run one group with `cargo test --test it http::`.

mod common;

mod access;
mod align;
mod browser;
mod build;
mod clean;
mod cli;
mod conformance;
mod events;
mod export;
mod gdal;
mod geocode;
mod http;
mod ingest;
mod layers;
mod lookup;
mod observe;
mod ogc;
mod openapi;
mod safety;
mod territory_types;
mod tiles;
mod topo;
mod tutorial;
