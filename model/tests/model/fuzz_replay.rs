//! Replays the model fuzz targets' committed inputs (`fuzz/seeds/{image,video,manifest}` and
//! `fuzz/regressions/…`) through the functions the targets call, with the same arguments. Seeds
//! are valid media and manifests and must decode; regressions once crashed a target and must now
//! return, whatever they return.

use std::path::{Path, PathBuf};

use mplug2_model::{
    package::parse_manifest,
    preprocess::{MediaLimits, check_image_header, decode_image, decode_video},
};

/// The video target's frame count.
const FRAMES: usize = 4;

fn inputs(dir: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(dir)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default();
    files.retain(|path| path.is_file() && path.file_name().is_some_and(|n| n != ".gitkeep"));
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("input"))
        })
        .collect()
}

fn image(data: &[u8]) -> Result<(u32, u32), String> {
    let limits = MediaLimits::default();
    let header = check_image_header(data, &limits).map_err(|e| e.to_string())?;
    let decoded = decode_image(data, &limits).map_err(|e| e.to_string())?;
    assert_eq!(header, decoded.dimensions());
    Ok(header)
}

fn video(data: &[u8]) -> Result<usize, String> {
    let video =
        decode_video(data.to_vec(), FRAMES, &MediaLimits::default()).map_err(|e| e.to_string())?;
    assert_eq!(video.frames.len(), FRAMES);
    Ok(video.frame_count)
}

fn manifest(data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|e| e.to_string())?;
    parse_manifest(text, Path::new("manifest.json"))
        .map(drop)
        .map_err(|e| e.to_string())
}

#[test]
fn image_inputs_replay() {
    let seeds = inputs("seeds", "image");
    assert!(seeds.len() >= 5);
    for (name, data) in seeds {
        image(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for (_, data) in inputs("regressions", "image") {
        let _ = image(&data);
    }
}

#[test]
fn video_inputs_replay() {
    let seeds = inputs("seeds", "video");
    assert!(seeds.len() >= 5);
    for (name, data) in seeds {
        video(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for (_, data) in inputs("regressions", "video") {
        let _ = video(&data);
    }
}

#[test]
fn manifest_inputs_replay() {
    let seeds = inputs("seeds", "manifest");
    assert!(!seeds.is_empty());
    for (name, data) in seeds {
        manifest(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for (_, data) in inputs("regressions", "manifest") {
        let _ = manifest(&data);
    }
}

/// Found by the image target: a 9×7 GIF whose first frame declares 45140×33219, which the
/// decoder allocated (6 GB) before any pixel was read. Refused now by the allocation cap.
#[test]
fn a_gif_frame_larger_than_its_screen_is_refused_before_allocating() {
    let data = inputs("regressions", "image")
        .into_iter()
        .find(|(name, _)| name == "gif_frame_larger_than_screen_oom")
        .expect("the regression input")
        .1;
    let error = image(&data).expect_err("refused");
    assert!(error.to_lowercase().contains("memory"), "{error}");
}
