//! Text: the reference's normalization, WordPiece tokenization with `[CLS]` first and no
//! trailing `[SEP]`, and decoding of generated ids with the reference's post-processing.

mod error;
mod normalize;
mod processor;

pub use error::{TextError, text_from_bytes};
pub use normalize::{pre_caption, pre_question};
pub use processor::TextProcessor;
