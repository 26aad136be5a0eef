//! Change-set JSON: whatever parses is applied to the sample's state in memory (never
//! committed); it applies or is refused with a reason, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<geoalign::http::alignments::ChangeBody>(data) else {
        return;
    };
    let engine = geoalign_fuzz::engine();
    let snapshot = engine.snapshot("nyc").expect("sample alignment");
    let _ = snapshot.state.apply_all(&body.changes, &snapshot.dataset.units);
});
