//! Bounds on untrusted media, checked before the expensive or large step they guard.

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

impl Default for MediaLimits {
    fn default() -> Self {
        MediaLimits {
            max_image_bytes: 20 * 1024 * 1024,
            max_image_side: 8192,
            max_image_pixels: 40_000_000,
            max_video_bytes: 100 * 1024 * 1024,
            max_video_side: 4096,
            max_video_frames: 18_000,
            max_frame_list_len: 256,
            max_video_duration_s: 600,
        }
    }
}
