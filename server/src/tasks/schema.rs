//! OpenAPI pieces the slices share.

use serde_json::{Value as Json, json};

/// A text of at most `max_chars` characters with a word in it. The pattern asks for an ASCII
/// letter or digit, which is enough: the reference's normalization deletes punctuation and
/// spaces, and a text of those alone is refused (other letters are served too).
pub fn text(max_chars: usize) -> Json {
    json!({ "type": "string", "minLength": 1, "maxLength": max_chars, "pattern": "[0-9A-Za-z]",
        "description": "Needs a word: a text of punctuation and spaces alone is refused" })
}
