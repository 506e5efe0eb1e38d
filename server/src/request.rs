//! Protocol-neutral requests: what REST and gRPC both parse into before the shared layer
//! validates, admits and runs them.

pub use mplug2_model::preprocess::Media;

/// Decoding overrides; `None` keeps the package's value for the task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    pub beam_size: Option<u32>,
    pub max_length: Option<u32>,
    pub min_length: Option<u32>,
}

#[derive(Debug)]
pub struct VqaRequest {
    pub media: Media,
    pub question: String,
    pub decoding: DecodeOptions,
}

#[derive(Debug)]
pub struct CaptionRequest {
    pub media: Media,
    pub decoding: DecodeOptions,
}

#[derive(Debug)]
pub enum EmbedInput {
    Text(String),
    Media(Media),
}

#[derive(Debug)]
pub struct EmbedRequest {
    pub inputs: Vec<EmbedInput>,
}

#[derive(Debug)]
pub struct MatchRequest {
    pub media: Media,
    pub texts: Vec<String>,
}

#[derive(Debug)]
pub struct ClassifyRequest {
    pub media: Media,
    pub labels: Vec<String>,
}

/// The task label of requests in metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Vqa,
    Caption,
    Embeddings,
    Match,
    Classify,
}

impl Route {
    pub const ALL: [Route; 5] = [
        Route::Vqa,
        Route::Caption,
        Route::Embeddings,
        Route::Match,
        Route::Classify,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Route::Vqa => "vqa",
            Route::Caption => "caption",
            Route::Embeddings => "embeddings",
            Route::Match => "match",
            Route::Classify => "classify",
        }
    }
}

/// Which protocol a request came over (metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Grpc,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
        }
    }
}
