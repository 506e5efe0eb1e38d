//! Every request limit, resolved once from the flags (`LimitsArgs::resolve`), and the one table
//! from a limit to the flag that sets it. Media and decoding limits are the model crate's types,
//! checked by the model; texts and item counts are checked here. A limit error is a typed value
//! carrying the limit, its bound and the value; its message names the flag.

use mplug2_model::preprocess::MediaLimits;
use mplug2_model::{decode::DecodeLimits, decode::DecodeOption, preprocess::MediaLimit};

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub media: MediaLimits,
    pub decode: DecodeLimits,
    pub request: RequestLimits,
}

/// The limits the server itself checks.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    pub max_text_chars: usize,
    pub max_question_chars: usize,
    pub max_inputs: usize,
    pub max_texts: usize,
    pub max_labels: usize,
    pub max_documents: usize,
    /// `--max-frames`, which also bounds a request's `num_frames`.
    pub max_num_frames: usize,
}

/// Every limit a request can be over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Body,
    Media(MediaLimit),
    Decode(DecodeOption),
    TextChars,
    QuestionChars,
    Inputs,
    Texts,
    Labels,
    /// Rerank documents.
    Documents,
    /// A request's `num_frames`.
    NumFrames,
}

impl Limit {
    /// The flag that sets the limit (`None`: a request's own `max_length` bounds `min_length`).
    pub fn flag(self) -> Option<&'static str> {
        use MediaLimit::*;
        Some(match self {
            Limit::Body => "--max-body-bytes",
            Limit::Media(ImageBytes) => "--max-image-bytes",
            Limit::Media(ImageWidth | ImageHeight) => "--max-image-side",
            Limit::Media(ImagePixels) => "--max-image-pixels",
            Limit::Media(VideoBytes) => "--max-video-bytes",
            Limit::Media(VideoWidth | VideoHeight) => "--max-video-side",
            Limit::Media(VideoFrames) => "--max-video-frames",
            Limit::Media(FrameListLength) => "--max-frames",
            Limit::Media(VideoDurationSeconds) => "--max-video-duration-s",
            Limit::Decode(DecodeOption::BeamSize) => "--max-beam-size",
            Limit::Decode(DecodeOption::MaxLength) => "--max-decode-length",
            Limit::Decode(DecodeOption::MinLength | DecodeOption::NumResults) => return None,
            Limit::TextChars => "--max-text-chars",
            Limit::QuestionChars => "--max-question-chars",
            Limit::Inputs => "--max-inputs",
            Limit::Texts => "--max-texts",
            Limit::Labels => "--max-labels",
            Limit::Documents => "--max-documents",
            Limit::NumFrames => "--max-frames",
        })
    }
}

/// A text or a list that is empty, or over its limit; or a request option out of its range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("`{field}` is empty")]
    Empty { field: &'static str },
    /// An option (a count the request asks for, not data it sends) out of `1..=bound`.
    #[error("`{field}` is {value}, outside 1 to {bound} ({flag})", flag = .limit.flag().unwrap_or_default())]
    Option {
        field: &'static str,
        limit: Limit,
        bound: usize,
        value: usize,
    },
    #[error("`{field}` has {value} {unit}, over the limit of {bound} ({flag})", flag = .limit.flag().unwrap_or_default())]
    Over {
        field: &'static str,
        unit: &'static str,
        limit: Limit,
        bound: usize,
        value: usize,
    },
}

impl RequestLimits {
    fn bound(&self, limit: Limit) -> usize {
        match limit {
            Limit::TextChars => self.max_text_chars,
            Limit::QuestionChars => self.max_question_chars,
            Limit::Inputs => self.max_inputs,
            Limit::Texts => self.max_texts,
            Limit::Labels => self.max_labels,
            Limit::Documents => self.max_documents,
            Limit::NumFrames => self.max_num_frames,
            _ => usize::MAX,
        }
    }

    /// A non-blank text of at most its limit in characters (`TextChars` or `QuestionChars`).
    pub fn text(&self, field: &'static str, limit: Limit, text: &str) -> Result<(), LimitError> {
        if text.trim().is_empty() {
            return Err(LimitError::Empty { field });
        }
        self.within(field, "characters", limit, text.chars().count())
    }

    /// A non-empty list of at most its limit in items (`Inputs`, `Texts` or `Labels`).
    pub fn count(&self, field: &'static str, limit: Limit, count: usize) -> Result<(), LimitError> {
        if count == 0 {
            return Err(LimitError::Empty { field });
        }
        self.within(field, "items", limit, count)
    }

    /// A list of texts: its count within `count_limit`, each text within `--max-text-chars`.
    pub fn texts(
        &self,
        field: &'static str,
        count_limit: Limit,
        texts: &[String],
    ) -> Result<(), LimitError> {
        self.count(field, count_limit, texts.len())?;
        texts
            .iter()
            .try_for_each(|text| self.text(field, Limit::TextChars, text))
    }

    /// An option the request asks for, from 1 to its limit.
    pub fn option(
        &self,
        field: &'static str,
        limit: Limit,
        value: usize,
    ) -> Result<(), LimitError> {
        let bound = self.bound(limit);
        if value == 0 || value > bound {
            return Err(LimitError::Option {
                field,
                limit,
                bound,
                value,
            });
        }
        Ok(())
    }

    fn within(
        &self,
        field: &'static str,
        unit: &'static str,
        limit: Limit,
        value: usize,
    ) -> Result<(), LimitError> {
        let bound = self.bound(limit);
        if value > bound {
            return Err(LimitError::Over {
                field,
                unit,
                limit,
                bound,
                value,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RequestLimits {
        RequestLimits {
            max_text_chars: 5,
            max_question_chars: 3,
            max_inputs: 2,
            max_texts: 2,
            max_labels: 2,
            max_documents: 2,
            max_num_frames: 4,
        }
    }

    #[test]
    fn errors_name_the_field_the_flag_the_limit_and_the_value() {
        let error = limits()
            .text("question", Limit::QuestionChars, "four")
            .unwrap_err();
        assert!(matches!(
            error,
            LimitError::Over {
                bound: 3,
                value: 4,
                ..
            }
        ));
        assert_eq!(
            error.to_string(),
            "`question` has 4 characters, over the limit of 3 (--max-question-chars)"
        );
        let error = limits()
            .texts(
                "labels",
                Limit::Labels,
                &["a".into(), "b".into(), "c".into()],
            )
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`labels` has 3 items, over the limit of 2 (--max-labels)"
        );
        let error = limits().count("input", Limit::Inputs, 0).unwrap_err();
        assert_eq!(error, LimitError::Empty { field: "input" });
        assert_eq!(error.to_string(), "`input` is empty");
    }

    #[test]
    fn options_are_from_one_to_their_limit() {
        let limits = limits();
        assert!(limits.option("num_frames", Limit::NumFrames, 4).is_ok());
        for value in [0, 5] {
            let error = limits
                .option("num_frames", Limit::NumFrames, value)
                .unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("`num_frames` is {value}, outside 1 to 4 (--max-frames)")
            );
        }
    }

    #[test]
    fn every_limit_but_min_length_has_a_flag() {
        assert_eq!(Limit::Decode(DecodeOption::MinLength).flag(), None);
        assert_eq!(
            Limit::Media(MediaLimit::ImageHeight).flag(),
            Some("--max-image-side")
        );
    }
}
