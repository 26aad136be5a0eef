//! Shapefile reader: one input split into .shp, .shx, .dbf and .prj; any bytes give a
//! layer or an error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let parts = geoalign_fuzz::split(data, 4);
    let path = geoalign_fuzz::scratch_files(
        "input",
        &[
            ("shp", parts[0]),
            ("shx", parts[1]),
            ("dbf", parts[2]),
            ("prj", parts[3]),
        ],
    );
    let _ = geoalign::ingest::readers::read(&path, None, None);
});
