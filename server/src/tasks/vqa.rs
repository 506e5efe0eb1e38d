//! Answer a question about an image, a video or a list of frames.

use mplug2_model::decode::DecodeOverrides;

use super::{SchemaContext, decoding, frames, prelude::*, schema};

pub struct Vqa;

pub struct VqaRequest {
    media: Media,
    question: String,
    decoding: DecodeOverrides,
    num_frames: Option<usize>,
}

impl TaskSlice for Vqa {
    const NAME: &'static str = "vqa";
    const REST_PATH: &'static str = "/v1/vqa";
    const GRPC_METHOD: Option<&'static str> = Some("Vqa");
    const GRPC_STREAM_METHOD: Option<&'static str> = Some("VqaStream");
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
            num_frames: frames::from_form(form)?,
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
            num_frames: frames::from_message(message.num_frames),
        })
    }

    fn message_model(message: &pb::VqaRequest) -> &str {
        &message.model
    }

    fn tasks(_request: &VqaRequest) -> Vec<Task> {
        vec![Task::Vqa]
    }

    fn validate(request: &VqaRequest, limits: &RequestLimits) -> Result<(), ApiError> {
        media::validate(&request.media)?;
        frames::validate(request.num_frames, limits)?;
        Ok(limits.text("question", Limit::QuestionChars, &request.question)?)
    }

    async fn run(engine: &Engine, request: VqaRequest, work: &Work) -> Result<String, ModelError> {
        let executor = engine
            .executor(&[Task::Vqa], work)
            .with_num_frames(request.num_frames);
        let context = engine.context();
        let ids = pipelines::vqa_ids(
            context,
            &executor,
            request.media,
            &request.question,
            request.decoding,
        )
        .await;
        let ids = ids?;
        engine.count_tokens(Self::NAME, &ids);
        Ok(context.text.answer_text(&ids))
    }

    fn streamer(engine: &Engine, _request: &VqaRequest) -> Option<TextStreamer> {
        Some(TextStreamer::answer(Arc::clone(&engine.context().text)))
    }

    fn streamed_text(answer: &String) -> String {
        answer.clone()
    }

    fn to_json(answer: String) -> Json {
        json!({ "answer": answer })
    }

    fn to_reply(answer: String) -> pb::VqaResponse {
        pb::VqaResponse { answer }
    }

    fn openapi(context: &SchemaContext<'_>) -> Json {
        let mut fields = decoding::properties(context);
        fields["num_frames"] = frames::schema(context.limits);
        fields["question"] = schema::text(context.limits.max_question_chars);
        let body = media::body_schema(context, fields, &["question"]);
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
