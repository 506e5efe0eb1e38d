//! Retrieval embeddings (L2-normalised) of texts, images, videos and frame lists, in OpenAI's
//! shape on REST.

mod answer;
mod inputs;

use futures::future::try_join_all;

use super::{SchemaContext, frames, prelude::*, usage::Usage};
use answer::{EmbedAnswer, Encoding};
use inputs::EmbedInput;

pub struct Embeddings;

pub struct EmbedRequest {
    inputs: Vec<EmbedInput>,
    encoding: Encoding,
    /// OpenAI's `dimensions`: only the model's own width is served.
    dimensions: Option<usize>,
    num_frames: Option<usize>,
}

impl TaskSlice for Embeddings {
    const NAME: &'static str = "embeddings";
    const REST_PATH: &'static str = "/v1/embeddings";
    const GRPC_METHOD: Option<&'static str> = Some("Embed");

    type Request = EmbedRequest;
    type Answer = EmbedAnswer;
    type Message = pb::EmbedRequest;
    type Reply = pb::EmbedResponse;

    async fn from_form(form: &mut Form, _urls: &MediaUrls) -> Result<EmbedRequest, ApiError> {
        // OpenAI clients send `user` (not used) and `encoding_format`.
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
        let dimensions = form.number("dimensions")?.map(|n| n as usize);
        let num_frames = frames::from_form(form)?;
        Ok(EmbedRequest {
            inputs: inputs::from_form(form)?,
            encoding,
            dimensions,
            num_frames,
        })
    }

    async fn from_message(
        message: pb::EmbedRequest,
        _urls: &MediaUrls,
    ) -> Result<EmbedRequest, ApiError> {
        Ok(EmbedRequest {
            inputs: inputs::from_message(message.inputs)?,
            encoding: Encoding::Float,
            dimensions: message.dimensions.map(|n| n as usize),
            num_frames: frames::from_message(message.num_frames),
        })
    }

    fn message_model(message: &pb::EmbedRequest) -> &str {
        &message.model
    }

    fn tasks(request: &EmbedRequest) -> Vec<Task> {
        request.inputs.iter().map(EmbedInput::task).collect()
    }

    fn validate(request: &EmbedRequest, limits: &RequestLimits) -> Result<(), ApiError> {
        limits.count("input", Limit::Inputs, request.inputs.len())?;
        frames::validate(request.num_frames, limits)?;
        request.inputs.iter().try_for_each(|input| match input {
            EmbedInput::Text(text) => Ok(limits.text("input", Limit::TextChars, text)?),
            EmbedInput::Media(medium) => media::validate(medium),
        })
    }

    async fn run(
        engine: &Engine,
        request: EmbedRequest,
        work: &Work,
    ) -> Result<EmbedAnswer, ModelError> {
        let context = engine.context();
        if let (Some(asked), Some(width)) = (request.dimensions, context.embed_dim)
            && asked != width
        {
            return Err(ModelError::InvalidInput(format!(
                "`dimensions` is {asked}, but this model's embeddings have {width} dimensions; \
                 only {width} is served (its retrieval head is not trained for shorter prefixes)"
            )));
        }
        let tasks = Self::tasks(&request);
        // Texts are tokenized here once: for the pipeline and for `usage`.
        let inputs = request
            .inputs
            .into_iter()
            .map(|input| input.tokenized(context))
            .collect::<Result<Vec<_>, _>>()?;
        let prompt_tokens = inputs.iter().map(inputs::Tokenized::tokens).sum();
        let executor = engine
            .executor(&tasks, work)
            .with_num_frames(request.num_frames);
        let executor = &executor;
        let vectors = try_join_all(inputs.into_iter().map(|input| async move {
            match input {
                inputs::Tokenized::Text(ids) => {
                    pipelines::embed_text_ids(context, executor, ids).await
                }
                inputs::Tokenized::Media(medium) => {
                    pipelines::embed_media(context, executor, medium).await
                }
            }
        }))
        .await?;
        Ok(EmbedAnswer {
            vectors,
            encoding: request.encoding,
            model: engine.info().name.clone(),
            usage: Usage::new(prompt_tokens, 0),
        })
    }

    fn to_json(answer: EmbedAnswer) -> Json {
        answer.into_json()
    }

    fn to_reply(answer: EmbedAnswer) -> pb::EmbedResponse {
        answer.into_reply()
    }

    fn openapi(context: &SchemaContext<'_>) -> Json {
        json!({ "post": {
            "summary": "Retrieval embeddings (L2-normalised) of texts and media, in the OpenAI shape",
            "description": "In multipart, every part is one input in order: `input` or `text` parts are texts, `image` and `video` parts media, consecutive `frames` parts one frame list.",
            "requestBody": { "required": true, "content": {
                "application/json": { "schema": inputs::schema(context) },
                "multipart/form-data": { "schema": inputs::multipart_schema(context) } } },
            "responses": {
                "200": { "description": "One embedding per input", "content": { "application/json": { "schema": EmbedAnswer::schema() } } },
                "default": { "$ref": "#/components/responses/Error" } }
        }})
    }
}
