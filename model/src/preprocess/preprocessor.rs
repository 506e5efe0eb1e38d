//! Media → pixel values, exactly as the reference prepares a video clip.

use std::sync::Arc;

use image::RgbImage;

use super::image_decode::{check_image_header, decode_image};
use super::pixels::{FrameTransform, PixelValues};
use super::sampling::middle_indices;
use super::video::decode_video_until;
use super::{Media, MediaError, MediaLimit, MediaLimits, Stop};
use crate::package::PreprocessConfig;

/// Decodes, samples, resizes and normalizes media for the vision graph.
#[derive(Debug, Clone)]
pub struct Preprocessor {
    transform: FrameTransform,
    num_frames: usize,
    limits: MediaLimits,
}

impl Preprocessor {
    pub fn new(config: &PreprocessConfig, limits: MediaLimits) -> Preprocessor {
        Preprocessor {
            transform: FrameTransform {
                size: config.image_size,
                mean: config.mean,
                std: config.std,
            },
            num_frames: config.num_frames,
            limits,
        }
    }

    pub fn limits(&self) -> &MediaLimits {
        &self.limits
    }

    /// Frames sampled from a video or frame list.
    pub fn num_frames(&self) -> usize {
        self.num_frames
    }

    pub fn image_size(&self) -> usize {
        self.transform.size
    }

    /// An image becomes a 1-frame clip; a video or frame list gives `num_frames` sampled frames.
    pub fn prepare(&self, media: Media) -> Result<PixelValues, MediaError> {
        self.prepare_frames(media, None)
    }

    /// `prepare` sampling `num_frames` frames (by the same `middle` rule) from a video or frame
    /// list instead of the package's count; `None` keeps the package's. An image stays one
    /// frame. `Some(0)` is `MediaError::NumFrames`; the upper bound is the caller's to check.
    pub fn prepare_frames(
        &self,
        media: Media,
        num_frames: Option<usize>,
    ) -> Result<PixelValues, MediaError> {
        self.prepare_frames_until(media, num_frames, &Stop::never())
    }

    /// `prepare_frames`, asking `stop` between a video's packets and a frame list's frames
    /// whether to go on (a single image decodes in one call).
    pub fn prepare_frames_until(
        &self,
        media: Media,
        num_frames: Option<usize>,
        stop: &Stop,
    ) -> Result<PixelValues, MediaError> {
        let num_frames = match num_frames {
            Some(0) => return Err(MediaError::NumFrames { value: 0 }),
            Some(n) => n,
            None => self.num_frames,
        };
        match media {
            Media::Image(bytes) => {
                let image = decode_image(&bytes, &self.limits)?;
                Ok(self.transform.apply(&[&image]))
            }
            Media::Video(bytes) => {
                let video = decode_video_until(bytes, num_frames, &self.limits, stop)?;
                Ok(self.from_frames(&video.frames))
            }
            Media::Frames(images) => self.prepare_frame_list(&images, num_frames, stop),
        }
    }

    /// The transform applied to already decoded, already sampled frames.
    pub fn from_frames(&self, frames: &[Arc<RgbImage>]) -> PixelValues {
        let refs: Vec<&RgbImage> = frames.iter().map(Arc::as_ref).collect();
        self.transform.apply(&refs)
    }

    /// A frame list is a decoded video: every header is checked, only sampled frames are decoded.
    fn prepare_frame_list(
        &self,
        images: &[Vec<u8>],
        num_frames: usize,
        stop: &Stop,
    ) -> Result<PixelValues, MediaError> {
        if images.is_empty() {
            return Err(MediaError::Empty { what: "frame list" });
        }
        self.limits
            .check(MediaLimit::FrameListLength, images.len() as u64)?;
        for image in images {
            check_image_header(image, &self.limits)?;
        }
        let indices = middle_indices(num_frames, images.len());
        let mut decoded: Vec<(usize, Arc<RgbImage>)> = Vec::new();
        let mut frames = Vec::with_capacity(indices.len());
        for index in indices {
            let frame = match decoded.iter().find(|(i, _)| *i == index) {
                Some((_, frame)) => Arc::clone(frame),
                None => {
                    stop.check(decoded.len())?;
                    let frame = Arc::new(decode_image(&images[index], &self.limits)?);
                    decoded.push((index, Arc::clone(&frame)));
                    frame
                }
            };
            frames.push(frame);
        }
        Ok(self.from_frames(&frames))
    }
}
