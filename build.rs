//! With the `gdal` feature, keep rusqlite's bundled SQLite private to this
//! binary: GDAL links the system SQLite, and two copies resolved through one
//! symbol table crash as soon as GDAL opens a GeoPackage.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_GDAL").is_some()
        && std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
    {
        println!("cargo:rustc-link-arg=-Wl,--exclude-libs,ALL");
    }
}
