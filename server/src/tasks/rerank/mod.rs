//! Rerank (Cohere/Jina shape): documents ranked by image–text match with the query, best first.
//! A text query ranks media documents; a medium query ranks text documents.

mod request;

use serde::Serialize;

use super::{SchemaContext, frames, prelude::*, schema, usage::Usage};
use request::{Item, RerankRequest};

pub struct Rerank;

#[derive(Serialize)]
pub struct Ranked {
    pub index: usize,
    pub relevance_score: f32,
    /// The text of a text document, when `return_documents` asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<RankedText>,
}

#[derive(Serialize)]
pub struct RankedText {
    pub text: String,
}

pub struct RerankAnswer {
    results: Vec<Ranked>,
    model: String,
    usage: Usage,
}

impl TaskSlice for Rerank {
    const NAME: &'static str = "rerank";
    const REST_PATH: &'static str = "/v1/rerank";
    const REST_ALIASES: &'static [&'static str] = &["/rerank"];
    const GRPC_METHOD: Option<&'static str> = Some("Rerank");

    type Request = RerankRequest;
    type Answer = RerankAnswer;
    type Message = pb::RerankRequest;
    type Reply = pb::RerankResponse;

    async fn from_form(form: &mut Form, urls: &MediaUrls) -> Result<RerankRequest, ApiError> {
        RerankRequest::from_form(form, urls).await
    }

    async fn from_message(
        message: pb::RerankRequest,
        urls: &MediaUrls,
    ) -> Result<RerankRequest, ApiError> {
        RerankRequest::from_message(message, urls).await
    }

    fn message_model(message: &pb::RerankRequest) -> &str {
        &message.model
    }

    fn tasks(_request: &RerankRequest) -> Vec<Task> {
        vec![Task::Match]
    }

    fn validate(request: &RerankRequest, limits: &RequestLimits) -> Result<(), ApiError> {
        request.validate(limits)
    }

    async fn run(
        engine: &Engine,
        request: RerankRequest,
        work: &Work,
    ) -> Result<RerankAnswer, ModelError> {
        let context = engine.context();
        let executor = engine
            .executor(&[Task::Match], work)
            .with_num_frames(request.num_frames);
        let mut texts = Vec::new();
        let mut media = Vec::new();
        for document in request.documents {
            match document {
                Item::Text(text) => texts.push(text),
                Item::Media(medium) => media.push(medium),
            }
        }
        let (scores, prompt_tokens) = match request.query {
            Item::Text(query) => {
                let tokens = context.text.caption_ids(&query)?.len();
                let scores = pipelines::match_media(context, &executor, &query, media).await?;
                (scores, tokens)
            }
            Item::Media(query) => {
                let tokens = texts
                    .iter()
                    .map(|text| context.text.caption_ids(text).map(|ids| ids.len()))
                    .sum::<Result<usize, _>>()?;
                let scores = pipelines::match_texts(context, &executor, query, &texts).await?;
                (scores, tokens)
            }
        };
        Ok(RerankAnswer {
            results: ranked(
                scores,
                request.top_n,
                request.return_documents.then_some(&texts),
            ),
            model: engine.info().name.clone(),
            usage: Usage::new(prompt_tokens, 0),
        })
    }

    fn to_json(answer: RerankAnswer) -> Json {
        json!({ "results": answer.results, "model": answer.model, "usage": answer.usage })
    }

    fn to_reply(answer: RerankAnswer) -> pb::RerankResponse {
        pb::RerankResponse {
            results: answer
                .results
                .into_iter()
                .map(|ranked| pb::RerankResult {
                    index: ranked.index as u32,
                    relevance_score: ranked.relevance_score,
                    document: ranked.document.map(|document| document.text),
                })
                .collect(),
            model: answer.model,
            usage: Some(answer.usage.to_message()),
        }
    }

    fn openapi(context: &SchemaContext<'_>) -> Json {
        let limits = context.limits;
        let text = schema::text(limits.max_text_chars);
        let medium = super::media::item_schema(context);
        let body = |query: &Json, document: &Json| {
            json!({
                "type": "object", "required": ["query", "documents"], "additionalProperties": false,
                "properties": {
                    "query": query,
                    "documents": { "type": "array", "minItems": 1, "maxItems": limits.max_documents, "items": document },
                    "top_n": { "type": "integer", "minimum": 1, "maximum": limits.max_documents,
                        "description": "More than the documents is all of them" },
                    "return_documents": { "type": "boolean" },
                    "model": { "type": "string" },
                    "num_frames": frames::schema(limits),
                }
            })
        };
        let body = json!({
            "description": "A text query ranks media documents; a medium query ranks text documents.",
            "oneOf": [body(&text, &medium), body(&medium, &text)] });
        let result = json!({ "type": "object", "required": ["index", "relevance_score"], "properties": {
            "index": { "type": "integer", "minimum": 0 },
            "relevance_score": { "type": "number", "minimum": 0, "maximum": 1 },
            "document": { "type": "object", "required": ["text"], "properties": { "text": { "type": "string" } } } } });
        json!({ "post": {
            "summary": "Rank documents by image-text match with the query, best first (Cohere/Jina shape)",
            "requestBody": { "required": true, "content": { "application/json": { "schema": body } } },
            "responses": {
                "200": { "description": "The documents' indices and match probabilities, best first",
                    "content": { "application/json": { "schema": {
                        "type": "object", "required": ["results", "model", "usage"], "properties": {
                            "results": { "type": "array", "items": result },
                            "model": { "type": "string" }, "usage": Usage::schema() } } } } },
                "default": { "$ref": "#/components/responses/Error" } }
        }})
    }
}

/// Indices and scores best first (equal scores: lower index first), cut to `top_n`; with the
/// text documents when asked.
fn ranked(scores: Vec<f32>, top_n: Option<usize>, texts: Option<&Vec<String>>) -> Vec<Ranked> {
    let mut order: Vec<(usize, f32)> = scores.into_iter().enumerate().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    order.truncate(top_n.unwrap_or(usize::MAX));
    order
        .into_iter()
        .map(|(index, relevance_score)| Ranked {
            index,
            relevance_score,
            document: texts
                .and_then(|texts| texts.get(index))
                .map(|text| RankedText { text: text.clone() }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::ranked;

    #[test]
    fn best_first_ties_by_index_cut_to_top_n() {
        let order: Vec<(usize, f32)> = ranked(vec![0.2, 0.9, 0.2, 0.5], Some(3), None)
            .into_iter()
            .map(|r| (r.index, r.relevance_score))
            .collect();
        assert_eq!(order, vec![(1, 0.9), (3, 0.5), (0, 0.2)]);
        let texts = vec!["a".to_owned(), "b".to_owned()];
        let with_text = ranked(vec![0.1, 0.3], None, Some(&texts));
        assert_eq!(with_text[0].document.as_ref().unwrap().text, "b");
    }
}
