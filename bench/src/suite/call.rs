//! One request of a benchmarked task, over REST (JSON, base64 media) or gRPC.

use std::time::Duration;

use mplug2_e2e_tests::{http_client::send_checked, media::TestMedia};
use mplug2_proto::v1::{self as pb, inference_client::InferenceClient};
use serde_json::{Value, json};
use tonic::transport::Channel;

pub const QUESTION: &str = "what is the man doing in the video?";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    Caption,
    Vqa,
    EmbedImage,
    EmbedText,
    Match,
    Classify,
}

/// The texts of a match request and the labels of a classify request.
const TEXTS: [&str; 2] = ["a man is playing a guitar", "a dog runs on the beach"];

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::Caption => "caption",
            Task::Vqa => "vqa",
            Task::EmbedImage => "embed_image",
            Task::EmbedText => "embed_text",
            Task::Match => "match",
            Task::Classify => "classify",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Rest,
    Grpc,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Rest => "rest",
            Protocol::Grpc => "grpc",
        }
    }
}

/// What a client sends, prepared once per load point.
#[derive(Clone)]
pub enum Call {
    Rest {
        client: reqwest::Client,
        url: String,
        body: Value,
    },
    Grpc {
        client: InferenceClient<Channel>,
        task: Task,
        media: pb::Media,
        question: String,
    },
}

impl Call {
    pub fn rest(
        client: &reqwest::Client,
        base: &str,
        task: Task,
        media: &TestMedia,
        question: &str,
    ) -> Call {
        let (path, body) = match task {
            Task::Caption => ("/v1/caption", media.json_body(json!({}))),
            Task::Vqa => ("/v1/vqa", media.json_body(json!({ "question": question }))),
            Task::EmbedImage => (
                "/v1/embeddings",
                json!({ "input": [Value::Object(media.json_fields())] }),
            ),
            Task::EmbedText => (
                "/v1/embeddings",
                json!({ "input": ["a man is playing a guitar"] }),
            ),
            Task::Match => ("/v1/match", media.json_body(json!({ "texts": TEXTS }))),
            Task::Classify => ("/v1/classify", media.json_body(json!({ "labels": TEXTS }))),
        };
        Call::Rest {
            client: client.clone(),
            url: format!("{base}{path}"),
            body,
        }
    }

    pub fn grpc(
        client: InferenceClient<Channel>,
        task: Task,
        media: &TestMedia,
        question: &str,
    ) -> Call {
        Call::Grpc {
            client,
            task,
            media: media.proto(),
            question: question.to_owned(),
        }
    }

    /// Sends the request; `Err` carries the status and message of a failed answer.
    pub async fn send(&mut self) -> Result<(), String> {
        self.send_within(None).await
    }

    /// Sends the request with the client's own deadline, if any (`x-request-timeout-ms` over
    /// REST, the gRPC deadline otherwise).
    pub async fn send_within(&mut self, deadline: Option<Duration>) -> Result<(), String> {
        match self {
            Call::Rest { client, url, body } => {
                let mut request = client.post(url.as_str()).json(body);
                if let Some(deadline) = deadline {
                    request =
                        request.header("x-request-timeout-ms", deadline.as_millis().to_string());
                }
                send_checked(request).await
            }
            Call::Grpc {
                client,
                task,
                media,
                question,
            } => {
                let media = Some(media.clone());
                let texts = || TEXTS.map(str::to_owned).to_vec();
                let result = match task {
                    Task::Caption => client
                        .caption(with_deadline(
                            deadline,
                            pb::CaptionRequest {
                                media,
                                ..Default::default()
                            },
                        ))
                        .await
                        .map(drop),
                    Task::Vqa => client
                        .vqa(with_deadline(
                            deadline,
                            pb::VqaRequest {
                                media,
                                question: question.clone(),
                                ..Default::default()
                            },
                        ))
                        .await
                        .map(drop),
                    Task::Match => client
                        .r#match(with_deadline(
                            deadline,
                            pb::MatchRequest {
                                media,
                                texts: texts(),
                                ..Default::default()
                            },
                        ))
                        .await
                        .map(drop),
                    Task::Classify => client
                        .classify(with_deadline(
                            deadline,
                            pb::ClassifyRequest {
                                media,
                                labels: texts(),
                                ..Default::default()
                            },
                        ))
                        .await
                        .map(drop),
                    Task::EmbedImage | Task::EmbedText => {
                        let input = if *task == Task::EmbedText {
                            pb::EmbedInput {
                                kind: Some(pb::embed_input::Kind::Text(
                                    "a man is playing a guitar".into(),
                                )),
                            }
                        } else {
                            embed_input(media)
                        };
                        client
                            .embed(with_deadline(
                                deadline,
                                pb::EmbedRequest {
                                    inputs: vec![input],
                                    ..Default::default()
                                },
                            ))
                            .await
                            .map(drop)
                    }
                };
                result.map_err(|status| format!("{:?}: {}", status.code(), status.message()))
            }
        }
    }
}

fn embed_input(media: Option<pb::Media>) -> pb::EmbedInput {
    use pb::{embed_input::Kind as In, media::Kind as M};
    // Embeddings take media bytes only; the suite never sends URLs.
    let kind = media.and_then(|m| m.kind).and_then(|kind| match kind {
        M::Image(bytes) => Some(In::Image(bytes)),
        M::Video(bytes) => Some(In::Video(bytes)),
        M::Frames(frames) => Some(In::Frames(frames)),
        M::ImageUrl(_) | M::VideoUrl(_) => None,
    });
    pb::EmbedInput { kind }
}

/// A gRPC request carrying the client's deadline (sent as `grpc-timeout`).
fn with_deadline<T>(deadline: Option<Duration>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(deadline) = deadline {
        request.set_timeout(deadline);
    }
    request
}
