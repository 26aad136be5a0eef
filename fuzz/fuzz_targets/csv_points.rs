//! CSV point reader (lon/lat or WKT columns): any bytes give a layer or an error.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let path = geoalign_fuzz::scratch_files("input", &[("csv", data)]);
    let _ = geoalign::ingest::readers::read(&path, None, None);
});
