//! Clients for crash-and-restart checks (the e2e test and `mplug2-crash`): REST JSON, SSE chat
//! streams and gRPC `VqaStream` calls sent in loops, each outcome classified as its client sees
//! it, so that a truncated success (a 200 whose body is cut, a stream that ends cleanly without
//! its end) is told apart from a transport error or a clean refusal.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use mplug2_proto::v1 as pb;
use mplug2_proto::v1::inference_client::InferenceClient;
use serde_json::{Value, json};
use tonic::transport::Channel;

use crate::{Server, goldens::Goldens, http_client::http_client_builder, media::TestMedia};

type VqaClient = InferenceClient<Channel>;

/// Decoding steps of the streamed answers: long enough to be cut mid-stream.
pub const STREAM_STEPS: u32 = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `POST /v1/caption`, a golden caption.
    RestCaption,
    /// `POST /v1/vqa`, a golden answer.
    RestVqa,
    /// `POST /v1/chat/completions` with `stream: true`, a long greedy answer.
    Sse,
    /// gRPC `VqaStream`, a long greedy answer.
    GrpcStream,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::RestCaption,
        Kind::RestVqa,
        Kind::Sse,
        Kind::GrpcStream,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::RestCaption => "REST caption",
            Kind::RestVqa => "REST VQA",
            Kind::Sse => "SSE chat stream",
            Kind::GrpcStream => "gRPC VqaStream",
        }
    }
}

/// What a client saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// A whole answer (200 / OK with its end): its text.
    Complete(String),
    /// A clean refusal: 503 `unavailable` with its JSON body, or gRPC UNAVAILABLE from the server.
    Unavailable,
    /// The transport failed; `class` names how (see `Transport`), `after_output` whether part of
    /// the answer had arrived.
    Transport {
        class: Transport,
        after_output: bool,
        detail: String,
    },
    /// A success that is not whole: must never happen.
    Truncated(String),
    /// Anything else (another status, an error event).
    Other(String),
}

/// How a transport failure showed to the client library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    /// reqwest `is_connect`: nobody listens (refused).
    Connect,
    /// reqwest `is_request`: the connection closed before the answer's head.
    Request,
    /// reqwest `is_body` or `is_decode` (a chunked body that ends without its last chunk reads
    /// as `Decode`): the body or stream was cut.
    Body,
    /// tonic UNAVAILABLE from the transport (connect refused, connection closed).
    GrpcUnavailable,
    /// tonic UNKNOWN / INTERNAL from a cut HTTP/2 stream (`error reading a body`).
    GrpcCut,
}

impl Seen {
    pub fn is_complete(&self) -> bool {
        matches!(self, Seen::Complete(_))
    }

    pub fn is_transport(&self) -> bool {
        matches!(self, Seen::Transport { .. })
    }

    /// A transport error after part of the answer arrived: a stream cut mid-way.
    pub fn cut_mid_stream(&self) -> Option<Transport> {
        match self {
            Seen::Transport {
                class,
                after_output: true,
                ..
            } => Some(*class),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Record {
    pub kind: Kind,
    pub client: usize,
    pub sent: Instant,
    pub answered: Instant,
    pub seen: Seen,
}

/// The requests and their expected answers.
pub struct Requests {
    caption: Value,
    pub caption_text: String,
    vqa: Value,
    pub vqa_answer: String,
    chat: Value,
    stream: pb::VqaRequest,
    /// The long greedy answer, once known (`learn_reference`).
    pub reference: Mutex<Option<String>>,
}

impl Requests {
    pub fn new(goldens: &Goldens) -> Requests {
        let caption = goldens.caption_of("image_97x131");
        let media = goldens.media(&caption.media);
        let vqa = goldens.vqa()[0].clone();
        let vqa_media = goldens.media(&vqa.media);
        let mut vqa_body = json!({
            "question": vqa.question,
            "beam_size": vqa.params.beam_size,
            "min_length": vqa.params.min_length,
            "max_length": vqa.params.max_length,
        });
        vqa_body = vqa_media.json_body(vqa_body);
        // The streams: greedy, so every step's token is stable and text flows throughout.
        let long = goldens.vqa()[7].clone();
        let long_media = goldens.media(&long.media);
        Requests {
            caption: caption.rest_body(&media),
            caption_text: caption.text,
            vqa: vqa_body,
            vqa_answer: vqa.answer,
            chat: chat_body(&long_media, &long.question),
            stream: pb::VqaRequest {
                media: Some(long_media.proto()),
                question: long.question,
                decoding: Some(pb::DecodeOptions {
                    beam_size: Some(1),
                    min_length: Some(STREAM_STEPS),
                    max_length: Some(STREAM_STEPS),
                }),
                ..Default::default()
            },
            reference: Mutex::new(None),
        }
    }

    /// The flags a server needs to answer these requests.
    pub fn server_args() -> Vec<String> {
        vec!["--max-decode-length".into(), STREAM_STEPS.to_string()]
    }

    /// Answers the long stream once over each protocol and keeps it as the reference: the SSE
    /// and gRPC streams must agree.
    pub async fn learn_reference(&self, server: &Server) -> Result<String, String> {
        let load = Load::new(server);
        let counter = AtomicUsize::new(0);
        let sse = sse(&load.http, &load.base, &self.chat, &counter).await;
        let grpc = grpc_stream(load.grpc.clone(), self.stream.clone(), &counter).await;
        match (sse, grpc) {
            (Seen::Complete(a), Seen::Complete(b)) if a == b && !a.is_empty() => {
                *self.reference.lock().unwrap() = Some(a.clone());
                Ok(a)
            }
            other => Err(format!("no reference answer: {other:?}")),
        }
    }

    /// The answer a complete outcome of `kind` must hold.
    pub fn expected(&self, kind: Kind) -> String {
        match kind {
            Kind::RestCaption => self.caption_text.clone(),
            Kind::RestVqa => self.vqa_answer.clone(),
            Kind::Sse | Kind::GrpcStream => {
                self.reference.lock().unwrap().clone().expect("reference")
            }
        }
    }
}

fn chat_body(media: &TestMedia, question: &str) -> Value {
    let image = media.json_fields();
    let url = format!(
        "data:image/png;base64,{}",
        image["image"].as_str().expect("an image")
    );
    json!({
        "messages": [{ "role": "user", "content": [
            { "type": "image_url", "image_url": { "url": url } },
            { "type": "text", "text": question } ] }],
        "temperature": 0.0, "min_tokens": STREAM_STEPS, "max_tokens": STREAM_STEPS,
        "stream": true,
    })
}

/// The clients' connections to one server address pair (they outlive the process behind it).
#[derive(Clone)]
pub struct Load {
    http: reqwest::Client,
    base: String,
    grpc: VqaClient,
}

impl Load {
    pub fn new(server: &Server) -> Load {
        Load {
            http: http_client_builder().build().expect("client"),
            base: server.http.clone(),
            grpc: lazy_client(&server.grpc),
        }
    }
}

/// Streams that have delivered part of their answer and not yet ended, per protocol.
#[derive(Default)]
pub struct MidStream {
    pub sse: AtomicUsize,
    pub grpc: AtomicUsize,
}

/// Counts a stream as mid-way from its first text until it ends (dropped).
struct Streaming<'a> {
    counter: &'a AtomicUsize,
    counted: bool,
}

impl Streaming<'_> {
    fn output(&mut self) {
        if !std::mem::replace(&mut self.counted, true) {
            self.counter.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Streaming<'_> {
    fn drop(&mut self) {
        if self.counted {
            self.counter.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// The load's clients: `per_kind` of every kind, sending until stopped, each outcome recorded.
pub struct Fleet {
    /// The streams that are mid-way now.
    pub mid: Arc<MidStream>,
    records: Arc<Mutex<Vec<Record>>>,
    stop: Arc<AtomicBool>,
    per_kind: usize,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Fleet {
    pub fn start(load: &Load, requests: &Arc<Requests>, per_kind: usize) -> Fleet {
        let (mid, stop) = (
            Arc::new(MidStream::default()),
            Arc::new(AtomicBool::new(false)),
        );
        let records = Arc::new(Mutex::new(Vec::new()));
        let clients = Kind::ALL
            .iter()
            .flat_map(|&kind| (0..per_kind).map(move |id| (kind, id)))
            .map(|(kind, id)| {
                tokio::spawn(client(
                    kind,
                    id,
                    load.clone(),
                    Arc::clone(requests),
                    Arc::clone(&mid),
                    Arc::clone(&stop),
                    Arc::clone(&records),
                ))
            })
            .collect();
        Fleet {
            mid,
            records,
            stop,
            per_kind,
            clients,
        }
    }

    /// Whether every client has recorded an outcome for which `holds` is true.
    pub fn each_has(&self, holds: impl Fn(&Record) -> bool) -> bool {
        let records = self.records.lock().unwrap();
        Kind::ALL.iter().all(|&kind| {
            (0..self.per_kind).all(|id| {
                records
                    .iter()
                    .any(|r| (r.kind, r.client) == (kind, id) && holds(r))
            })
        })
    }

    /// Stops every client after its request in flight; what they all saw.
    pub async fn stop(self) -> Result<Vec<Record>, tokio::task::JoinError> {
        self.stop.store(true, Ordering::SeqCst);
        for client in self.clients {
            client.await?;
        }
        Ok(self.records.lock().unwrap().clone())
    }
}

/// Sends requests of `kind` one after another until `stop`, recording each outcome.
async fn client(
    kind: Kind,
    id: usize,
    load: Load,
    requests: Arc<Requests>,
    mid: Arc<MidStream>,
    stop: Arc<AtomicBool>,
    records: Arc<Mutex<Vec<Record>>>,
) {
    while !stop.load(Ordering::SeqCst) {
        let sent = Instant::now();
        let seen = match kind {
            Kind::RestCaption => {
                rest_json(&load, "/v1/caption", &requests.caption, "caption").await
            }
            Kind::RestVqa => rest_json(&load, "/v1/vqa", &requests.vqa, "answer").await,
            Kind::Sse => sse(&load.http, &load.base, &requests.chat, &mid.sse).await,
            Kind::GrpcStream => {
                grpc_stream(load.grpc.clone(), requests.stream.clone(), &mid.grpc).await
            }
        };
        let failed = !seen.is_complete();
        records.lock().unwrap().push(Record {
            kind,
            client: id,
            sent,
            answered: Instant::now(),
            seen,
        });
        if failed {
            // A refused connect returns at once: pace the retries rather than spin.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn transport(error: &reqwest::Error, after_output: bool) -> Seen {
    let class = if error.is_connect() {
        Transport::Connect
    } else if error.is_body() || error.is_decode() {
        Transport::Body
    } else if error.is_request() {
        Transport::Request
    } else {
        return Seen::Other(format!("reqwest error of no known class: {error:?}"));
    };
    Seen::Transport {
        class,
        after_output,
        detail: format!("{error:?}"),
    }
}

/// A 503 is clean only with its JSON error body.
async fn refusal(response: reqwest::Response) -> Seen {
    let status = response.status().as_u16();
    match response.bytes().await {
        Err(error) => transport(&error, false),
        Ok(body) => match serde_json::from_slice::<Value>(&body) {
            Ok(json) if status == 503 && json["error"]["type"] == "unavailable" => {
                Seen::Unavailable
            }
            _ => Seen::Other(format!("{status}: {}", String::from_utf8_lossy(&body))),
        },
    }
}

/// A POST answered 200, or what its client saw instead (a transport error or a refusal).
async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<reqwest::Response, Seen> {
    let response = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|error| transport(&error, false))?;
    if response.status() != 200 {
        return Err(refusal(response).await);
    }
    Ok(response)
}

async fn rest_json(load: &Load, path: &str, body: &Value, field: &str) -> Seen {
    let response = match post(&load.http, &format!("{}{path}", load.base), body).await {
        Ok(response) => response,
        Err(seen) => return seen,
    };
    match response.bytes().await {
        Err(error) => transport(&error, false),
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(json) => match json[field].as_str() {
                Some(text) => Seen::Complete(text.to_owned()),
                None => Seen::Truncated(format!("200 without `{field}`: {json}")),
            },
            Err(error) => Seen::Truncated(format!(
                "200 whose body does not parse ({error}): {}",
                String::from_utf8_lossy(&bytes)
            )),
        },
    }
}

/// A chat stream: complete only with a `finish_reason` and then `[DONE]`, and a clean end.
async fn sse(http: &reqwest::Client, base: &str, body: &Value, counter: &AtomicUsize) -> Seen {
    let response = match post(http, &format!("{base}/v1/chat/completions"), body).await {
        Ok(response) => response,
        Err(seen) => return seen,
    };
    let mut response = response;
    let mut streaming = Streaming {
        counter,
        counted: false,
    };
    let (mut buffer, mut text) = (String::new(), String::new());
    let (mut finished, mut done) = (false, false);
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(error) => return transport(&error, streaming.counted || !text.is_empty()),
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        // Whole events only; a partial one waits for the next chunk.
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let Some(data) = event.trim_end().strip_prefix("data: ") else {
                return Seen::Other(format!("not an SSE data event: {event:?}"));
            };
            if done {
                return Seen::Truncated(format!("an event after [DONE]: {data}"));
            }
            if data == "[DONE]" {
                done = true;
                continue;
            }
            let Ok(chunk) = serde_json::from_str::<Value>(data) else {
                return Seen::Truncated(format!("an event that does not parse: {data}"));
            };
            if chunk.get("error").is_some() {
                return Seen::Other(format!("an error event: {data}"));
            }
            let choice = &chunk["choices"][0];
            if let Some(delta) = choice["delta"]["content"].as_str() {
                text.push_str(delta);
                if !delta.is_empty() {
                    streaming.output();
                }
            }
            finished |= choice["finish_reason"].is_string();
        }
    }
    match (finished, done, buffer.is_empty()) {
        (true, true, true) => Seen::Complete(text),
        _ => Seen::Truncated(format!(
            "a stream that ended cleanly: finish_reason {finished}, [DONE] {done}, \
             left over {buffer:?}, text {text:?}"
        )),
    }
}

/// A `VqaStream` call: complete only when its last message is `finished` and the status OK.
async fn grpc_stream(
    mut client: VqaClient,
    request: pb::VqaRequest,
    counter: &AtomicUsize,
) -> Seen {
    let mut stream = match client.vqa_stream(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => return grpc_failure(status, false),
    };
    let mut streaming = Streaming {
        counter,
        counted: false,
    };
    let (mut text, mut finished) = (String::new(), false);
    while let Some(message) = stream.next().await {
        match message {
            Ok(delta) if finished => {
                return Seen::Truncated(format!("a message after the finished one: {delta:?}"));
            }
            Ok(delta) => {
                if !delta.text.is_empty() {
                    streaming.output();
                }
                text.push_str(&delta.text);
                finished = delta.finished;
            }
            Err(status) => return grpc_failure(status, streaming.counted || !text.is_empty()),
        }
    }
    if finished {
        Seen::Complete(text)
    } else {
        Seen::Truncated(format!(
            "a stream that ended OK without its finished message: {text:?}"
        ))
    }
}

fn grpc_failure(status: tonic::Status, after_output: bool) -> Seen {
    use std::error::Error;
    let detail = format!("{status:?}");
    // A status the server sent has no source; one tonic made from a failed connection or a cut
    // HTTP/2 stream carries the transport's error.
    let from_transport = status.source().is_some();
    let class = match status.code() {
        tonic::Code::Unavailable if !from_transport && !after_output => return Seen::Unavailable,
        tonic::Code::Unavailable if from_transport => Transport::GrpcUnavailable,
        tonic::Code::Unknown | tonic::Code::Internal if from_transport => Transport::GrpcCut,
        _ => return Seen::Other(detail),
    };
    Seen::Transport {
        class,
        after_output,
        detail,
    }
}

/// A gRPC client over a channel that connects on first use and again after a failure, so that
/// a call while nobody listens fails with UNAVAILABLE instead of the client failing to build.
fn lazy_client(address: &str) -> VqaClient {
    let channel = Channel::from_shared(address.to_owned())
        .expect("uri")
        .connect_timeout(Duration::from_secs(5))
        .connect_lazy();
    InferenceClient::new(channel).max_decoding_message_size(64 << 20)
}
