//! Caption an image, a video or a list of frames.

use mplug2_model::decode::DecodeOverrides;

use super::{SchemaContext, decoding, frames, prelude::*};

pub struct Caption;

pub struct CaptionRequest {
    media: Media,
    decoding: DecodeOverrides,
    num_frames: Option<usize>,
}

impl TaskSlice for Caption {
    const NAME: &'static str = "caption";
    const REST_PATH: &'static str = "/v1/caption";
    const GRPC_METHOD: Option<&'static str> = Some("Caption");
    const GRPC_STREAM_METHOD: Option<&'static str> = Some("CaptionStream");
    const GENERATES: bool = true;

    type Request = CaptionRequest;
    type Answer = String;
    type Message = pb::CaptionRequest;
    type Reply = pb::CaptionResponse;

    async fn from_form(form: &mut Form, urls: &MediaUrls) -> Result<CaptionRequest, ApiError> {
        Ok(CaptionRequest {
            media: media::from_form_or_url(form, urls).await?,
            decoding: decoding::from_form(form)?,
            num_frames: frames::from_form(form)?,
        })
    }

    async fn from_message(
        message: pb::CaptionRequest,
        urls: &MediaUrls,
    ) -> Result<CaptionRequest, ApiError> {
        Ok(CaptionRequest {
            media: media::from_message(message.media, urls).await?,
            decoding: decoding::from_message(message.decoding),
            num_frames: frames::from_message(message.num_frames),
        })
    }

    fn message_model(message: &pb::CaptionRequest) -> &str {
        &message.model
    }

    fn tasks(_request: &CaptionRequest) -> Vec<Task> {
        vec![Task::Caption]
    }

    fn validate(request: &CaptionRequest, limits: &RequestLimits) -> Result<(), ApiError> {
        media::validate(&request.media)?;
        frames::validate(request.num_frames, limits)
    }

    async fn run(
        engine: &Engine,
        request: CaptionRequest,
        work: &Work,
    ) -> Result<String, ModelError> {
        let executor = engine
            .executor(&[Task::Caption], work)
            .with_num_frames(request.num_frames);
        let context = engine.context();
        let ids = pipelines::caption_ids(context, &executor, request.media, request.decoding).await;
        let ids = ids?;
        engine.count_tokens(Self::NAME, &ids);
        Ok(context
            .text
            .caption_text(&ids, context.caption_prompt.as_deref()))
    }

    fn streamer(engine: &Engine, _request: &CaptionRequest) -> Option<TextStreamer> {
        let context = engine.context();
        Some(TextStreamer::caption(
            Arc::clone(&context.text),
            context.caption_prompt.as_deref(),
        ))
    }

    fn streamed_text(caption: &String) -> String {
        caption.clone()
    }

    fn to_json(caption: String) -> Json {
        json!({ "caption": caption })
    }

    fn to_reply(caption: String) -> pb::CaptionResponse {
        pb::CaptionResponse { caption }
    }

    fn openapi(context: &SchemaContext<'_>) -> Json {
        let mut fields = decoding::properties(context);
        fields["num_frames"] = frames::schema(context.limits);
        let body = media::body_schema(context, fields, &[]);
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
