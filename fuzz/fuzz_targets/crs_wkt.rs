//! CRS WKT (`.prj` files, GeoPackage and FlatGeobuf CRS text): to a PROJ string and an
//! EPSG code or an error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = geoalign::ingest::wkt::to_proj_string(&text);
    let _ = geoalign::ingest::crs::epsg_of_wkt(&text);
});
