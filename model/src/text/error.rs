use std::path::PathBuf;

/// Why a text cannot be tokenized or decoded.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("{what} is not valid UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 { what: &'static str, offset: usize },
    /// Nothing is left once the reference's normalization deleted punctuation and spaces.
    #[error(
        "{what} `{text}` has no words once punctuation is deleted (as the reference normalizes it)"
    )]
    Empty { what: &'static str, text: String },
    #[error("{what} has {value} tokens, over the limit of {limit}")]
    TooManyTokens {
        what: &'static str,
        limit: usize,
        value: usize,
    },
    #[error("tokenizer {}: {reason}", file.display())]
    Tokenizer { file: PathBuf, reason: String },
    #[error("tokenizer failed on {what}: {reason}")]
    Encode { what: &'static str, reason: String },
}

/// Checks that request bytes are UTF-8 (multipart fields and raw bodies arrive as bytes).
pub fn text_from_bytes<'a>(what: &'static str, bytes: &'a [u8]) -> Result<&'a str, TextError> {
    std::str::from_utf8(bytes).map_err(|error| TextError::NotUtf8 {
        what,
        offset: error.valid_up_to(),
    })
}
