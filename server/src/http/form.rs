//! A request body as named fields, read from JSON (media as base64 strings) or from
//! multipart/form-data (media as raw parts) with the same field names, so that each route builds
//! its request once for both encodings.

use axum::{
    body::Bytes,
    extract::{FromRequest, Multipart, Request},
    http::header::{CONTENT_LENGTH, CONTENT_TYPE},
};
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::Value as Json;

use crate::{
    error::ApiError,
    media_url::{MediaUrls, UrlKind},
    request::{EmbedInput, Media},
};

enum Value {
    Json(Json),
    Part(Bytes),
}

pub struct Form {
    fields: Vec<(String, Value)>,
    multipart: bool,
}

impl Form {
    /// Reads the body as JSON or multipart; anything else is `unsupported_media_type`.
    pub async fn read(request: Request, max_body_bytes: usize) -> Result<Form, ApiError> {
        if let Err(error) = check_declared_length(&request, max_body_bytes) {
            discard_moderate_excess(request, max_body_bytes).await;
            return Err(error);
        }
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Self::read_json(request, max_body_bytes).await,
            "multipart/form-data" => Self::read_multipart(request, max_body_bytes).await,
            "" => Err(ApiError::UnsupportedMediaType(
                "the request has no Content-Type; send application/json or multipart/form-data"
                    .into(),
            )),
            other => Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type `{other}` is not served; send application/json or multipart/form-data"
            ))),
        }
    }

    async fn read_json(request: Request, max_body_bytes: usize) -> Result<Form, ApiError> {
        let body = axum::body::to_bytes(request.into_body(), max_body_bytes)
            .await
            .map_err(|error| body_error(&error, max_body_bytes))?;
        let object: serde_json::Map<String, Json> =
            serde_json::from_slice(&body).map_err(|error| {
                ApiError::InvalidRequest(format!("the body is not a JSON object: {error}"))
            })?;
        let fields = object
            .into_iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(k, v)| (k, Value::Json(v)))
            .collect();
        Ok(Form {
            fields,
            multipart: false,
        })
    }

    async fn read_multipart(request: Request, max_body_bytes: usize) -> Result<Form, ApiError> {
        let multipart_error = |error: axum::extract::multipart::MultipartError| {
            if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                too_large_body(max_body_bytes)
            } else {
                ApiError::InvalidRequest(format!("malformed multipart body: {}", error.body_text()))
            }
        };
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|rejection| {
                ApiError::InvalidRequest(format!(
                    "malformed multipart body: {}",
                    rejection.body_text()
                ))
            })?;
        let mut fields = Vec::new();
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(multipart_error)?;
            fields.push((name, Value::Part(bytes)));
        }
        Ok(Form {
            fields,
            multipart: true,
        })
    }

    fn take(&mut self, name: &str) -> Vec<Value> {
        let (taken, kept) = std::mem::take(&mut self.fields)
            .into_iter()
            .partition(|(n, _)| n == name);
        self.fields = kept;
        taken.into_iter().map(|(_, value)| value).collect()
    }

    fn take_one(&mut self, name: &str) -> Result<Option<Value>, ApiError> {
        let mut values = self.take(name);
        if values.len() > 1 {
            return Err(ApiError::InvalidRequest(format!(
                "`{name}` is given {} times; give it once",
                values.len()
            )));
        }
        Ok(values.pop())
    }

    /// Exactly one of `image`, `video` or `frames`.
    pub fn media(&mut self) -> Result<Media, ApiError> {
        let image = self.take_one("image")?;
        let video = self.take_one("video")?;
        let frames = self.take("frames");
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

    /// Like `media`, but `image_url` or `video_url` may stand in for the bytes; `urls` fetches
    /// them (or refuses them, when media URLs are off).
    pub async fn media_or_url(&mut self, urls: &MediaUrls) -> Result<Media, ApiError> {
        let image_url = self.take_one("image_url")?;
        let video_url = self.take_one("video_url")?;
        let (kind, value) = match (image_url, video_url) {
            (None, None) => return self.media(),
            (Some(url), None) => (UrlKind::Image, url),
            (None, Some(url)) => (UrlKind::Video, url),
            (Some(_), Some(_)) => {
                return Err(ApiError::InvalidRequest(
                    "give only one of `image_url` or `video_url`".into(),
                ));
            }
        };
        if self
            .fields
            .iter()
            .any(|(name, _)| matches!(name.as_str(), "image" | "video" | "frames"))
        {
            return Err(ApiError::InvalidRequest(format!(
                "give either `{}` or media bytes, not both",
                kind.field()
            )));
        }
        let url = text(kind.field(), value)?;
        let bytes = urls.fetch(kind, &url).await?;
        Ok(match kind {
            UrlKind::Image => Media::Image(bytes),
            UrlKind::Video => Media::Video(bytes),
        })
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
            Value::Json(json) => json.as_u64(),
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

    /// The embeddings `input`: a string, a list of strings, or a list of items `{"text"}`,
    /// `{"image"}`, `{"video"}` or `{"frames"}`. In multipart, every part is one input in order:
    /// `input` or `text` parts are texts, `image` and `video` parts media, and consecutive `frames`
    /// parts one frame list.
    pub fn embed_inputs(&mut self) -> Result<Vec<EmbedInput>, ApiError> {
        if !self.multipart {
            return match self.take_one("input")? {
                Some(Value::Json(json)) => json_embed_inputs(json),
                _ => Err(ApiError::InvalidRequest("`input` is required".into())),
            };
        }
        let mut inputs = Vec::new();
        for (name, value) in std::mem::take(&mut self.fields) {
            let previous_is_frames =
                matches!(inputs.last(), Some(EmbedInput::Media(Media::Frames(_))));
            match name.as_str() {
                "input" | "text" => inputs.push(EmbedInput::Text(text(&name, value)?)),
                "image" => inputs.push(EmbedInput::Media(Media::Image(bytes("image", value)?))),
                "video" => inputs.push(EmbedInput::Media(Media::Video(bytes("video", value)?))),
                "frames" if previous_is_frames => {
                    if let Some(EmbedInput::Media(Media::Frames(frames))) = inputs.last_mut() {
                        frames.push(bytes("frames", value)?);
                    }
                }
                "frames" => inputs.push(EmbedInput::Media(Media::Frames(vec![bytes(
                    "frames", value,
                )?]))),
                _ => self.fields.push((name, value)),
            }
        }
        Ok(inputs)
    }

    /// Fails on any field no route asked for.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.fields.first() {
            None => Ok(()),
            Some((name, _)) => Err(ApiError::InvalidRequest(format!("unknown field `{name}`"))),
        }
    }
}

fn json_embed_inputs(json: Json) -> Result<Vec<EmbedInput>, ApiError> {
    let items = match json {
        Json::String(text) => return Ok(vec![EmbedInput::Text(text)]),
        Json::Array(items) => items,
        _ => {
            return Err(ApiError::InvalidRequest(
                "`input` must be a string or a list".into(),
            ));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Json::String(text) => Ok(EmbedInput::Text(text)),
            Json::Object(object) => {
                let fields = object
                    .into_iter()
                    .map(|(k, v)| (k, Value::Json(v)))
                    .collect();
                let mut form = Form {
                    fields,
                    multipart: false,
                };
                let input = match form.optional_text("text")? {
                    Some(text) => EmbedInput::Text(text),
                    None => EmbedInput::Media(form.media()?),
                };
                form.finish()
                    .map_err(|e| ApiError::InvalidRequest(format!("input {index}: {e}")))?;
                Ok(input)
            }
            _ => Err(ApiError::InvalidRequest(format!(
                "input {index} must be a string or an object"
            ))),
        })
        .collect()
}

fn text(name: &str, value: Value) -> Result<String, ApiError> {
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
fn bytes(name: &str, value: Value) -> Result<Vec<u8>, ApiError> {
    match value {
        Value::Part(bytes) => Ok(bytes.to_vec()),
        Value::Json(Json::String(encoded)) => decode_base64(name, &encoded),
        Value::Json(_) => Err(ApiError::InvalidRequest(format!(
            "`{name}` must be a base64 string"
        ))),
    }
}

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

fn decode_base64(name: &str, encoded: &str) -> Result<Vec<u8>, ApiError> {
    let payload = match encoded.strip_prefix("data:") {
        Some(uri) => uri
            .split_once(";base64,")
            .map(|(_, data)| data)
            .ok_or_else(|| {
                ApiError::InvalidRequest(format!("`{name}` is a data URI without `;base64,`"))
            })?,
        None => encoded,
    };
    base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .map_err(|error| ApiError::InvalidRequest(format!("`{name}` is not valid base64: {error}")))
}

fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

fn check_declared_length(request: &Request, max_body_bytes: usize) -> Result<(), ApiError> {
    match declared_length(request) {
        Some(length) if length > max_body_bytes as u64 => Err(ApiError::PayloadTooLarge(format!(
            "the request body is {length} bytes, over the limit of {max_body_bytes} (--max-body-bytes)"
        ))),
        _ => Ok(()),
    }
}

/// Reads and drops a body declared over the limit but at most twice it, frame by frame, before the
/// 413 goes out. Closing the connection on a client that is still sending resets it, and the
/// client then sees a broken pipe instead of the answer; a moderately oversized body is cheaper
/// to swallow than to leave the client guessing. Larger bodies are refused without reading them.
async fn discard_moderate_excess(request: Request, max_body_bytes: usize) {
    let bound = (max_body_bytes as u64).saturating_mul(2);
    if declared_length(&request).is_some_and(|length| length <= bound) {
        let mut body = request.into_body();
        while let Some(Ok(_)) = body.frame().await {}
    }
}

fn too_large_body(max_body_bytes: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the request body is over the limit of {max_body_bytes} bytes (--max-body-bytes)"
    ))
}

fn body_error(error: &axum::Error, max_body_bytes: usize) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<http_body_util::LengthLimitError>() {
            return too_large_body(max_body_bytes);
        }
        source = current.source();
    }
    ApiError::InvalidRequest(format!("cannot read the request body: {error}"))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    fn json_request(body: &str) -> Request {
        Request::builder()
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    }

    async fn form(body: &str) -> Form {
        Form::read(json_request(body), 1 << 20).await.unwrap()
    }

    #[tokio::test]
    async fn json_media_is_base64_and_data_uris_are_accepted() {
        let mut f = form(r#"{"image": "data:image/png;base64,AAEC", "question": "why?"}"#).await;
        assert_eq!(f.media().unwrap(), Media::Image(vec![0, 1, 2]));
        assert_eq!(f.text("question").unwrap(), "why?");
        f.finish().unwrap();
    }

    #[tokio::test]
    async fn exactly_one_medium_is_required() {
        let error = form(r#"{"image": "AA==", "video": "AA=="}"#)
            .await
            .media()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "give only one of `image`, `video` or `frames`"
        );
        let error = form(r#"{"question": "x"}"#).await.media().unwrap_err();
        assert_eq!(error.type_name(), "invalid_request");
    }

    #[tokio::test]
    async fn bad_base64_and_unknown_fields_are_invalid_requests() {
        let error = form(r#"{"image": "@@@"}"#).await.media().unwrap_err();
        assert!(
            error.to_string().starts_with("`image` is not valid base64"),
            "{error}"
        );
        let mut f = form(r#"{"image": "AA==", "beam": 3}"#).await;
        f.media().unwrap();
        assert_eq!(f.finish().unwrap_err().to_string(), "unknown field `beam`");
    }

    #[tokio::test]
    async fn embedding_inputs_in_every_json_shape() {
        let inputs = form(r#"{"input": "a dog"}"#).await.embed_inputs().unwrap();
        assert!(matches!(inputs.as_slice(), [EmbedInput::Text(t)] if t == "a dog"));
        let inputs = form(
            r#"{"input": ["a", {"image": "AA=="}, {"frames": ["AA==", "AQ=="]}, {"text": "b"}]}"#,
        )
        .await
        .embed_inputs()
        .unwrap();
        assert!(matches!(
            inputs.as_slice(),
            [EmbedInput::Text(_), EmbedInput::Media(Media::Image(_)), EmbedInput::Media(Media::Frames(f)), EmbedInput::Text(_)]
                if f.len() == 2
        ));
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_payload_too_large() {
        let error = Form::read(json_request(&"x".repeat(100)), 10)
            .await
            .err()
            .unwrap();
        assert_eq!(error.type_name(), "payload_too_large");
        assert!(error.to_string().contains("--max-body-bytes"));
    }

    #[tokio::test]
    async fn other_content_types_are_unsupported() {
        let request = Request::builder()
            .header(CONTENT_TYPE, "text/plain")
            .body(Body::from("hi"))
            .unwrap();
        let error = Form::read(request, 100).await.err().unwrap();
        assert_eq!(error.type_name(), "unsupported_media_type");
    }
}
