//! Alignment, rep and account sheets (CSV) against the sample's units: any bytes give a
//! state (or operations) or a list of problems by line, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let engine = geoalign_fuzz::engine();
    let snapshot = engine.snapshot("nyc").expect("sample alignment");
    let levels = &snapshot.state.levels;
    let columns = geoalign::align::sheet::SheetColumns::for_levels(levels);
    let _ = geoalign::align::sheet::import(data, levels, &columns, &snapshot.dataset.units);
    let _ = geoalign::align::records::reps(data, &snapshot.state);
    let _ = geoalign::align::records::accounts(data, &snapshot.state);
});
