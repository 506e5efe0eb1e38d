//! Real videos made at test time with the ffmpeg command line: frame count, the official
//! sampling, and pixels against ffmpeg's own RGB decode; plus the video error paths.
//!
//! Tolerance: our frames come from the same libavcodec decode and the same swscale
//! conversion (bicubic flags, as the CLI), so they are expected to equal the CLI's rgb24 output
//! exactly; the assertion allows 2 levels in case a different FFmpeg build rounds differently.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mplug2_model::ErrorKind;
use mplug2_model::ModelError;
use mplug2_model::preprocess::{
    Media, MediaError, MediaLimits, Preprocessor, Stop, StopReason, decode_video,
    decode_video_until, middle_indices,
};

const MAX_LEVEL_DIFF: u8 = 2;

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .expect("the ffmpeg command line is needed by this test (apt-get install ffmpeg)");
    assert!(status.success(), "ffmpeg {args:?} failed");
}

/// A `testsrc2` clip: `frames` frames of `w`×`h`, encoded with the given codec arguments.
fn make_video(dir: &Path, name: &str, w: u32, h: u32, frames: u32, codec: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    let source = format!("testsrc2=size={w}x{h}:rate=25");
    let count = frames.to_string();
    let mut args = vec!["-f", "lavfi", "-i", &source, "-frames:v", &count];
    args.extend_from_slice(codec);
    args.push(path.to_str().unwrap());
    ffmpeg(&args);
    std::fs::read(path).unwrap()
}

/// ffmpeg's own decode of every frame as rgb24.
fn reference_frames(dir: &Path, name: &str, w: usize, h: usize) -> Vec<Vec<u8>> {
    let raw = dir.join(format!("{name}.rgb"));
    ffmpeg(&[
        "-i",
        dir.join(name).to_str().unwrap(),
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        raw.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(raw).unwrap();
    bytes.chunks_exact(w * h * 3).map(<[u8]>::to_vec).collect()
}

fn h264() -> Vec<&'static str> {
    vec![
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10", "-bf", "2",
    ]
}

fn check_against_reference(
    dir: &Path,
    name: &str,
    bytes: Vec<u8>,
    w: usize,
    h: usize,
    frames: usize,
) {
    let reference = reference_frames(dir, name, w, h);
    assert_eq!(reference.len(), frames, "the CLI decodes {frames} frames");
    let video = decode_video(bytes, 16, &MediaLimits::default()).unwrap();
    assert_eq!(video.frame_count, frames, "{name}: frame count");
    assert_eq!(
        video.indices,
        middle_indices(16, frames),
        "{name}: sampled indices"
    );
    assert_eq!(video.frames.len(), 16);
    let mut worst = 0u8;
    for (frame, &index) in video.frames.iter().zip(&video.indices) {
        assert_eq!(frame.dimensions(), (w as u32, h as u32));
        let diff = frame
            .as_raw()
            .iter()
            .zip(&reference[index])
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        worst = worst.max(diff);
    }
    println!("{name}: {frames} frames, max level difference to ffmpeg rgb24: {worst}");
    assert!(
        worst <= MAX_LEVEL_DIFF,
        "{name}: pixels differ from ffmpeg's decode by {worst}"
    );
}

#[test]
fn h264_mp4_with_b_frames_decodes_samples_and_matches_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = make_video(dir.path(), "clip.mp4", 96, 72, 50, &h264());
    // 50 frames: the official formula gives these 16 indices.
    assert_eq!(
        middle_indices(16, 50),
        vec![1, 4, 7, 10, 13, 16, 19, 22, 26, 29, 32, 35, 38, 41, 44, 47]
    );
    check_against_reference(dir.path(), "clip.mp4", bytes, 96, 72, 50);
}

#[test]
fn webm_vp9_and_vp8_decode_and_match_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let vp9 = make_video(
        dir.path(),
        "clip9.webm",
        80,
        64,
        37,
        &["-c:v", "libvpx-vp9", "-b:v", "300k"],
    );
    check_against_reference(dir.path(), "clip9.webm", vp9, 80, 64, 37);
    let vp8 = make_video(
        dir.path(),
        "clip8.webm",
        80,
        64,
        23,
        &["-c:v", "libvpx", "-b:v", "300k"],
    );
    check_against_reference(dir.path(), "clip8.webm", vp8, 80, 64, 23);
}

#[test]
fn a_short_video_repeats_its_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = make_video(dir.path(), "short.mp4", 64, 48, 5, &h264());
    let video = decode_video(bytes, 16, &MediaLimits::default()).unwrap();
    assert_eq!(video.frame_count, 5);
    assert_eq!(
        video.indices,
        vec![0, 1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]
    );
}

#[test]
fn the_preprocessor_turns_a_video_into_sixteen_normalized_frames() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = make_video(dir.path(), "clip.mp4", 96, 72, 30, &h264());
    let package = mplug2_model::package::Package::open_unverified(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/demo"),
    )
    .unwrap();
    let preprocessor = Preprocessor::new(&package.manifest().preprocess, MediaLimits::default());
    let pixels = preprocessor.prepare(Media::Video(bytes.clone())).unwrap();
    assert_eq!(pixels.view().shape(), &[3, 16, 64, 64]);
    let video = decode_video(bytes, 16, &MediaLimits::default()).unwrap();
    assert_eq!(pixels, preprocessor.from_frames(&video.frames));
}

fn media_error(result: Result<impl std::fmt::Debug, MediaError>) -> MediaError {
    result.expect_err("expected an error")
}

#[test]
fn truncated_and_corrupt_videos_are_invalid_requests() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = make_video(dir.path(), "clip.mp4", 96, 72, 50, &h264());
    // ffmpeg writes the index (moov) at the end: cutting the file loses it.
    let truncated = bytes[..bytes.len() / 2].to_vec();
    let error = media_error(decode_video(truncated, 16, &MediaLimits::default()));
    assert!(matches!(error, MediaError::Corrupt { .. }), "{error}");
    assert_eq!(ModelError::from(error).kind(), ErrorKind::InvalidRequest);

    let mut garbage = b"\0\0\0\x18ftypisom\0\0\0\0isomiso2".to_vec();
    garbage.extend((0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    let error = media_error(decode_video(garbage, 16, &MediaLimits::default()));
    assert!(
        matches!(error, MediaError::Corrupt { .. } | MediaError::NoFrames),
        "{error}"
    );
}

#[test]
fn a_video_without_frames_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty_track = make_video(dir.path(), "zero.mkv", 64, 48, 0, &["-c:v", "libx264"]);
    // A Matroska header with a video track and no packet: FFmpeg reports end of file while
    // probing the stream, before any frame could be counted.
    let error = media_error(decode_video(empty_track, 16, &MediaLimits::default()));
    assert!(
        matches!(error, MediaError::NoFrames | MediaError::Corrupt { .. }),
        "{error}"
    );
    assert_eq!(ModelError::from(error).kind(), ErrorKind::InvalidRequest);

    let audio = dir.path().join("audio.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=duration=1",
        audio.to_str().unwrap(),
    ]);
    let error = media_error(decode_video(
        std::fs::read(audio).unwrap(),
        16,
        &MediaLimits::default(),
    ));
    assert!(error.to_string().contains("no video stream"), "{error}");

    let error = media_error(decode_video(Vec::new(), 16, &MediaLimits::default()));
    assert!(
        matches!(error, MediaError::Empty { what: "video" }),
        "{error}"
    );
}

#[test]
fn limits_are_checked_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = make_video(dir.path(), "clip.mp4", 96, 72, 50, &h264());
    let limits = MediaLimits {
        max_video_frames: 20,
        ..MediaLimits::default()
    };
    let error = media_error(decode_video(bytes.clone(), 16, &limits));
    assert_eq!(
        error.to_string(),
        "video frames is 21, over the limit of 20"
    );
    // 50 frames at 25 fps: two seconds.
    let limits = MediaLimits {
        max_video_duration_s: 1,
        ..MediaLimits::default()
    };
    let error = media_error(decode_video(bytes.clone(), 16, &limits));
    assert_eq!(
        error.to_string(),
        "video duration in seconds is 2, over the limit of 1"
    );
    let limits = MediaLimits {
        max_video_duration_s: 2,
        ..MediaLimits::default()
    };
    assert!(decode_video(bytes.clone(), 16, &limits).is_ok());
    let limits = MediaLimits {
        max_video_side: 64,
        ..MediaLimits::default()
    };
    let error = media_error(decode_video(bytes.clone(), 16, &limits));
    assert_eq!(error.to_string(), "video width is 96, over the limit of 64");
    let limits = MediaLimits {
        max_video_bytes: 1000,
        ..MediaLimits::default()
    };
    let error = media_error(decode_video(bytes, 16, &limits));
    assert!(matches!(
        error,
        MediaError::TooLarge {
            what: "video bytes",
            limit: 1000,
            ..
        }
    ));
    assert_eq!(ModelError::from(error).kind(), ErrorKind::PayloadTooLarge);
}

#[test]
fn unserved_containers_and_codecs_are_unsupported_media() {
    let dir = tempfile::tempdir().unwrap();
    let mjpeg = make_video(dir.path(), "clip.avi", 64, 48, 5, &["-c:v", "mjpeg"]);
    let error = media_error(decode_video(mjpeg, 16, &MediaLimits::default()));
    assert!(
        matches!(
            error,
            MediaError::Unsupported {
                what: "video codec",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        ModelError::from(error).kind(),
        ErrorKind::UnsupportedMediaType
    );

    let gif = make_video(dir.path(), "clip.gif", 64, 48, 5, &[]);
    let error = media_error(decode_video(gif, 16, &MediaLimits::default()));
    assert!(
        matches!(
            error,
            MediaError::Unsupported {
                what: "video container",
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn a_stop_ends_a_video_decode_between_frames() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 400;
    let bytes = make_video(dir.path(), "long.mp4", 320, 240, frames, &h264());
    let limits = MediaLimits::default();
    let later = Instant::now() + Duration::from_secs(3600);

    // A stop that never fires decodes what `decode_video` decodes.
    let unstopped = Stop::new(Arc::new(AtomicBool::new(false)), later);
    let whole = decode_video_until(bytes.clone(), 16, &limits, &unstopped).unwrap();
    let plain = decode_video(bytes.clone(), 16, &limits).unwrap();
    assert_eq!(
        (whole.frame_count, &whole.indices),
        (plain.frame_count, &plain.indices)
    );
    assert!(whole.frames.iter().zip(&plain.frames).all(|(a, b)| a == b));

    // A deadline already passed stops it before the first frame, as a timeout.
    let passed = Stop::new(Arc::new(AtomicBool::new(false)), Instant::now());
    let error = media_error(decode_video_until(bytes.clone(), 16, &limits, &passed));
    assert!(
        matches!(
            error,
            MediaError::Stopped {
                reason: StopReason::DeadlinePassed,
                decoded: 0
            }
        ),
        "{error:?}"
    );
    assert_eq!(ModelError::from(error).kind(), ErrorKind::Timeout);

    // Cancelled from another thread while it runs: it stops before its end.
    let flag = Arc::new(AtomicBool::new(false));
    let stop = Stop::new(Arc::clone(&flag), later);
    let decoding =
        std::thread::spawn(move || decode_video_until(bytes, 16, &MediaLimits::default(), &stop));
    flag.store(true, Ordering::Relaxed);
    match decoding.join().unwrap() {
        Err(MediaError::Stopped {
            reason: StopReason::Cancelled,
            decoded,
        }) => assert!(decoded < frames as usize, "stopped after {decoded} frames"),
        other => panic!("expected a cancelled decode, got {other:?}"),
    }
}
