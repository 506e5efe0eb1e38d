//! Video sniffing, demuxing and decoding through the model crate's FFmpeg decoder, sampling
//! `FRAMES` frames under the default limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mplug2_model::preprocess::{MediaLimits, decode_video};

const FRAMES: usize = 4;

fuzz_target!(|data: &[u8]| {
    if let Ok(video) = decode_video(data.to_vec(), FRAMES, &MediaLimits::default()) {
        assert_eq!(video.frames.len(), FRAMES);
        assert!(video.indices.iter().all(|&i| i < video.frame_count));
    }
});
