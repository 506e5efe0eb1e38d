//! Retrieval embeddings (L2-normalised) of texts, images, videos and frame lists, in OpenAI's
//! shape on REST.

mod inputs;

use base64::Engine as _;
use futures::future::try_join_all;

use super::prelude::*;
use inputs::EmbedInput;

pub struct Embeddings;

/// How the answer encodes its vectors (OpenAI's `encoding_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Float,
    Base64,
}

pub struct EmbedRequest {
    inputs: Vec<EmbedInput>,
    encoding: Encoding,
}

pub struct EmbedAnswer {
    vectors: Vec<Vec<f32>>,
    encoding: Encoding,
    model: String,
}

impl TaskSlice for Embeddings {
    const NAME: &'static str = "embeddings";
    const REST_PATH: &'static str = "/v1/embeddings";
    const GRPC_METHOD: &'static str = "Embed";

    type Request = EmbedRequest;
    type Answer = EmbedAnswer;
    type Message = pb::EmbedRequest;
    type Reply = pb::EmbedResponse;

    async fn from_form(form: &mut Form, _urls: &MediaUrls) -> Result<EmbedRequest, ApiError> {
        // OpenAI clients send `model` (one model is served, so any value) and `encoding_format`.
        let _model = form.optional_text("model")?;
        let _user = form.optional_text("user")?;
        let encoding = match form.optional_text("encoding_format")?.as_deref() {
            None | Some("float") => Encoding::Float,
            Some("base64") => Encoding::Base64,
            Some(other) => {
                return Err(ApiError::InvalidRequest(format!(
                    "`encoding_format` must be `float` or `base64`, not `{other}`"
                )));
            }
        };
        Ok(EmbedRequest {
            inputs: inputs::from_form(form)?,
            encoding,
        })
    }

    async fn from_message(
        message: pb::EmbedRequest,
        _urls: &MediaUrls,
    ) -> Result<EmbedRequest, ApiError> {
        Ok(EmbedRequest {
            inputs: inputs::from_message(message.inputs)?,
            encoding: Encoding::Float,
        })
    }

    fn validate(request: &EmbedRequest, limits: &RequestLimits) -> Result<(), ApiError> {
        limits.count("input", Limit::Inputs, request.inputs.len())?;
        request.inputs.iter().try_for_each(|input| match input {
            EmbedInput::Text(text) => Ok(limits.text("input", Limit::TextChars, text)?),
            EmbedInput::Media(medium) => media::validate(medium),
        })
    }

    async fn run(
        engine: &Engine,
        request: EmbedRequest,
        deadline: Instant,
    ) -> Result<EmbedAnswer, ModelError> {
        let tasks: Vec<Task> = request
            .inputs
            .iter()
            .map(|input| match input {
                EmbedInput::Text(_) => Task::EmbedText,
                EmbedInput::Media(medium) => pipelines::embed_task(medium),
            })
            .collect();
        let executor = engine.executor(&tasks, deadline);
        let (context, executor_ref) = (engine.context(), &executor);
        let vectors = try_join_all(request.inputs.into_iter().map(|input| async move {
            match input {
                EmbedInput::Text(text) => pipelines::embed_text(context, executor_ref, &text).await,
                EmbedInput::Media(medium) => {
                    pipelines::embed_media(context, executor_ref, medium).await
                }
            }
        }))
        .await;
        engine.log_timing(Self::NAME, &executor);
        Ok(EmbedAnswer {
            vectors: vectors?,
            encoding: request.encoding,
            model: engine.info().name.clone(),
        })
    }

    fn to_json(answer: EmbedAnswer) -> Json {
        let data: Vec<_> = answer
            .vectors
            .into_iter()
            .enumerate()
            .map(|(index, vector)| {
                let embedding = match answer.encoding {
                    Encoding::Float => json!(vector),
                    Encoding::Base64 => {
                        let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                        json!(base64::engine::general_purpose::STANDARD.encode(bytes))
                    }
                };
                json!({ "object": "embedding", "index": index, "embedding": embedding })
            })
            .collect();
        json!({ "object": "list", "data": data, "model": answer.model })
    }

    fn to_reply(answer: EmbedAnswer) -> pb::EmbedResponse {
        let embeddings = answer
            .vectors
            .into_iter()
            .enumerate()
            .map(|(index, values)| pb::Embedding {
                index: index as u32,
                values,
            })
            .collect();
        pb::EmbedResponse {
            embeddings,
            model: answer.model,
        }
    }

    fn openapi() -> Json {
        json!({ "post": {
            "summary": "Retrieval embeddings (L2-normalised) of texts and media, in the OpenAI shape",
            "description": "In multipart, every part is one input in order: `input` or `text` parts are texts, `image` and `video` parts media, consecutive `frames` parts one frame list.",
            "requestBody": { "required": true, "content": {
                "application/json": { "schema": request_schema() },
                "multipart/form-data": { "schema": { "type": "object" } } } },
            "responses": {
                "200": { "description": "One embedding per input", "content": { "application/json": { "schema": response_schema() } } },
                "default": { "$ref": "#/components/responses/Error" } }
        }})
    }
}

fn request_schema() -> Json {
    json!({
        "type": "object", "required": ["input"],
        "properties": {
            "input": { "oneOf": [
                { "type": "string" },
                { "type": "array", "items": { "oneOf": [
                    { "type": "string" },
                    { "type": "object", "required": ["text"], "properties": { "text": { "type": "string" } } },
                    { "$ref": "#/components/schemas/Media" } ] } } ] },
            "model": { "type": "string", "description": "Accepted for OpenAI compatibility; the one loaded model answers" },
            "encoding_format": { "type": "string", "enum": ["float", "base64"], "description": "base64: little-endian float32 bytes" }
        }
    })
}

fn response_schema() -> Json {
    json!({
        "type": "object", "required": ["object", "data", "model"],
        "properties": {
            "object": { "const": "list" },
            "model": { "type": "string" },
            "data": { "type": "array", "items": { "type": "object", "required": ["object", "index", "embedding"], "properties": {
                "object": { "const": "embedding" }, "index": { "type": "integer" },
                "embedding": { "oneOf": [ { "type": "array", "items": { "type": "number" } }, { "type": "string" } ] } } } }
        }
    })
}
