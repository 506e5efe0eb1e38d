//! Exact bounds: many requests arriving at once (a barrier) never hold more than a bound's slots.
//! `--max-pending-requests`: connections whose bodies have not arrived hold their intake slots,
//! so exactly the bound's number are held and every other one is refused at once.
//! `--max-concurrent-fetches`: media URL fetches stalled by the media host hold their slots, so
//! exactly the bound's number reach the host and every other request is refused at once, with a
//! message naming the flag, the limit and the value. Then the held requests finish with their
//! golden caption. (The module queue bound is shown the same way, with a barrier of threads, in
//! the scheduler's unit tests: `simultaneous_senders_never_overshoot_the_queue_bound`.)

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Router, body::Bytes, routing::get};
use mplug2_e2e_tests::{
    Server, ServerOptions, errors::assert_http_error, goldens::Goldens, media::TestMedia,
    rest::Rest, server::LOOPBACK_MEDIA_URLS,
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::{Barrier, mpsc, watch},
};

/// Requests sent at once, and the bound they meet.
const ARRIVALS: usize = 16;
const BOUND: usize = 4;
/// How long the refusals may take to come back before the test gives up (a hang, not a timing
/// assertion: they come back at once).
const PATIENCE: Duration = Duration::from_secs(60);

/// What one connection saw: refused before its body was sent, or answered after it was.
enum Seen {
    Refused(u16, String),
    Answered(u16, String),
}

/// Reads a whole `Connection: close` answer: its status and body.
async fn read_answer(stream: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read the answer");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    (status, body.to_owned())
}

#[tokio::test]
async fn simultaneous_arrivals_hold_exactly_the_pending_bound() {
    let server = Server::ready(ServerOptions::args(&[
        "--max-pending-requests",
        &BOUND.to_string(),
    ]))
    .await;
    let goldens = Goldens::load();
    let golden = goldens.caption_of("image_97x131");
    let body =
        Arc::new(serde_json::to_vec(&golden.rest_body(&goldens.media(&golden.media))).unwrap());
    let address = server.http.trim_start_matches("http://").to_owned();
    let barrier = Arc::new(Barrier::new(ARRIVALS));
    let (go, _) = watch::channel(false);
    let (refusals, mut refused) = mpsc::unbounded_channel();
    let connections: Vec<_> = (0..ARRIVALS)
        .map(|_| {
            let (address, body, barrier) =
                (address.clone(), Arc::clone(&body), Arc::clone(&barrier));
            let (mut go, refusals) = (go.subscribe(), refusals.clone());
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(&address).await.expect("connect");
                let head = format!(
                    "POST /v1/caption HTTP/1.1\r\nHost: {address}\r\nContent-Type: \
                     application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                barrier.wait().await;
                stream.write_all(head.as_bytes()).await.expect("write");
                // An answer before the body is sent is a refusal; the others wait for `go`.
                let mut first = [0u8; 1];
                let refused = tokio::select! {
                    peeked = stream.peek(&mut first) => {
                        peeked.expect("peek");
                        true
                    }
                    _ = go.wait_for(|go| *go) => false,
                };
                if refused {
                    let (status, answer) = read_answer(&mut stream).await;
                    let _ = refusals.send(());
                    return Seen::Refused(status, answer);
                }
                stream.write_all(&body).await.expect("write the body");
                let (status, answer) = read_answer(&mut stream).await;
                Seen::Answered(status, answer)
            })
        })
        .collect();
    for _ in BOUND..ARRIVALS {
        tokio::time::timeout(PATIENCE, refused.recv())
            .await
            .expect("every arrival beyond the bound is refused at once");
    }
    go.send_replace(true);
    let (mut answered, mut refusals) = (0, 0);
    for connection in connections {
        match connection.await.unwrap() {
            Seen::Refused(status, body) => {
                let body: Value = serde_json::from_str(&body).expect("a JSON error");
                let message = assert_http_error(&(status, body), 429, "overloaded");
                assert!(
                    message.contains(&format!("(--max-pending-requests) is {BOUND}")),
                    "{message}"
                );
                refusals += 1;
            }
            Seen::Answered(status, body) => {
                let body: Value = serde_json::from_str(&body).expect("a JSON answer");
                assert_eq!(
                    (status, &body["caption"]),
                    (200, &json!(golden.text)),
                    "{body}"
                );
                answered += 1;
            }
        }
    }
    assert_eq!((answered, refusals), (BOUND, ARRIVALS - BOUND));
}

/// A media host whose `/image.png` counts each fetch that reaches it and answers only once the
/// gate opens.
async fn gated_media_host(
    png: Vec<u8>,
    reached: Arc<AtomicUsize>,
    gate: watch::Receiver<bool>,
) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let png = Bytes::from(png);
    let app = Router::new().route(
        "/image.png",
        get(move || {
            let (png, reached, mut gate) = (png.clone(), Arc::clone(&reached), gate.clone());
            async move {
                reached.fetch_add(1, Ordering::SeqCst);
                let _ = gate.wait_for(|open| *open).await;
                png
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

#[tokio::test]
async fn simultaneous_fetches_beyond_the_bound_are_refused_at_once() {
    let goldens = Goldens::load();
    let golden = goldens.caption_of("image_97x131");
    let TestMedia::Image(png) = goldens.media(&golden.media) else {
        unreachable!("an image golden")
    };
    let reached = Arc::new(AtomicUsize::new(0));
    let (gate, gated) = watch::channel(false);
    let port = gated_media_host(png, Arc::clone(&reached), gated).await;
    let server = Server::ready(ServerOptions::args(
        &[
            LOOPBACK_MEDIA_URLS.as_slice(),
            &["--max-concurrent-fetches", &BOUND.to_string()],
        ]
        .concat(),
    ))
    .await;
    let rest = Arc::new(Rest::fresh_connections(&server));
    // The bound is shown where every limit is: /info and gRPC Info.
    let (_, info) = rest.get("/info").await;
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["limits"]["max_concurrent_fetches"], BOUND);
    let grpc_info = server
        .grpc_client()
        .await
        .info(mplug2_proto::v1::InfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        grpc_info.limits.unwrap().max_concurrent_fetches,
        BOUND as u32
    );
    let body = Arc::new(json!({
        "image_url": format!("http://localhost:{port}/image.png"),
        "beam_size": golden.params.beam_size,
        "min_length": golden.params.min_length,
        "max_length": golden.params.max_length,
    }));
    let barrier = Arc::new(Barrier::new(ARRIVALS));
    let (answers, mut answered) = mpsc::unbounded_channel();
    for _ in 0..ARRIVALS {
        let (rest, body, barrier, answers) = (
            Arc::clone(&rest),
            Arc::clone(&body),
            Arc::clone(&barrier),
            answers.clone(),
        );
        tokio::spawn(async move {
            barrier.wait().await;
            let _ = answers.send(rest.post("/v1/caption", &body).await);
        });
    }
    // The refusals come back while the gate is shut: nothing else can.
    for _ in BOUND..ARRIVALS {
        let answer = tokio::time::timeout(PATIENCE, answered.recv())
            .await
            .expect("every request beyond the bound is refused at once")
            .expect("an answer");
        let message = assert_http_error(&answer, 429, "overloaded");
        assert!(
            message.contains(&format!(
                "{BOUND} media URL fetches are under way, the limit (--max-concurrent-fetches) is {BOUND}"
            )) && message.contains("image_url"),
            "{message}"
        );
    }
    gate.send_replace(true);
    for _ in 0..BOUND {
        let (status, answer) = answered.recv().await.expect("an answer");
        assert_eq!(
            (status, &answer["caption"]),
            (200, &json!(golden.text)),
            "{answer}"
        );
    }
    assert_eq!(
        reached.load(Ordering::SeqCst),
        BOUND,
        "only the admitted fetches reached the host"
    );
}
