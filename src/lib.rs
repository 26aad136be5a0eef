//! geoalign: a sales-territory alignment server.
//!
//! Data flows one way: [`ingest`] reads boundary files into the [`store`];
//! alignments, dissolve, tiles and lookups build on it; [`http`] serves it.
//! See `docs/ARCHITECTURE.md`.

pub mod align;
pub mod build;
pub mod change;
pub mod config;
pub mod demo;
pub mod engine;
pub mod export;
pub mod feature;
pub mod geom;
pub mod http;
pub mod index;
pub mod ingest;
pub mod lookup;
pub mod snapshot;
pub mod store;
pub mod text;
pub mod tiles;
pub mod topo;
