//! Decoding overrides of the generative tasks (`beam_size`, `max_length`, `min_length`); `None`
//! keeps the package's value. Their limits are checked by the model when it applies them.

use mplug2_model::decode::DecodeOverrides;
use mplug2_proto::v1 as pb;

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
