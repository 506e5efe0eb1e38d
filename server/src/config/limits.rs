//! Request limits as flags. `resolve` turns them into `Limits` once, at start-up; media and
//! decoding limits become the model crate's own types, checked there. A request over one gets
//! 413 / INVALID_ARGUMENT with a message naming the limit, its flag and the value
//! (`--max-beam-size` and `--max-decode-length` bound decoding options: 400 / INVALID_ARGUMENT).

use mplug2_model::{decode::DecodeLimits, preprocess::MediaLimits};

use crate::limits::{Limits, RequestLimits};

const MEDIA: MediaLimits = MediaLimits::DEFAULT;
const DECODE: DecodeLimits = DecodeLimits::DEFAULT;

/// Limits on request bodies, media, texts and decoding.
#[derive(clap::Args, Debug, Clone)]
pub struct LimitsArgs {
    /// Largest request body in bytes (JSON with base64 media, or multipart form).
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 64 << 20)]
    pub max_body_bytes: usize,

    /// Largest image in pixels (width × height), checked from the header before decoding.
    #[arg(long, env = "MAX_IMAGE_PIXELS", default_value_t = MEDIA.max_image_pixels)]
    pub max_image_pixels: u64,

    /// Longest image side in pixels, checked from the header before decoding.
    #[arg(long, env = "MAX_IMAGE_SIDE", default_value_t = MEDIA.max_image_side)]
    pub max_image_side: u32,

    /// Largest encoded image in bytes (each image of a frame list too).
    #[arg(long, env = "MAX_IMAGE_BYTES", default_value_t = MEDIA.max_image_bytes)]
    pub max_image_bytes: usize,

    /// Largest encoded video in bytes.
    #[arg(long, env = "MAX_VIDEO_BYTES", default_value_t = MEDIA.max_video_bytes)]
    pub max_video_bytes: usize,

    /// Longest side of a video in pixels, from its stream parameters.
    #[arg(long, env = "MAX_VIDEO_SIDE", default_value_t = MEDIA.max_video_side)]
    pub max_video_side: u32,

    /// Most frames in a video, counted while demuxing before any frame is decoded.
    #[arg(long, env = "MAX_VIDEO_FRAMES", default_value_t = MEDIA.max_video_frames)]
    pub max_video_frames: usize,

    /// Most images in a `frames` list (a video given as its frames).
    #[arg(long, env = "MAX_FRAMES", default_value_t = MEDIA.max_frame_list_len)]
    pub max_frames: usize,

    /// Longest text (an embeddings input, a match text, a classify label) in characters.
    #[arg(long, env = "MAX_TEXT_CHARS", default_value_t = 2000)]
    pub max_text_chars: usize,

    /// Longest VQA question in characters.
    #[arg(long, env = "MAX_QUESTION_CHARS", default_value_t = 2000)]
    pub max_question_chars: usize,

    /// Most inputs (texts and media) in one embeddings request.
    #[arg(long, env = "MAX_INPUTS", default_value_t = 64)]
    pub max_inputs: usize,

    /// Most texts in one match request.
    #[arg(long, env = "MAX_TEXTS", default_value_t = 64)]
    pub max_texts: usize,

    /// Most labels in one classify request.
    #[arg(long, env = "MAX_LABELS", default_value_t = 64)]
    pub max_labels: usize,

    /// Most documents in one rerank request.
    #[arg(long, env = "MAX_DOCUMENTS", default_value_t = 64)]
    pub max_documents: usize,

    /// Longest video in seconds of playing time: the container's declared duration before
    /// demuxing, then the packets' timestamps while they are counted.
    #[arg(long, env = "MAX_VIDEO_DURATION_S", default_value_t = MEDIA.max_video_duration_s)]
    pub max_video_duration_s: u64,

    /// Largest `beam_size` a request may ask for.
    #[arg(long, env = "MAX_BEAM_SIZE", default_value_t = DECODE.max_beam_size)]
    pub max_beam_size: usize,

    /// Largest `max_length` (generated tokens) a request may ask for.
    #[arg(long, env = "MAX_DECODE_LENGTH", default_value_t = DECODE.max_length)]
    pub max_decode_length: usize,
}

impl LimitsArgs {
    /// The limits every layer checks against, from the flags.
    pub fn resolve(&self) -> Limits {
        Limits {
            max_body_bytes: self.max_body_bytes,
            media: MediaLimits {
                max_image_bytes: self.max_image_bytes,
                max_image_side: self.max_image_side,
                max_image_pixels: self.max_image_pixels,
                max_video_bytes: self.max_video_bytes,
                max_video_side: self.max_video_side,
                max_video_frames: self.max_video_frames,
                max_frame_list_len: self.max_frames,
                max_video_duration_s: self.max_video_duration_s,
            },
            decode: DecodeLimits {
                max_beam_size: self.max_beam_size,
                max_length: self.max_decode_length,
            },
            request: RequestLimits {
                max_text_chars: self.max_text_chars,
                max_question_chars: self.max_question_chars,
                max_inputs: self.max_inputs,
                max_texts: self.max_texts,
                max_labels: self.max_labels,
                max_documents: self.max_documents,
                max_num_frames: self.max_frames,
            },
        }
    }
}
