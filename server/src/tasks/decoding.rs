//! Decoding overrides of the generative tasks (`beam_size`, `max_length`, `min_length`); `None`
//! keeps the package's value. Their limits are checked by the model when it applies them.

use mplug2_model::decode::DecodeOverrides;
use mplug2_proto::v1 as pb;

use serde_json::{Value as Json, json};

use super::SchemaContext;
use crate::{error::ApiError, form::Form};

pub fn from_form(form: &mut Form) -> Result<DecodeOverrides, ApiError> {
    let number = |form: &mut Form, name| Ok::<_, ApiError>(form.number(name)?.map(|n| n as usize));
    Ok(DecodeOverrides {
        beam_size: number(form, "beam_size")?,
        max_length: number(form, "max_length")?,
        min_length: number(form, "min_length")?,
        ..DecodeOverrides::default()
    })
}

pub fn from_message(options: Option<pb::DecodeOptions>) -> DecodeOverrides {
    let options = options.unwrap_or_default();
    let number = |value: Option<u32>| value.map(|n| n as usize);
    DecodeOverrides {
        beam_size: number(options.beam_size),
        max_length: number(options.max_length),
        min_length: number(options.min_length),
        ..DecodeOverrides::default()
    }
}

/// The OpenAPI properties of the overrides. `min_length` is documented up to 1, which keeps it
/// within every `max_length` a request may give or a package may have; larger values up to the
/// request's `max_length` are served too.
pub fn properties(context: &SchemaContext<'_>) -> Json {
    json!({
        "beam_size": { "type": "integer", "minimum": 1, "maximum": context.decode.max_beam_size },
        "max_length": { "type": "integer", "minimum": 1, "maximum": context.decode.max_length,
            "description": "Generated tokens at most" },
        "min_length": { "type": "integer", "minimum": 0, "maximum": 1,
            "description": "Generated tokens at least; up to max_length is served" }
    })
}
