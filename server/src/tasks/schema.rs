//! OpenAPI pieces the slices share.

use serde_json::{Value as Json, json};

/// A non-blank text of at most `max_chars` characters.
pub fn text(max_chars: usize) -> Json {
    json!({ "type": "string", "minLength": 1, "maxLength": max_chars, "pattern": "\\S" })
}
