//! Caption an image, a video or a list of frames.

use mplug2_model::decode::DecodeOverrides;

use super::{decoding, prelude::*};

pub struct Caption;

pub struct CaptionRequest {
    media: Media,
    decoding: DecodeOverrides,
}

impl TaskSlice for Caption {
    const NAME: &'static str = "caption";
    const REST_PATH: &'static str = "/v1/caption";
    const GRPC_METHOD: &'static str = "Caption";
    const GENERATES: bool = true;

    type Request = CaptionRequest;
    type Answer = String;
    type Message = pb::CaptionRequest;
    type Reply = pb::CaptionResponse;

    async fn from_form(form: &mut Form, urls: &MediaUrls) -> Result<CaptionRequest, ApiError> {
        Ok(CaptionRequest {
            media: media::from_form_or_url(form, urls).await?,
            decoding: decoding::from_form(form)?,
        })
    }

    async fn from_message(
        message: pb::CaptionRequest,
        urls: &MediaUrls,
    ) -> Result<CaptionRequest, ApiError> {
        Ok(CaptionRequest {
            media: media::from_message(message.media, urls).await?,
            decoding: decoding::from_message(message.decoding),
        })
    }

    fn validate(request: &CaptionRequest, _limits: &RequestLimits) -> Result<(), ApiError> {
        media::validate(&request.media)
    }

    async fn run(
        engine: &Engine,
        request: CaptionRequest,
        deadline: Instant,
    ) -> Result<String, ModelError> {
        let executor = engine.executor(&[Task::Caption], deadline);
        let context = engine.context();
        let ids = pipelines::caption_ids(context, &executor, request.media, request.decoding).await;
        engine.log_timing(Self::NAME, &executor);
        let ids = ids?;
        engine.count_tokens(Self::NAME, &ids);
        Ok(context
            .text
            .caption_text(&ids, context.caption_prompt.as_deref()))
    }

    fn to_json(caption: String) -> Json {
        json!({ "caption": caption })
    }

    fn to_reply(caption: String) -> pb::CaptionResponse {
        pb::CaptionResponse { caption }
    }

    fn openapi() -> Json {
        let body = json!({ "allOf": [ { "$ref": "#/components/schemas/Media" }, { "$ref": "#/components/schemas/Decoding" } ] });
        json!({ "post": {
            "summary": "Caption an image, a video or a list of frames",
            "requestBody": { "required": true, "content": {
                "application/json": { "schema": body }, "multipart/form-data": { "schema": body } } },
            "responses": {
                "200": { "description": "The caption", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["caption"], "properties": { "caption": { "type": "string" } } } } } },
                "default": { "$ref": "#/components/responses/Error" } }
        }})
    }
}
