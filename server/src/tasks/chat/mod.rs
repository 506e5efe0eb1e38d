//! OpenAI chat completions with images and videos (`POST /v1/chat/completions`): the medium and
//! question of the user messages (see `messages`) answered by VQA, or without a question by a
//! caption; `n` choices; beam search by default, sampling on request; streamed on request.

mod answer;
mod messages;
mod request;

use mplug2_model::decode::{DecodeOverrides, Sampling, Strategy};

use super::{SchemaContext, SseFrames, frames, prelude::*, schema, usage::Usage};
use answer::{ChatAnswer, ChatChunks, Choice};
use request::ChatRequest;

pub struct Chat;

impl TaskSlice for Chat {
    const NAME: &'static str = "chat";
    const REST_PATH: &'static str = "/v1/chat/completions";
    /// REST only: gRPC clients have `Vqa` / `Caption` and their streaming forms.
    const GRPC_METHOD: Option<&'static str> = None;
    const GENERATES: bool = true;

    type Request = ChatRequest;
    type Answer = ChatAnswer;
    type Message = ();
    type Reply = ();

    async fn from_form(form: &mut Form, urls: &MediaUrls) -> Result<ChatRequest, ApiError> {
        ChatRequest::from_form(form, urls).await
    }

    async fn from_message(_message: (), _urls: &MediaUrls) -> Result<ChatRequest, ApiError> {
        Err(ApiError::InvalidRequest(
            "chat completions are served over REST only".into(),
        ))
    }

    fn message_model(_message: &()) -> &str {
        ""
    }

    fn tasks(request: &ChatRequest) -> Vec<Task> {
        vec![request.task()]
    }

    fn validate(request: &ChatRequest, limits: &RequestLimits) -> Result<(), ApiError> {
        request.validate(limits)
    }

    async fn run(
        engine: &Engine,
        request: ChatRequest,
        work: &Work,
    ) -> Result<ChatAnswer, ModelError> {
        let context = engine.context();
        let overrides = DecodeOverrides {
            beam_size: request.beam_size,
            max_length: request.max_tokens,
            min_length: request.min_tokens,
            num_results: Some(request.n),
            strategy: request.sampling.map(|options| {
                let plain = Sampling::default();
                Strategy::Sample(Sampling {
                    temperature: options.temperature.unwrap_or(plain.temperature),
                    top_p: options.top_p.unwrap_or(plain.top_p),
                    top_k: options.top_k.unwrap_or(plain.top_k),
                    seed: options.seed.unwrap_or(plain.seed),
                })
            }),
        };
        let task = request.task();
        let media = request.conversation.media;
        let prompt_tokens = match &request.conversation.question {
            Some(question) => context.text.question_ids(question)?.len(),
            None => 0,
        };
        let executor = engine
            .executor(&[task], work)
            .with_num_frames(request.num_frames);
        let (choices, eos) = match &request.conversation.question {
            Some(question) => (
                pipelines::vqa_choices(context, &executor, media, question, overrides).await?,
                context.vqa.eos,
            ),
            None => (
                pipelines::caption_choices(context, &executor, media, overrides).await?,
                context.caption.eos,
            ),
        };
        let mut completion_tokens = 0;
        let choices = choices
            .into_iter()
            .map(|ids| {
                engine.count_tokens(Self::NAME, &ids);
                completion_tokens += ids.len().saturating_sub(1);
                Choice {
                    text: match task {
                        Task::Vqa => context.text.answer_text(&ids),
                        _ => context
                            .text
                            .caption_text(&ids, context.caption_prompt.as_deref()),
                    },
                    finish_reason: if ids.last() == Some(&eos) {
                        "stop"
                    } else {
                        "length"
                    },
                }
            })
            .collect();
        Ok(ChatAnswer {
            id: request.id,
            created: request.created,
            model: engine.info().name.clone(),
            choices,
            usage: Usage::new(prompt_tokens, completion_tokens),
        })
    }

    fn streamer(engine: &Engine, request: &ChatRequest) -> Option<TextStreamer> {
        let context = engine.context();
        let text = Arc::clone(&context.text);
        Some(match request.conversation.question {
            Some(_) => TextStreamer::answer(text),
            None => TextStreamer::caption(text, context.caption_prompt.as_deref()),
        })
    }

    fn streamed_text(answer: &ChatAnswer) -> String {
        answer
            .choices
            .first()
            .map(|choice| choice.text.clone())
            .unwrap_or_default()
    }

    fn sse(engine: &Engine, request: &ChatRequest) -> Option<Box<dyn SseFrames<ChatAnswer>>> {
        request.stream.then(|| {
            let chunks = ChatChunks::new(
                request.id.clone(),
                request.created,
                engine.info().name.clone(),
                request.include_usage,
            );
            Box::new(chunks) as Box<dyn SseFrames<ChatAnswer>>
        })
    }

    fn to_json(answer: ChatAnswer) -> Json {
        answer.into_json()
    }

    fn to_reply(_answer: ChatAnswer) {}

    fn openapi(context: &SchemaContext<'_>) -> Json {
        schema_of(context)
    }
}

/// The route's OpenAPI path item.
fn schema_of(context: &SchemaContext<'_>) -> Json {
    let limits = context.limits;
    let url = if context.media_urls {
        json!({ "type": "string", "description": "a data: URL (base64), or an http(s) URL the server fetches" })
    } else {
        json!({ "type": "string",
            "pattern": "^data:[^;,]*;base64,(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$",
            "description": "a data: URL (base64)" })
    };
    let part = |kind: &str| {
        json!({ "type": "object", "required": ["type", kind], "additionalProperties": false, "properties": {
            "type": { "const": kind },
            kind: { "type": "object", "required": ["url"], "additionalProperties": false, "properties": { "url": url } } } })
    };
    let text_part = json!({ "type": "object", "required": ["type", "text"], "additionalProperties": false,
        "properties": { "type": { "const": "text" }, "text": schema::text(limits.max_question_chars) } });
    let user = json!({ "type": "object", "required": ["role", "content"], "additionalProperties": false, "properties": {
        "role": { "const": "user" },
        "content": { "type": "array", "minItems": 2, "maxItems": 2,
            "prefixItems": [ { "oneOf": [part("image_url"), part("video_url")] }, text_part ],
            "items": false } } });
    let other = json!({ "type": "object", "required": ["role", "content"], "additionalProperties": false, "properties": {
        "role": { "enum": ["system", "developer", "assistant"] }, "content": { "type": "string" } } });
    let body = json!({
        "type": "object", "required": ["messages"], "additionalProperties": false,
        "description": "The medium is the one image or video of the user messages (several image_url parts in one message are the frames of one video); the last user message's text is the question (none: a caption). mPLUG-2 is not a chat model: other turns do not condition the answer. Without temperature/top_p/top_k/seed the answer is the official beam search.",
        "properties": {
            "model": { "type": "string" },
            "messages": { "type": "array", "minItems": 1, "prefixItems": [user], "items": other },
            "n": { "type": "integer", "minimum": 1, "maximum": 1,
                "description": "Choices: the n best beams (n ≤ beam_size), or n samples" },
            "max_tokens": { "type": "integer", "minimum": 1, "maximum": context.decode.max_length },
            "max_completion_tokens": { "type": "integer", "minimum": 1, "maximum": context.decode.max_length },
            "min_tokens": { "type": "integer", "minimum": 0, "maximum": 1,
                "description": "vLLM's: EOS held back until this many tokens; up to max_tokens is served" },
            "beam_size": { "type": "integer", "minimum": 1, "maximum": context.decode.max_beam_size },
            "temperature": { "type": "number", "minimum": 0, "maximum": 2 },
            "top_p": { "type": "number", "exclusiveMinimum": 0, "maximum": 1 },
            "top_k": { "type": "integer", "minimum": 0, "maximum": u32::MAX },
            "seed": { "type": "integer", "minimum": 0, "maximum": i64::MAX },
            "stream": { "type": "boolean" },
            "stream_options": { "type": "object", "additionalProperties": false,
                "properties": { "include_usage": { "type": "boolean" } } },
            "num_frames": frames::schema(limits),
            "media_io_kwargs": { "type": "object", "additionalProperties": false, "properties": {
                "video": { "type": "object", "additionalProperties": false,
                    "properties": { "num_frames": frames::schema(limits) } } } },
            "user": { "type": "string" },
        }
    });
    json!({ "post": {
        "summary": "Chat completion about an image, a video or frames (OpenAI shape); streams server-sent events with stream: true",
        "requestBody": { "required": true, "content": { "application/json": { "schema": body } } },
        "responses": {
            "200": { "description": "A chat.completion, or with stream: true chat.completion.chunk events ending with [DONE]",
                "content": {
                    "application/json": { "schema": { "type": "object",
                        "required": ["id", "object", "created", "model", "choices", "usage"],
                        "properties": {
                            "id": { "type": "string" }, "object": { "const": "chat.completion" },
                            "created": { "type": "integer" }, "model": { "type": "string" },
                            "choices": { "type": "array", "items": { "type": "object",
                                "required": ["index", "message", "finish_reason"], "properties": {
                                    "index": { "type": "integer" },
                                    "message": { "type": "object", "required": ["role", "content"], "properties": {
                                        "role": { "const": "assistant" }, "content": { "type": "string" } } },
                                    "finish_reason": { "enum": ["stop", "length"] } } } },
                            "usage": Usage::schema() } } },
                    "text/event-stream": { "schema": { "type": "string" } } } },
            "default": { "$ref": "#/components/responses/Error" } }
    }})
}
