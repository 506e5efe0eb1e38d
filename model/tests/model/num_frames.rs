//! Per-request frame sampling (`Preprocessor::prepare_frames`): a video sampled to `num_frames`
//! equals the frame list of the frames the `middle` rule picks from it.

use crate::common::{demo_dir, png_bytes, repo_root};
use mplug2_model::ModelError;
use mplug2_model::package::Package;
use mplug2_model::preprocess::{
    Media, MediaError, MediaLimits, Preprocessor, Stop, StopReason, decode_video, middle_indices,
};

fn preprocessor() -> Preprocessor {
    let package = Package::open_unverified(&demo_dir()).unwrap();
    Preprocessor::new(&package.manifest().preprocess, MediaLimits::default())
}

fn video() -> Vec<u8> {
    std::fs::read(repo_root().join("tests/fixtures/frames_20.mp4")).unwrap()
}

/// Every frame of the video, decoded, as lossless PNG files.
fn every_frame_as_png(bytes: &[u8]) -> Vec<Vec<u8>> {
    let count = decode_video(bytes.to_vec(), 1, &MediaLimits::default())
        .unwrap()
        .frame_count;
    let all = decode_video(bytes.to_vec(), count, &MediaLimits::default()).unwrap();
    assert_eq!(all.indices, (0..count).collect::<Vec<_>>());
    all.frames.iter().map(|frame| png_bytes(frame)).collect()
}

#[test]
fn a_video_sampled_to_n_frames_equals_the_list_of_those_frames() {
    let preprocessor = preprocessor();
    let bytes = video();
    let frames = every_frame_as_png(&bytes);
    assert_eq!(frames.len(), 20);
    let picked = middle_indices(8, frames.len());
    assert_eq!(picked, vec![0, 3, 5, 8, 10, 13, 15, 18]);
    let chosen: Vec<Vec<u8>> = picked.iter().map(|&i| frames[i].clone()).collect();

    let from_video = preprocessor
        .prepare_frames(Media::Video(bytes.clone()), Some(8))
        .unwrap();
    assert_eq!(from_video.frames(), 8);
    let from_chosen = preprocessor
        .prepare_frames(Media::Frames(chosen), Some(8))
        .unwrap();
    assert_eq!(from_video, from_chosen, "the 8 picked frames as a list");
    // The whole frame list sampled the same way picks the same frames.
    let from_all = preprocessor
        .prepare_frames(Media::Frames(frames), Some(8))
        .unwrap();
    assert_eq!(from_video, from_all, "20 frames as a list, sampled to 8");

    // No request value: the package's count.
    let default = preprocessor
        .prepare_frames(Media::Video(bytes), None)
        .unwrap();
    assert_eq!(default.frames(), preprocessor.num_frames());
    assert_ne!(default.frames(), 8);
}

#[test]
fn an_image_stays_one_frame_and_zero_frames_is_an_error() {
    let preprocessor = preprocessor();
    let image = png_bytes(&image::RgbImage::from_fn(40, 30, |x, y| {
        image::Rgb([x as u8, y as u8, 9])
    }));
    let pixels = preprocessor
        .prepare_frames(Media::Image(image.clone()), Some(8))
        .unwrap();
    assert_eq!(pixels.frames(), 1);
    assert_eq!(
        pixels,
        preprocessor.prepare(Media::Image(image.clone())).unwrap()
    );

    for media in [Media::Image(image), Media::Video(video())] {
        let error = preprocessor.prepare_frames(media, Some(0)).unwrap_err();
        assert!(
            matches!(error, MediaError::NumFrames { value: 0 }),
            "{error}"
        );
        let error = ModelError::from(error);
        assert_eq!(error.kind(), mplug2_model::ErrorKind::InvalidRequest);
        assert!(error.to_string().contains("num_frames"), "{error}");
    }
}

/// More frames than the video has: the `middle` rule repeats the last one, as for the package's
/// count.
#[test]
fn more_frames_than_the_video_has_repeat_the_last() {
    let preprocessor = preprocessor();
    let bytes = video();
    let frames = every_frame_as_png(&bytes);
    let from_video = preprocessor
        .prepare_frames(Media::Video(bytes), Some(24))
        .unwrap();
    assert_eq!(from_video.frames(), 24);
    let mut repeated = frames.clone();
    repeated.extend(std::iter::repeat_n(frames[19].clone(), 4));
    let expected = preprocessor
        .prepare_frames(Media::Frames(repeated), Some(24))
        .unwrap();
    assert_eq!(from_video, expected);
}

#[test]
fn a_frame_list_stops_between_frames_once_its_request_is_cancelled() {
    let frames = every_frame_as_png(&video());
    let cancelled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let stop = Stop::new(
        cancelled,
        std::time::Instant::now() + std::time::Duration::from_secs(3600),
    );
    let error = preprocessor()
        .prepare_frames_until(Media::Frames(frames), Some(8), &stop)
        .unwrap_err();
    assert!(
        matches!(
            error,
            MediaError::Stopped {
                reason: StopReason::Cancelled,
                decoded: 0
            }
        ),
        "{error:?}"
    );
}
