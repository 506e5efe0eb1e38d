//! The embeddings `input`, from a form or protobuf.

use crate::{
    form::{Value, bytes, text},
    tasks::{SchemaContext, frames, prelude::*, schema},
};

/// One input to embed.
pub enum EmbedInput {
    Text(String),
    Media(Media),
}

/// An input ready for its pipeline: a text as its token ids.
pub enum Tokenized {
    Text(Vec<i64>),
    Media(Media),
}

impl EmbedInput {
    /// The model task that embeds it.
    pub fn task(&self) -> Task {
        match self {
            EmbedInput::Text(_) => Task::EmbedText,
            EmbedInput::Media(medium) => pipelines::embed_task(medium),
        }
    }

    pub fn tokenized(self, context: &pipelines::TaskContext) -> Result<Tokenized, ModelError> {
        Ok(match self {
            EmbedInput::Text(text) => Tokenized::Text(context.text.caption_ids(&text)?),
            EmbedInput::Media(medium) => Tokenized::Media(medium),
        })
    }
}

impl Tokenized {
    /// Tokens it counts in `usage` (a medium: none).
    pub fn tokens(&self) -> usize {
        match self {
            Tokenized::Text(ids) => ids.len(),
            Tokenized::Media(_) => 0,
        }
    }
}

/// A string, a list of strings, or a list of items `{"text"}`, `{"image"}`, `{"video"}` or
/// `{"frames"}`. In multipart, every part is one input in order: `input` or `text` parts are
/// texts, `image` and `video` parts media, and consecutive `frames` parts one frame list.
pub fn from_form(form: &mut Form) -> Result<Vec<EmbedInput>, ApiError> {
    if !form.is_multipart() {
        return match form.take_one("input")? {
            Some(Value::Json(json)) => from_json(json),
            _ => Err(ApiError::InvalidRequest("`input` is required".into())),
        };
    }
    let mut inputs = Vec::new();
    for (name, value) in form.drain() {
        let previous_is_frames = matches!(inputs.last(), Some(EmbedInput::Media(Media::Frames(_))));
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
            _ => form.keep(name, value),
        }
    }
    Ok(inputs)
}

fn from_json(json: Json) -> Result<Vec<EmbedInput>, ApiError> {
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
                let mut form = Form::from_json_object(object);
                let input = match form.optional_text("text")? {
                    Some(text) => EmbedInput::Text(text),
                    None => EmbedInput::Media(media::from_form(&mut form)?),
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

pub fn from_message(inputs: Vec<pb::EmbedInput>) -> Result<Vec<EmbedInput>, ApiError> {
    use pb::embed_input::Kind;
    inputs
        .into_iter()
        .enumerate()
        .map(|(index, input)| match input.kind {
            Some(Kind::Text(text)) => Ok(EmbedInput::Text(text)),
            Some(Kind::Image(bytes)) => Ok(EmbedInput::Media(Media::Image(bytes))),
            Some(Kind::Video(bytes)) => Ok(EmbedInput::Media(Media::Video(bytes))),
            Some(Kind::Frames(frames)) => Ok(EmbedInput::Media(Media::Frames(frames.images))),
            None => Err(ApiError::InvalidRequest(format!(
                "input {index} holds nothing"
            ))),
        })
        .collect()
}

/// The OpenAPI properties every body may have besides its inputs.
fn options(context: &SchemaContext<'_>) -> Json {
    json!({
        "model": { "type": "string", "description": "Accepted for OpenAI compatibility; the one loaded model answers" },
        "user": { "type": "string", "description": "Accepted for OpenAI compatibility" },
        "encoding_format": { "type": "string", "enum": ["float", "base64"], "description": "base64: little-endian float32 bytes" },
        "dimensions": match context.embed_dim {
            Some(width) => json!({ "const": width, "description": "Only the model's own width is served" }),
            None => json!({ "type": "integer", "description": "Only the model's own width is served" }),
        },
        "num_frames": frames::schema(context.limits)
    })
}

/// The OpenAPI schema of a multipart body: each `input` or `text` part a text, `image` and
/// `video` parts media, consecutive `frames` parts one frame list.
pub fn multipart_schema(context: &SchemaContext<'_>) -> Json {
    let text = schema::text(context.limits.max_text_chars);
    let binary = json!({ "type": "string", "format": "binary", "minLength": 1 });
    let mut properties = options(context);
    for (name, value) in [
        ("input", text.clone()),
        ("text", text),
        ("image", binary.clone()),
        ("video", binary.clone()),
        (
            "frames",
            json!({ "type": "array", "minItems": 1, "items": binary }),
        ),
    ] {
        properties[name] = value;
    }
    let one_of =
        ["input", "text", "image", "video", "frames"].map(|name| json!({ "required": [name] }));
    json!({ "type": "object", "additionalProperties": false, "properties": properties, "anyOf": one_of })
}

/// The OpenAPI schema of a JSON body.
pub fn schema(context: &SchemaContext<'_>) -> Json {
    let limits = context.limits;
    let text = schema::text(limits.max_text_chars);
    let mut properties = options(context);
    properties["input"] = json!({ "oneOf": [
        text,
        { "type": "array", "minItems": 1, "maxItems": limits.max_inputs, "items": { "oneOf": [
            text,
            { "type": "object", "required": ["text"], "additionalProperties": false, "properties": { "text": text } },
            media::item_schema(context) ] } } ] });
    json!({ "type": "object", "required": ["input"], "additionalProperties": false, "properties": properties })
}
