//! A chat's `messages`, mapped onto mPLUG-2: the medium is the one image or video in the user
//! messages (several `image_url` parts in one message are the frames of one video, in order);
//! the text of the last user message is the question; no text asks for a caption. System and
//! earlier turns are accepted and do not condition the answer (mPLUG-2 is not a chat model).

use serde_json::Map;

use crate::{media_url::UrlKind, tasks::prelude::*};

/// What the messages ask.
pub struct Conversation {
    pub media: Media,
    /// The last user message's text; `None` asks for a caption.
    pub question: Option<String>,
}

/// One medium part as sent: its kind, where it is, and its URL (a `data:` URL or http(s)).
struct MediumPart {
    kind: UrlKind,
    message: usize,
    part: usize,
    url: String,
}

pub async fn conversation(messages: &Json, urls: &MediaUrls) -> Result<Conversation, ApiError> {
    let Json::Array(messages) = messages else {
        return Err(invalid("`messages` must be a list of messages"));
    };
    if messages.is_empty() {
        return Err(invalid("`messages` is empty"));
    }
    let mut parts = Vec::new();
    let mut question = None;
    for (index, message) in messages.iter().enumerate() {
        let Json::Object(message) = message else {
            return Err(invalid(format!("`messages[{index}]` must be an object")));
        };
        let role = role(index, message)?;
        let (text, media) = content(index, message)?;
        if role != "user" {
            if let Some(part) = media.first() {
                return Err(invalid(format!(
                    "`messages[{index}].content[{}]`: only user messages may hold images or videos",
                    part.part
                )));
            }
            continue;
        }
        question = Some(text);
        parts.extend(media);
    }
    let question = question.ok_or_else(|| invalid("`messages` has no user message"))?;
    Ok(Conversation {
        media: medium(parts, urls).await?,
        question: Some(question).filter(|q| !q.trim().is_empty()),
    })
}

fn role(index: usize, message: &Map<String, Json>) -> Result<&str, ApiError> {
    match message.get("role").and_then(Json::as_str) {
        Some(role @ ("system" | "developer" | "user" | "assistant")) => Ok(role),
        Some(other) => Err(invalid(format!(
            "`messages[{index}].role` is `{other}`; the roles served are system, developer, user and assistant"
        ))),
        None => Err(invalid(format!("`messages[{index}].role` is required"))),
    }
}

/// A message's text (its text parts joined by a space) and its medium parts.
fn content(
    index: usize,
    message: &Map<String, Json>,
) -> Result<(String, Vec<MediumPart>), ApiError> {
    let parts = match message.get("content") {
        None | Some(Json::Null) => return Ok((String::new(), Vec::new())),
        Some(Json::String(text)) => return Ok((text.clone(), Vec::new())),
        Some(Json::Array(parts)) => parts,
        Some(_) => {
            return Err(invalid(format!(
                "`messages[{index}].content` must be a string or a list of parts"
            )));
        }
    };
    let mut texts = Vec::new();
    let mut media = Vec::new();
    for (part_index, part) in parts.iter().enumerate() {
        let at = format!("messages[{index}].content[{part_index}]");
        let kind = part.get("type").and_then(Json::as_str).unwrap_or_default();
        match kind {
            "text" => match part.get("text").and_then(Json::as_str) {
                Some(text) => texts.push(text.to_owned()),
                None => return Err(invalid(format!("`{at}.text` must be a string"))),
            },
            "image_url" | "video_url" => {
                let url = part
                    .get(kind)
                    .and_then(|value| value.get("url").or(Some(value)))
                    .and_then(Json::as_str)
                    .ok_or_else(|| invalid(format!("`{at}.{kind}.url` must be a string")))?;
                let kind = if kind == "image_url" {
                    UrlKind::Image
                } else {
                    UrlKind::Video
                };
                media.push(MediumPart {
                    kind,
                    message: index,
                    part: part_index,
                    url: url.to_owned(),
                });
            }
            other => {
                return Err(invalid(format!(
                    "`{at}.type` is `{other}`; the parts served are text, image_url and video_url"
                )));
            }
        }
    }
    Ok((texts.join(" "), media))
}

/// One image, one video, or several images of one message as the frames of one video.
async fn medium(parts: Vec<MediumPart>, urls: &MediaUrls) -> Result<Media, ApiError> {
    let Some(first) = parts.first() else {
        return Err(invalid(
            "the user messages hold no image or video (`image_url` or `video_url` parts)",
        ));
    };
    let (kind, message) = (first.kind, first.message);
    // Only images of the message holding the first one may follow it (as frames).
    if let Some(second) = parts
        .iter()
        .skip(1)
        .find(|part| kind == UrlKind::Video || part.kind != kind || part.message != message)
    {
        return Err(invalid(format!(
            "`messages[{}].content[{}]` is a second medium; give one image, one video, or the frames of one video as the image_url parts of one message",
            second.message, second.part
        )));
    }
    let mut bytes = Vec::with_capacity(parts.len());
    for part in &parts {
        bytes.push(fetch(part, urls).await?);
    }
    Ok(match (kind, bytes.len()) {
        (UrlKind::Video, _) => Media::Video(bytes.remove(0)),
        (UrlKind::Image, 1) => Media::Image(bytes.remove(0)),
        (UrlKind::Image, _) => Media::Frames(bytes),
    })
}

/// A `data:` URL's bytes, or an http(s) URL fetched under the media URL rules.
async fn fetch(part: &MediumPart, urls: &MediaUrls) -> Result<Vec<u8>, ApiError> {
    let at = format!("messages[{}].content[{}]", part.message, part.part);
    if part.url.starts_with("data:") {
        return crate::form::decode_base64(&at, &part.url);
    }
    urls.fetch(part.kind, &part.url)
        .await
        .map_err(|error| ApiError::from(error).about(&format!("`{at}` (`{}`)", part.url)))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::InvalidRequest(message.into())
}
