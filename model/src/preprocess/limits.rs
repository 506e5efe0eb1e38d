//! Bounds on untrusted media, checked before the expensive or large step they guard. Every media
//! limit is compared, and its error built, by `MediaLimits::check` alone.

use super::MediaError;

/// Limits applied to every image, video and frame list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    /// Encoded size of one image (also of each frame of a frame list).
    pub max_image_bytes: usize,
    /// Width and height of an image, read from its header before decoding.
    pub max_image_side: u32,
    /// width × height of an image, read from its header before decoding.
    pub max_image_pixels: u64,
    /// Encoded size of a video.
    pub max_video_bytes: usize,
    /// Width and height of a video, from the stream parameters and every decoded frame.
    pub max_video_side: u32,
    /// Frames in a video (counted while demuxing, before any frame is decoded).
    pub max_video_frames: usize,
    /// Images in a frame list.
    pub max_frame_list_len: usize,
    /// Playing time of a video in seconds: the container's declared duration before demuxing,
    /// then the timestamps of the packets while they are counted.
    pub max_video_duration_s: u64,
}

/// Which media limit a value is over (the server names the flag that sets each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaLimit {
    ImageBytes,
    ImageWidth,
    ImageHeight,
    ImagePixels,
    VideoBytes,
    VideoWidth,
    VideoHeight,
    VideoFrames,
    FrameListLength,
    VideoDurationSeconds,
}

impl MediaLimit {
    /// What the value measures, as error messages say it.
    pub fn what(self) -> &'static str {
        match self {
            MediaLimit::ImageBytes => "image bytes",
            MediaLimit::ImageWidth => "image width",
            MediaLimit::ImageHeight => "image height",
            MediaLimit::ImagePixels => "image pixels",
            MediaLimit::VideoBytes => "video bytes",
            MediaLimit::VideoWidth => "video width",
            MediaLimit::VideoHeight => "video height",
            MediaLimit::VideoFrames => "video frames",
            MediaLimit::FrameListLength => "frames in the list",
            MediaLimit::VideoDurationSeconds => "video duration in seconds",
        }
    }
}

impl MediaLimits {
    /// The defaults, also the server's flag defaults.
    pub const DEFAULT: MediaLimits = MediaLimits {
        max_image_bytes: 20 * 1024 * 1024,
        max_image_side: 8192,
        max_image_pixels: 40_000_000,
        max_video_bytes: 48 * 1024 * 1024,
        max_video_side: 4096,
        max_video_frames: 18_000,
        max_frame_list_len: 64,
        max_video_duration_s: 600,
    };

    /// The bound of one limit.
    pub fn bound(&self, limit: MediaLimit) -> u64 {
        match limit {
            MediaLimit::ImageBytes => self.max_image_bytes as u64,
            MediaLimit::ImageWidth | MediaLimit::ImageHeight => u64::from(self.max_image_side),
            MediaLimit::ImagePixels => self.max_image_pixels,
            MediaLimit::VideoBytes => self.max_video_bytes as u64,
            MediaLimit::VideoWidth | MediaLimit::VideoHeight => u64::from(self.max_video_side),
            MediaLimit::VideoFrames => self.max_video_frames as u64,
            MediaLimit::FrameListLength => self.max_frame_list_len as u64,
            MediaLimit::VideoDurationSeconds => self.max_video_duration_s,
        }
    }

    /// `TooLarge` when `value` is over the limit.
    pub fn check(&self, limit: MediaLimit, value: u64) -> Result<(), MediaError> {
        let bound = self.bound(limit);
        if value > bound {
            return Err(MediaError::TooLarge {
                what: limit.what(),
                limit: bound,
                value,
                over: limit,
            });
        }
        Ok(())
    }
}

impl Default for MediaLimits {
    fn default() -> Self {
        MediaLimits::DEFAULT
    }
}
