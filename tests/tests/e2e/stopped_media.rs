//! Cancellation and deadlines reach media work already running: a video decode stops between
//! frames once its request's deadline passes or its client leaves (REST connection closed, gRPC
//! call cancelled), and a media URL fetch stops (its connection to the media host is closed) the
//! same way; `mplug2_dropped_items_total{module="media_decode"|"media_fetch"}` counts each stop.
//! A count proves a stop part-way: it is only made when the work saw the stop before its end.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use base64::Engine;
use mplug2_e2e_tests::{
    Server, ServerOptions,
    errors::{assert_grpc_error, assert_http_error},
    metrics::{Scraped, until},
    rest::Rest,
    server::LOOPBACK_MEDIA_URLS,
};
use mplug2_proto::v1 as pb;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tonic::{Code, Request};

/// Frames of the long video: about a second of decoding here, far longer than the deadline.
const FRAMES: u32 = 3000;
const SHORT_MS: u64 = 300;
const PATIENCE: Duration = Duration::from_secs(60);

/// A 640×480 H.264 clip of `FRAMES` frames, made once per test binary by the ffmpeg command line.
fn long_video() -> &'static [u8] {
    static VIDEO: OnceLock<Vec<u8>> = OnceLock::new();
    VIDEO.get_or_init(|| {
        let dir = mplug2_e2e_tests::server::TempDir::new();
        let path = dir.path().join("long.mp4");
        let status = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"])
            .args(["-i", "testsrc2=size=640x480:rate=25", "-frames:v"])
            .arg(FRAMES.to_string())
            .args(["-c:v", "libx264", "-preset", "ultrafast", "-crf", "45"])
            .args(["-pix_fmt", "yuv420p"])
            .arg(&path)
            .status()
            .expect("the ffmpeg command line (scripts/system-packages.sh installs it)");
        assert!(status.success(), "ffmpeg failed");
        std::fs::read(path).expect("the long video")
    })
}

fn dropped(scraped: &Scraped, module: &str, reason: &str) -> f64 {
    scraped.value(
        "mplug2_dropped_items_total",
        &[("module", module), ("reason", reason)],
    )
}

/// Sends a JSON request over a raw connection that the test closes at will.
async fn send_raw(server: &Server, path: &str, body: &Value) -> TcpStream {
    let address = server.http.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let body = serde_json::to_vec(body).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(&body).await.expect("write");
    stream
}

fn vqa_message(video: &[u8]) -> pb::VqaRequest {
    pb::VqaRequest {
        media: Some(pb::Media {
            kind: Some(pb::media::Kind::Video(video.to_vec())),
        }),
        question: "what is shown?".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_video_decode_stops_between_frames_once_its_request_expires_or_is_cancelled() {
    let video = long_video();
    let server = Server::ready(ServerOptions::args(&[])).await;
    let rest = Rest::new(&server);
    let decode = |s: &Scraped, reason| dropped(s, "media_decode", reason);

    // A short gRPC deadline: the server answers DEADLINE_EXCEEDED and the decode stops.
    let mut request = Request::new(vqa_message(video));
    request.set_timeout(Duration::from_millis(SHORT_MS));
    let answer = server.deadline_blind_client().vqa(request).await;
    let message = assert_grpc_error(answer, Code::DeadlineExceeded);
    assert!(
        message.contains(&format!("deadline of {SHORT_MS} ms")),
        "{message}"
    );
    until(&rest, "the expired decode stopped", |s| {
        decode(s, "deadline") == 1.0
    })
    .await;

    // A REST client leaves while its video decodes: the connection is closed once the request
    // runs (admitted, in flight), and the decode stops.
    let body = json!({
        "video": base64::engine::general_purpose::STANDARD.encode(video),
        "question": "what is shown?",
    });
    let connection = send_raw(&server, "/v1/vqa", &body).await;
    until(&rest, "the REST request running", |s| {
        s.value("mplug2_inflight_requests", &[]) >= 1.0
    })
    .await;
    drop(connection);
    until(&rest, "the REST decode stopped", |s| {
        decode(s, "cancelled") == 1.0
    })
    .await;

    // A gRPC client cancels its call the same way.
    let mut grpc = server.grpc_client().await;
    let call = tokio::spawn(async move { grpc.vqa(vqa_message(video)).await });
    until(&rest, "the gRPC request running", |s| {
        s.value("mplug2_inflight_requests", &[]) >= 1.0
    })
    .await;
    call.abort();
    let stopped = until(&rest, "the gRPC decode stopped", |s| {
        decode(s, "cancelled") == 2.0
    })
    .await;
    assert_eq!(decode(&stopped, "deadline"), 1.0);
    until(&rest, "nothing in flight", |s| {
        s.value("mplug2_inflight_requests", &[]) == 0.0
    })
    .await;
}

/// A media host that never answers: it counts the fetches that reach it and the connections
/// the server closes while it waits (the fetch dropped).
async fn silent_media_host(reached: Arc<AtomicUsize>, closed: Arc<AtomicUsize>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (reached, closed) = (Arc::clone(&reached), Arc::clone(&closed));
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 4096];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                reached.fetch_add(1, Ordering::SeqCst);
                // No answer: wait for the server to close the connection.
                while let Ok(n) = stream.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                }
                closed.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    port
}

/// Polls a counter until it reaches `value`, within a bound.
async fn until_count(counter: &AtomicUsize, value: usize, what: &str) {
    let deadline = Instant::now() + PATIENCE;
    while counter.load(Ordering::SeqCst) < value {
        assert!(Instant::now() < deadline, "never saw: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_media_fetch_stops_once_its_request_is_cancelled_or_expires() {
    let (reached, closed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let port = silent_media_host(Arc::clone(&reached), Arc::clone(&closed)).await;
    // One fetch slot: a fetch that did not stop would refuse the next request (429).
    let server = Server::ready(ServerOptions::args(
        &[
            LOOPBACK_MEDIA_URLS.as_slice(),
            &["--max-concurrent-fetches", "1"],
        ]
        .concat(),
    ))
    .await;
    let rest = Rest::new(&server);
    let fetch = |s: &Scraped, reason| dropped(s, "media_fetch", reason);
    let body = json!({ "image_url": format!("http://localhost:{port}/image.png") });

    // The client leaves while the fetch waits for the host: the server closes that connection.
    let connection = send_raw(&server, "/v1/caption", &body).await;
    until_count(&reached, 1, "the fetch reaching the host").await;
    drop(connection);
    until_count(&closed, 1, "the fetch's connection closed").await;
    until(&rest, "the cancelled fetch counted", |s| {
        fetch(s, "cancelled") == 1.0
    })
    .await;

    // A short deadline ends the next fetch (its slot was freed) long before the fetch timeout.
    let answer = rest
        .client()
        .post(rest.url("/v1/caption"))
        .header("x-request-timeout-ms", SHORT_MS.to_string())
        .json(&body)
        .send()
        .await
        .expect("an answer");
    let answer = (answer.status().as_u16(), answer.json().await.unwrap());
    let message = assert_http_error(&answer, 504, "timeout");
    assert!(
        message.contains("`image_url`: the request's deadline passed while the media was fetched"),
        "{message}"
    );
    until_count(&closed, 2, "the expired fetch's connection closed").await;
    let counted = until(&rest, "the expired fetch counted", |s| {
        fetch(s, "deadline") == 1.0
    })
    .await;
    assert_eq!(
        (fetch(&counted, "cancelled"), reached.load(Ordering::SeqCst)),
        (1.0, 2)
    );
}
