//! Image–text match (ITM) probability of each text for one medium.

use super::{SchemaContext, labelled::MediumAndTexts, prelude::*};

pub struct Match;

impl TaskSlice for Match {
    const NAME: &'static str = "match";
    const REST_PATH: &'static str = "/v1/match";
    const GRPC_METHOD: Option<&'static str> = Some("Match");

    type Request = MediumAndTexts;
    /// One probability per text, in the request's order.
    type Answer = Vec<f32>;
    type Message = pb::MatchRequest;
    type Reply = pb::MatchResponse;

    async fn from_form(form: &mut Form, urls: &MediaUrls) -> Result<MediumAndTexts, ApiError> {
        MediumAndTexts::from_form(form, urls, "texts").await
    }

    async fn from_message(
        message: pb::MatchRequest,
        urls: &MediaUrls,
    ) -> Result<MediumAndTexts, ApiError> {
        MediumAndTexts::from_message(message.media, message.texts, message.num_frames, urls).await
    }

    fn message_model(message: &pb::MatchRequest) -> &str {
        &message.model
    }

    fn tasks(_request: &MediumAndTexts) -> Vec<Task> {
        vec![Task::Match]
    }

    fn validate(request: &MediumAndTexts, limits: &RequestLimits) -> Result<(), ApiError> {
        request.validate(limits, "texts", Limit::Texts)
    }

    async fn run(
        engine: &Engine,
        request: MediumAndTexts,
        work: &Work,
    ) -> Result<Vec<f32>, ModelError> {
        let executor = engine
            .executor(&[Task::Match], work)
            .with_num_frames(request.num_frames);
        pipelines::match_texts(engine.context(), &executor, request.media, &request.texts).await
    }

    fn to_json(scores: Vec<f32>) -> Json {
        json!({ "scores": scores })
    }

    fn to_reply(scores: Vec<f32>) -> pb::MatchResponse {
        pb::MatchResponse { scores }
    }

    fn openapi(context: &SchemaContext<'_>) -> Json {
        let body = MediumAndTexts::schema(context, "texts", context.limits.max_texts);
        json!({ "post": {
            "summary": "Image-text match (ITM) probability of each text",
            "requestBody": { "required": true, "content": {
                "application/json": { "schema": body }, "multipart/form-data": { "schema": body } } },
            "responses": {
                "200": { "description": "One probability per text, in request order", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["scores"], "properties": { "scores": { "type": "array", "items": { "type": "number" } } } } } } },
                "default": { "$ref": "#/components/responses/Error" } }
        }})
    }
}
