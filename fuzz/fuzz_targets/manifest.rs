//! Model package manifests (`manifest.json`): JSON parsing and every semantic check.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mplug2_model::package::parse_manifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_manifest(text, Path::new("manifest.json"));
    }
});
