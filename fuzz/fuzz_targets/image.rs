//! Image header checks and decoding under the default limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mplug2_model::preprocess::{MediaLimits, check_image_header, decode_image};

fuzz_target!(|data: &[u8]| {
    let limits = MediaLimits::default();
    let header = check_image_header(data, &limits);
    let decoded = decode_image(data, &limits);
    // A header the check accepts must describe the image that decodes.
    if let (Ok((width, height)), Ok(image)) = (header, decoded) {
        assert_eq!((width, height), image.dimensions());
    }
});
