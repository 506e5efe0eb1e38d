//! The tasks, one slice each. A slice holds everything that is its task's alone: the request
//! type, parsing it from JSON and multipart (`Form`) and from protobuf, validation, the call into
//! the model crate's pipeline, and the JSON and protobuf answers. `for_each_task` is the
//! registry: the REST router, the gRPC routes, the metric labels and the OpenAPI paths are built
//! from it.
//!
//! A new task: a file here implementing `TaskSlice`, one line in `for_each_task`, and (for gRPC)
//! its messages and method in `proto/mplug2/v1/inference.proto`.

mod caption;
mod chat;
mod classify;
mod decoding;
mod embeddings;
mod frames;
mod labelled;
mod matching;
mod media;
mod prelude;
mod rerank;
mod schema;
mod streaming;
mod usage;
mod vqa;

use mplug2_model::{ModelError, tasks::Task};

pub use streaming::TextStreamer;

use crate::{
    engine::{Engine, Work},
    error::ApiError,
    form::Form,
    limits::RequestLimits,
    media_url::MediaUrls,
};

/// One task, as a type: its names, request, answer and the conversions between them.
pub trait TaskSlice: Send + Sync + 'static {
    /// The `task` label of metrics and logs.
    const NAME: &'static str;
    const REST_PATH: &'static str;
    /// Other paths of the same route (e.g. `/rerank` beside `/v1/rerank`).
    const REST_ALIASES: &'static [&'static str] = &[];
    /// The unary method of `mplug2.v1.Inference` (`None`: REST only).
    const GRPC_METHOD: Option<&'static str>;
    /// The server-streaming method of a generating task (`TextDelta` messages).
    const GRPC_STREAM_METHOD: Option<&'static str> = None;
    /// Whether the task generates tokens (`mplug2_generated_tokens_total`).
    const GENERATES: bool = false;

    type Request: Send + 'static;
    type Answer: Send + 'static;
    /// The gRPC request and answer messages.
    type Message: prost::Message + Default + Send + 'static;
    type Reply: prost::Message + Default + Send + 'static;

    /// The request from a JSON or multipart body (its `model` field already taken); fields it
    /// does not take are left in `form`.
    fn from_form(
        form: &mut Form,
        urls: &MediaUrls,
    ) -> impl Future<Output = Result<Self::Request, ApiError>> + Send;

    fn from_message(
        message: Self::Message,
        urls: &MediaUrls,
    ) -> impl Future<Output = Result<Self::Request, ApiError>> + Send;

    /// The package a protobuf request names (its `model` field; empty: none).
    fn message_model(message: &Self::Message) -> &str;

    /// The model tasks a request needs of the package that answers it.
    fn tasks(request: &Self::Request) -> Vec<Task>;

    /// The checks of the server's own limits, before any model work.
    fn validate(request: &Self::Request, limits: &RequestLimits) -> Result<(), ApiError>;

    fn run(
        engine: &Engine,
        request: Self::Request,
        work: &Work,
    ) -> impl Future<Output = Result<Self::Answer, ModelError>> + Send;

    fn to_json(answer: Self::Answer) -> serde_json::Value;

    fn to_reply(answer: Self::Answer) -> Self::Reply;

    /// A generating task's streamer of sure text for this request (`None`: it does not stream).
    fn streamer(_engine: &Engine, _request: &Self::Request) -> Option<TextStreamer> {
        None
    }

    /// The text a streamed answer adds up to.
    fn streamed_text(_answer: &Self::Answer) -> String {
        String::new()
    }

    /// REST: the server-sent events of a request that asks to stream (chat's `stream: true`).
    fn sse(_engine: &Engine, _request: &Self::Request) -> Option<Box<dyn SseFrames<Self::Answer>>> {
        None
    }

    /// The route's OpenAPI path item (its `post` operation) under this server's settings.
    fn openapi(context: &SchemaContext<'_>) -> serde_json::Value;
}

/// What the OpenAPI document states besides the types: the limits and whether media URLs are
/// fetched, as this server is configured.
pub struct SchemaContext<'a> {
    pub limits: &'a RequestLimits,
    pub decode: &'a mplug2_model::decode::DecodeLimits,
    pub media_urls: bool,
    /// The loaded model's embedding width (`None` while it loads).
    pub embed_dim: Option<usize>,
}

/// How a REST stream frames its events (each one `data:` payload).
pub trait SseFrames<A>: Send {
    /// A piece of text that can no longer change (the first one also opens the stream).
    fn delta(&mut self, text: &str) -> Vec<String>;
    /// The rest of the text and the end of the stream, from the answer.
    fn end(&mut self, rest: &str, answer: A) -> Vec<String>;
}

/// Something done once per task slice, with the slice as a type.
pub trait TaskVisitor {
    fn visit<T: TaskSlice>(&mut self);
}

/// The registry: every task the server serves, in the order of the docs.
pub fn for_each_task(visitor: &mut impl TaskVisitor) {
    visitor.visit::<vqa::Vqa>();
    visitor.visit::<caption::Caption>();
    visitor.visit::<embeddings::Embeddings>();
    visitor.visit::<matching::Match>();
    visitor.visit::<classify::Classify>();
    visitor.visit::<rerank::Rerank>();
    visitor.visit::<chat::Chat>();
}

/// The `task` labels of every slice, and of those that generate tokens.
pub fn names() -> (Vec<&'static str>, Vec<&'static str>) {
    #[derive(Default)]
    struct Names(Vec<&'static str>, Vec<&'static str>);
    impl TaskVisitor for Names {
        fn visit<T: TaskSlice>(&mut self) {
            self.0.push(T::NAME);
            if T::GENERATES {
                self.1.push(T::NAME);
            }
        }
    }
    let mut names = Names::default();
    for_each_task(&mut names);
    (names.0, names.1)
}
