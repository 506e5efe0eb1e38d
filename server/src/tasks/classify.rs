//! Zero-shot classification of one medium over the given labels, best first.

use super::{SchemaContext, labelled::MediumAndTexts, prelude::*};

pub struct Classify;

impl TaskSlice for Classify {
    const NAME: &'static str = "classify";
    const REST_PATH: &'static str = "/v1/classify";
    const GRPC_METHOD: Option<&'static str> = Some("Classify");

    type Request = MediumAndTexts;
    /// Every label with its probability, best first.
    type Answer = Vec<(String, f32)>;
    type Message = pb::ClassifyRequest;
    type Reply = pb::ClassifyResponse;

    async fn from_form(form: &mut Form, urls: &MediaUrls) -> Result<MediumAndTexts, ApiError> {
        MediumAndTexts::from_form(form, urls, "labels").await
    }

    async fn from_message(
        message: pb::ClassifyRequest,
        urls: &MediaUrls,
    ) -> Result<MediumAndTexts, ApiError> {
        MediumAndTexts::from_message(message.media, message.labels, message.num_frames, urls).await
    }

    fn message_model(message: &pb::ClassifyRequest) -> &str {
        &message.model
    }

    fn tasks(_request: &MediumAndTexts) -> Vec<Task> {
        vec![Task::Classify]
    }

    fn validate(request: &MediumAndTexts, limits: &RequestLimits) -> Result<(), ApiError> {
        request.validate(limits, "labels", Limit::Labels)
    }

    async fn run(
        engine: &Engine,
        request: MediumAndTexts,
        work: &Work,
    ) -> Result<Vec<(String, f32)>, ModelError> {
        let executor = engine
            .executor(&[Task::Classify], work)
            .with_num_frames(request.num_frames);
        pipelines::classify(engine.context(), &executor, request.media, &request.texts).await
    }

    fn to_json(labels: Vec<(String, f32)>) -> Json {
        let labels: Vec<_> = labels
            .into_iter()
            .map(|(label, score)| json!({ "label": label, "score": score }))
            .collect();
        json!({ "labels": labels })
    }

    fn to_reply(labels: Vec<(String, f32)>) -> pb::ClassifyResponse {
        let labels = labels
            .into_iter()
            .map(|(label, score)| pb::LabelScore { label, score })
            .collect();
        pb::ClassifyResponse { labels }
    }

    fn openapi(context: &SchemaContext<'_>) -> Json {
        let body = MediumAndTexts::schema(context, "labels", context.limits.max_labels);
        json!({ "post": {
            "summary": "Zero-shot classification over the given labels, best first",
            "requestBody": { "required": true, "content": {
                "application/json": { "schema": body }, "multipart/form-data": { "schema": body } } },
            "responses": {
                "200": { "description": "Every label with its probability, best first", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["labels"], "properties": { "labels": { "type": "array", "items": {
                        "type": "object", "required": ["label", "score"], "properties": { "label": { "type": "string" }, "score": { "type": "number" } } } } } } } } },
                "default": { "$ref": "#/components/responses/Error" } }
        }})
    }
}
