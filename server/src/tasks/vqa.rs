//! Answer a question about an image, a video or a list of frames.

use mplug2_model::decode::DecodeOverrides;

use super::{decoding, prelude::*};

pub struct Vqa;

pub struct VqaRequest {
    media: Media,
    question: String,
    decoding: DecodeOverrides,
}

impl TaskSlice for Vqa {
    const NAME: &'static str = "vqa";
    const REST_PATH: &'static str = "/v1/vqa";
    const GRPC_METHOD: &'static str = "Vqa";
    const GENERATES: bool = true;

    type Request = VqaRequest;
    type Answer = String;
    type Message = pb::VqaRequest;
    type Reply = pb::VqaResponse;

    async fn from_form(form: &mut Form, urls: &MediaUrls) -> Result<VqaRequest, ApiError> {
        Ok(VqaRequest {
            media: media::from_form_or_url(form, urls).await?,
            question: form.text("question")?,
            decoding: decoding::from_form(form)?,
        })
    }

    async fn from_message(
        message: pb::VqaRequest,
        urls: &MediaUrls,
    ) -> Result<VqaRequest, ApiError> {
        Ok(VqaRequest {
            media: media::from_message(message.media, urls).await?,
            question: message.question,
            decoding: decoding::from_message(message.decoding),
        })
    }

    fn validate(request: &VqaRequest, limits: &RequestLimits) -> Result<(), ApiError> {
        media::validate(&request.media)?;
        Ok(limits.text("question", Limit::QuestionChars, &request.question)?)
    }

    async fn run(
        engine: &Engine,
        request: VqaRequest,
        deadline: Instant,
    ) -> Result<String, ModelError> {
        let executor = engine.executor(&[Task::Vqa], deadline);
        let context = engine.context();
        let ids = pipelines::vqa_ids(
            context,
            &executor,
            request.media,
            &request.question,
            request.decoding,
        )
        .await;
        engine.log_timing(Self::NAME, &executor);
        let ids = ids?;
        engine.count_tokens(Self::NAME, &ids);
        Ok(context.text.answer_text(&ids))
    }

    fn to_json(answer: String) -> Json {
        json!({ "answer": answer })
    }

    fn to_reply(answer: String) -> pb::VqaResponse {
        pb::VqaResponse { answer }
    }

    fn openapi() -> Json {
        let body = json!({ "allOf": [ { "$ref": "#/components/schemas/Media" }, { "$ref": "#/components/schemas/Decoding" },
            { "type": "object", "required": ["question"], "properties": { "question": { "type": "string" } } } ] });
        json!({ "post": {
            "summary": "Answer a question about an image, a video or a list of frames",
            "requestBody": { "required": true, "content": {
                "application/json": { "schema": body }, "multipart/form-data": { "schema": body } } },
            "responses": {
                "200": { "description": "The answer", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["answer"], "properties": { "answer": { "type": "string" } } } } } },
                "default": { "$ref": "#/components/responses/Error" } }
        }})
    }
}
