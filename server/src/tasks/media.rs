//! The medium of a task request (exactly one image, video or frame list, or with media URLs on,
//! an `image_url` / `video_url`), read from a form or a protobuf `Media`, shared by the slices
//! that take one.

use mplug2_model::preprocess::Media;
use mplug2_proto::v1 as pb;
use serde_json::{Value as Json, json};

use super::SchemaContext;
use crate::{
    error::ApiError,
    form::{Form, Value, bytes, text},
    media_url::{MediaUrls, UrlKind},
};

/// Exactly one of `image`, `video` or `frames`.
pub fn from_form(form: &mut Form) -> Result<Media, ApiError> {
    let image = form.take_one("image")?;
    let video = form.take_one("video")?;
    let frames = form.take("frames");
    match (image, video, frames.is_empty()) {
        (Some(image), None, true) => Ok(Media::Image(bytes("image", image)?)),
        (None, Some(video), true) => Ok(Media::Video(bytes("video", video)?)),
        (None, None, false) => Ok(Media::Frames(frame_list(frames)?)),
        (None, None, true) => Err(ApiError::InvalidRequest(
            "give one of `image`, `video` or `frames`".into(),
        )),
        _ => Err(ApiError::InvalidRequest(
            "give only one of `image`, `video` or `frames`".into(),
        )),
    }
}

/// Like `from_form`, but `image_url` or `video_url` may stand in for the bytes; `urls` fetches
/// them (or refuses them, when media URLs are off).
pub async fn from_form_or_url(form: &mut Form, urls: &MediaUrls) -> Result<Media, ApiError> {
    let image_url = form.take_one("image_url")?;
    let video_url = form.take_one("video_url")?;
    let (kind, value) = match (image_url, video_url) {
        (None, None) => return from_form(form),
        (Some(url), None) => (UrlKind::Image, url),
        (None, Some(url)) => (UrlKind::Video, url),
        (Some(_), Some(_)) => {
            return Err(ApiError::InvalidRequest(
                "give only one of `image_url` or `video_url`".into(),
            ));
        }
    };
    if form.has_any(&["image", "video", "frames"]) {
        return Err(ApiError::InvalidRequest(format!(
            "give either `{}` or media bytes, not both",
            kind.field()
        )));
    }
    let url = text(kind.field(), value)?;
    fetched(kind, urls.fetch(kind, &url).await?)
}

/// The `media` oneof of a protobuf request.
pub async fn from_message(media: Option<pb::Media>, urls: &MediaUrls) -> Result<Media, ApiError> {
    use pb::media::Kind;
    match media.and_then(|m| m.kind) {
        Some(Kind::Image(bytes)) => Ok(Media::Image(bytes)),
        Some(Kind::Video(bytes)) => Ok(Media::Video(bytes)),
        Some(Kind::Frames(frames)) => Ok(Media::Frames(frames.images)),
        Some(Kind::ImageUrl(url)) => {
            fetched(UrlKind::Image, urls.fetch(UrlKind::Image, &url).await?)
        }
        Some(Kind::VideoUrl(url)) => {
            fetched(UrlKind::Video, urls.fetch(UrlKind::Video, &url).await?)
        }
        None => Err(ApiError::InvalidRequest(
            "`media` must hold one of `image`, `video`, `frames`, `image_url` or `video_url`"
                .into(),
        )),
    }
}

fn fetched(kind: UrlKind, bytes: Vec<u8>) -> Result<Media, ApiError> {
    Ok(match kind {
        UrlKind::Image => Media::Image(bytes),
        UrlKind::Video => Media::Video(bytes),
    })
}

/// Nothing empty; the media limits themselves are the model's, checked as it decodes.
pub fn validate(media: &Media) -> Result<(), ApiError> {
    let empty = match media {
        Media::Image(bytes) if bytes.is_empty() => "`image` is empty",
        Media::Video(bytes) if bytes.is_empty() => "`video` is empty",
        Media::Frames(frames) if frames.is_empty() => "`frames` is empty",
        Media::Frames(frames) if frames.iter().any(Vec::is_empty) => {
            "an image of `frames` is empty"
        }
        _ => return Ok(()),
    };
    Err(ApiError::InvalidRequest(empty.into()))
}

/// `frames`: one JSON list of base64 strings, or one multipart part per frame.
fn frame_list(values: Vec<Value>) -> Result<Vec<Vec<u8>>, ApiError> {
    match <[Value; 1]>::try_from(values) {
        Ok([Value::Json(Json::Array(items))]) => items
            .into_iter()
            .map(|item| bytes("frames", Value::Json(item)))
            .collect(),
        Ok([Value::Json(_)]) => Err(ApiError::InvalidRequest(
            "`frames` must be a list of base64 strings".into(),
        )),
        Ok([part]) => Ok(vec![bytes("frames", part)?]),
        Err(parts) => parts
            .into_iter()
            .map(|part| bytes("frames", part))
            .collect(),
    }
}

/// The OpenAPI schema of one medium's bytes, by field.
fn medium_property(field: &str, max_frames: usize) -> Json {
    let bytes = json!({ "type": "string", "format": "byte", "minLength": 1 });
    match field {
        "image" => {
            json!({ "type": "string", "format": "byte", "minLength": 1, "description": "An encoded image (JPEG, PNG, WebP, GIF)" })
        }
        "video" => {
            json!({ "type": "string", "format": "byte", "minLength": 1, "description": "An encoded video (MP4, WebM, ...)" })
        }
        "frames" => json!({ "type": "array", "minItems": 1, "maxItems": max_frames, "items": bytes,
            "description": "Encoded images taken as the frames of one video" }),
        _ => {
            json!({ "type": "string", "format": "uri", "description": "An http(s) URL the server fetches (--media-urls)" })
        }
    }
}

/// The mediums a body may hold: bytes always, URLs when the server fetches them.
fn medium_fields(context: &SchemaContext<'_>) -> Vec<&'static str> {
    let mut fields = vec!["image", "video", "frames"];
    if context.media_urls {
        fields.extend(["image_url", "video_url"]);
    }
    fields
}

/// A body holding exactly one medium beside `properties` (`required` among them) and the optional
/// `model`, no other field.
pub fn body_schema(context: &SchemaContext<'_>, mut properties: Json, required: &[&str]) -> Json {
    properties["model"] = super::schema::model(&context.models);
    let variants: Vec<Json> = medium_fields(context)
        .into_iter()
        .map(|field| {
            let mut all = properties.clone();
            all[field] = medium_property(field, context.limits.max_num_frames);
            let mut needed: Vec<&str> = required.to_vec();
            needed.push(field);
            json!({ "type": "object", "required": needed, "properties": all, "additionalProperties": false })
        })
        .collect();
    json!({ "oneOf": variants })
}

/// An embeddings item: exactly one medium's bytes.
pub fn item_schema(context: &SchemaContext<'_>) -> Json {
    let variants: Vec<Json> = ["image", "video", "frames"]
        .into_iter()
        .map(|field| {
            json!({ "type": "object", "required": [field], "additionalProperties": false,
                "properties": { field: medium_property(field, context.limits.max_num_frames) } })
        })
        .collect();
    json!({ "oneOf": variants })
}
