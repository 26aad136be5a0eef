//! GeoPackage reader (an SQLite file): any bytes give a layer or an error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let path = geoalign_fuzz::scratch_files("input", &[("gpkg", data)]);
    let _ = geoalign::ingest::readers::read(&path, None, None);
});
