//! Request limits that the server checks before any work (media limits inside decoding are
//! checked by the model crate's preprocessing, with the same flags). Every message names the
//! limit, its flag and the value.

use crate::{
    config::LimitsArgs,
    error::ApiError,
    request::{
        CaptionRequest, ClassifyRequest, DecodeOptions, EmbedInput, EmbedRequest, MatchRequest,
        Media, VqaRequest,
    },
};

pub struct Validator<'a> {
    pub limits: &'a LimitsArgs,
}

impl Validator<'_> {
    pub fn media(&self, media: &Media) -> Result<(), ApiError> {
        let limits = self.limits;
        match media {
            Media::Image(bytes) if bytes.is_empty() => {
                Err(ApiError::InvalidRequest("`image` is empty".into()))
            }
            Media::Video(bytes) if bytes.is_empty() => {
                Err(ApiError::InvalidRequest("`video` is empty".into()))
            }
            Media::Video(bytes) if bytes.len() > limits.max_video_bytes => {
                Err(ApiError::PayloadTooLarge(format!(
                    "the video is {} bytes, over the limit of {} (--max-video-bytes)",
                    bytes.len(),
                    limits.max_video_bytes
                )))
            }
            Media::Frames(frames) if frames.is_empty() => {
                Err(ApiError::InvalidRequest("`frames` is empty".into()))
            }
            Media::Frames(frames) if frames.len() > limits.max_frames => {
                Err(ApiError::PayloadTooLarge(format!(
                    "`frames` has {} images, over the limit of {} (--max-frames)",
                    frames.len(),
                    limits.max_frames
                )))
            }
            Media::Frames(frames) if frames.iter().any(Vec::is_empty) => Err(
                ApiError::InvalidRequest("an image of `frames` is empty".into()),
            ),
            _ => self.image_bytes(media),
        }
    }

    fn image_bytes(&self, media: &Media) -> Result<(), ApiError> {
        let max = self.limits.max_image_bytes;
        let largest = match media {
            Media::Image(bytes) => bytes.len(),
            Media::Frames(frames) => frames.iter().map(Vec::len).max().unwrap_or(0),
            Media::Video(_) => 0,
        };
        if largest > max {
            return Err(ApiError::PayloadTooLarge(format!(
                "an image is {largest} bytes, over the limit of {max} (--max-image-bytes)"
            )));
        }
        Ok(())
    }

    /// A text of at most `--max-text-chars` characters.
    pub fn text(&self, name: &str, text: &str) -> Result<(), ApiError> {
        self.chars(name, text, self.limits.max_text_chars, "--max-text-chars")
    }

    fn chars(&self, name: &str, text: &str, max: usize, flag: &str) -> Result<(), ApiError> {
        if text.trim().is_empty() {
            return Err(ApiError::InvalidRequest(format!("`{name}` is empty")));
        }
        let chars = text.chars().count();
        if chars > max {
            return Err(ApiError::PayloadTooLarge(format!(
                "`{name}` has {chars} characters, over the limit of {max} ({flag})"
            )));
        }
        Ok(())
    }

    fn texts(&self, name: &str, texts: &[String], max: usize, flag: &str) -> Result<(), ApiError> {
        self.count(name, texts.len(), max, flag)?;
        texts.iter().try_for_each(|text| self.text(name, text))
    }

    fn count(&self, name: &str, count: usize, max: usize, flag: &str) -> Result<(), ApiError> {
        if count == 0 {
            return Err(ApiError::InvalidRequest(format!("`{name}` is empty")));
        }
        if count > max {
            return Err(ApiError::PayloadTooLarge(format!(
                "`{name}` has {count} items, over the limit of {max} ({flag})"
            )));
        }
        Ok(())
    }

    pub fn decoding(&self, options: &DecodeOptions) -> Result<(), ApiError> {
        let limits = self.limits;
        if let Some(beam) = options.beam_size {
            if beam == 0 {
                return Err(ApiError::InvalidRequest(
                    "`beam_size` must be at least 1".into(),
                ));
            }
            if beam as usize > limits.max_beam_size {
                return Err(ApiError::InvalidRequest(format!(
                    "`beam_size` is {beam}, over the limit of {} (--max-beam-size)",
                    limits.max_beam_size
                )));
            }
        }
        if let Some(max_length) = options.max_length {
            if max_length == 0 {
                return Err(ApiError::InvalidRequest(
                    "`max_length` must be at least 1".into(),
                ));
            }
            if max_length as usize > limits.max_decode_length {
                return Err(ApiError::InvalidRequest(format!(
                    "`max_length` is {max_length}, over the limit of {} (--max-decode-length)",
                    limits.max_decode_length
                )));
            }
        }
        if let (Some(min), Some(max)) = (options.min_length, options.max_length)
            && min > max
        {
            return Err(ApiError::InvalidRequest(format!(
                "`min_length` ({min}) is over `max_length` ({max})"
            )));
        }
        if let Some(min) = options.min_length
            && min as usize > limits.max_decode_length
        {
            return Err(ApiError::InvalidRequest(format!(
                "`min_length` is {min}, over the limit of {} (--max-decode-length)",
                limits.max_decode_length
            )));
        }
        Ok(())
    }

    pub fn vqa(&self, request: &VqaRequest) -> Result<(), ApiError> {
        self.media(&request.media)?;
        let limits = self.limits;
        self.chars(
            "question",
            &request.question,
            limits.max_question_chars,
            "--max-question-chars",
        )?;
        self.decoding(&request.decoding)
    }

    pub fn caption(&self, request: &CaptionRequest) -> Result<(), ApiError> {
        self.media(&request.media)?;
        self.decoding(&request.decoding)
    }

    pub fn embed(&self, request: &EmbedRequest) -> Result<(), ApiError> {
        let limits = self.limits;
        self.count(
            "input",
            request.inputs.len(),
            limits.max_inputs,
            "--max-inputs",
        )?;
        request.inputs.iter().try_for_each(|input| match input {
            EmbedInput::Text(text) => self.text("input", text),
            EmbedInput::Media(media) => self.media(media),
        })
    }

    pub fn match_texts(&self, request: &MatchRequest) -> Result<(), ApiError> {
        self.media(&request.media)?;
        let limits = self.limits;
        self.texts("texts", &request.texts, limits.max_texts, "--max-texts")
    }

    pub fn classify(&self, request: &ClassifyRequest) -> Result<(), ApiError> {
        self.media(&request.media)?;
        let limits = self.limits;
        self.texts("labels", &request.labels, limits.max_labels, "--max-labels")
    }
}
