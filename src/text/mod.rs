//! Text rules shared by ingest and query (street-name normalisation). Imports no
//! other module of the crate.

pub mod street;
