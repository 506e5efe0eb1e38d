//! OpenAPI pieces the slices share.

use serde_json::{Value as Json, json};

/// A text of at most `max_chars` characters with a word in it. The pattern asks for an ASCII
/// letter or digit, which is enough: the reference's normalization deletes punctuation and
/// spaces, and a text of those alone is refused (other letters are served too).
pub fn text(max_chars: usize) -> Json {
    json!({ "type": "string", "minLength": 1, "maxLength": max_chars, "pattern": "[0-9A-Za-z]",
        "description": "Needs a word: a text of punctuation and spaces alone is refused" })
}

/// A request's `model`: a served package's name (any string while the packages load).
pub fn model(models: &[String]) -> Json {
    let description = "The package that answers (`GET /v1/models`); without it, the one fine-tuned for the task, else `--default-model`, else the first";
    match models {
        [] => json!({ "type": "string", "description": description }),
        names => json!({ "type": "string", "enum": names, "description": description }),
    }
}
