//! A request body as named fields, read from JSON (media as base64 strings) or from
//! multipart/form-data (media as raw parts) with the same field names, so that each task slice
//! builds its request once for both encodings.

mod read;

use axum::body::Bytes;
use base64::Engine;
use serde_json::Value as Json;

use crate::error::ApiError;

/// One field's value.
pub enum Value {
    Json(Json),
    Part(Bytes),
}

pub struct Form {
    fields: Vec<(String, Value)>,
    multipart: bool,
}

impl Form {
    /// A JSON object's fields as a form (an item of a list, say).
    pub fn from_json_object(object: serde_json::Map<String, Json>) -> Form {
        Form {
            fields: object
                .into_iter()
                .map(|(k, v)| (k, Value::Json(v)))
                .collect(),
            multipart: false,
        }
    }

    pub fn is_multipart(&self) -> bool {
        self.multipart
    }

    /// Every field left, in order; the form is empty afterwards.
    pub fn drain(&mut self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.fields)
    }

    /// Puts a field back (one `drain` did not use).
    pub fn keep(&mut self, name: String, value: Value) {
        self.fields.push((name, value));
    }

    /// Whether any of `names` is still in the form.
    pub fn has_any(&self, names: &[&str]) -> bool {
        self.fields
            .iter()
            .any(|(name, _)| names.contains(&name.as_str()))
    }

    /// Every value of a field, taken out of the form.
    pub fn take(&mut self, name: &str) -> Vec<Value> {
        let (taken, kept) = std::mem::take(&mut self.fields)
            .into_iter()
            .partition(|(n, _)| n == name);
        self.fields = kept;
        taken.into_iter().map(|(_, value)| value).collect()
    }

    /// At most one value of a field.
    pub fn take_one(&mut self, name: &str) -> Result<Option<Value>, ApiError> {
        let mut values = self.take(name);
        if values.len() > 1 {
            return Err(ApiError::InvalidRequest(format!(
                "`{name}` is given {} times; give it once",
                values.len()
            )));
        }
        Ok(values.pop())
    }

    /// A required text field.
    pub fn text(&mut self, name: &str) -> Result<String, ApiError> {
        match self.take_one(name)? {
            Some(value) => text(name, value),
            None => Err(ApiError::InvalidRequest(format!("`{name}` is required"))),
        }
    }

    /// An optional text field.
    pub fn optional_text(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        self.take_one(name)?
            .map(|value| text(name, value))
            .transpose()
    }

    /// An optional non-negative integer.
    pub fn number(&mut self, name: &str) -> Result<Option<u32>, ApiError> {
        let Some(value) = self.take_one(name)? else {
            return Ok(None);
        };
        let number = match &value {
            Value::Json(json) => whole_number(json),
            Value::Part(bytes) => std::str::from_utf8(bytes)
                .ok()
                .and_then(|s| s.trim().parse().ok()),
        };
        number
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::InvalidRequest(format!("`{name}` must be a non-negative integer"))
            })
    }

    /// A required list of texts: a JSON array of strings, or one multipart part per text.
    pub fn texts(&mut self, name: &str) -> Result<Vec<String>, ApiError> {
        let values = self.take(name);
        let texts = match values.as_slice() {
            [] => return Err(ApiError::InvalidRequest(format!("`{name}` is required"))),
            [Value::Json(Json::Array(items))] => items
                .iter()
                .map(|item| text(name, Value::Json(item.clone())))
                .collect::<Result<Vec<_>, _>>()?,
            [Value::Json(_)] => {
                return Err(ApiError::InvalidRequest(format!(
                    "`{name}` must be a list of strings"
                )));
            }
            _ => values
                .into_iter()
                .map(|value| text(name, value))
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(texts)
    }

    /// Fails on any field no route asked for.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.fields.first() {
            None => Ok(()),
            Some((name, _)) => Err(ApiError::InvalidRequest(format!("unknown field `{name}`"))),
        }
    }
}

/// A non-negative whole JSON number: `3`, and `3.0` too (JSON Schema counts it an integer).
pub fn whole_number(json: &Json) -> Option<u64> {
    json.as_u64().or_else(|| {
        json.as_f64()
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= u64::MAX as f64)
            .map(|n| n as u64)
    })
}

/// A text value: a JSON string, or a UTF-8 multipart part.
pub fn text(name: &str, value: Value) -> Result<String, ApiError> {
    match value {
        Value::Json(Json::String(text)) => Ok(text),
        Value::Json(_) => Err(ApiError::InvalidRequest(format!(
            "`{name}` must be a string"
        ))),
        Value::Part(bytes) => String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::InvalidRequest(format!("`{name}` is not valid UTF-8"))),
    }
}

/// Media bytes: a multipart part as is, or a JSON base64 string (a `data:…;base64,` prefix is
/// allowed).
pub fn bytes(name: &str, value: Value) -> Result<Vec<u8>, ApiError> {
    match value {
        Value::Part(bytes) => Ok(bytes.to_vec()),
        Value::Json(Json::String(encoded)) => decode_base64(name, &encoded),
        Value::Json(_) => Err(ApiError::InvalidRequest(format!(
            "`{name}` must be a base64 string"
        ))),
    }
}

/// Base64 media (a `data:…;base64,` URI too) of the field `name`. Leftover bits in the last
/// character are ignored, as Python's `base64.b64decode` and most encoders' readers do.
pub fn decode_base64(name: &str, encoded: &str) -> Result<Vec<u8>, ApiError> {
    let payload = match encoded.strip_prefix("data:") {
        Some(uri) => uri
            .split_once(";base64,")
            .map(|(_, data)| data)
            .ok_or_else(|| {
                ApiError::InvalidRequest(format!("`{name}` is a data URI without `;base64,`"))
            })?,
        None => encoded,
    };
    const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    LENIENT
        .decode(payload.trim())
        .map_err(|error| ApiError::InvalidRequest(format!("`{name}` is not valid base64: {error}")))
}
