//! `num_frames`: how many frames a request's videos and frame lists are sampled to, by the
//! official "middle" rule, instead of the package's own count.

use super::prelude::*;

pub fn from_form(form: &mut Form) -> Result<Option<usize>, ApiError> {
    Ok(form.number("num_frames")?.map(|n| n as usize))
}

pub fn from_message(num_frames: Option<u32>) -> Option<usize> {
    num_frames.map(|n| n as usize)
}

/// 1 to `--max-frames`.
pub fn validate(num_frames: Option<usize>, limits: &RequestLimits) -> Result<(), ApiError> {
    match num_frames {
        Some(n) => Ok(limits.option("num_frames", Limit::NumFrames, n)?),
        None => Ok(()),
    }
}

/// The OpenAPI property.
pub fn schema(limits: &RequestLimits) -> Json {
    json!({ "type": "integer", "minimum": 1, "maximum": limits.max_num_frames,
        "description": "Frames sampled from a video or frame list by the official middle rule" })
}
