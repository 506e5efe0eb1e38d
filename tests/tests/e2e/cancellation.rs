//! Cancellation (as Triton's L0_request_cancellation): a client that drops its HTTP connection or
//! cancels its gRPC call mid-caption has its decoding stop within one step, and one whose work
//! still waits in a queue has it dropped before it is batched; `mplug2_dropped_items_total
//! {reason="cancelled"}` counts both.

use std::{io::Write, net::TcpStream};

use mplug2_e2e_tests::{
    Server, ServerOptions,
    goldens::Goldens,
    metrics::{Scraped, scrape, until},
    rest::Rest,
};
use mplug2_proto::v1 as pb;
use serde_json::{Value, json};

/// Decoding steps of the long captions: enough to be cancelled mid-way while polling metrics.
const STEPS: u32 = 150;

fn long_caption(goldens: &Goldens) -> Value {
    goldens
        .media("frames_20")
        .json_body(json!({ "beam_size": 10, "min_length": STEPS, "max_length": STEPS }))
}

fn decoder(scraped: &Scraped, metric: &str) -> f64 {
    scraped.value(metric, &[("module", "decoder")])
}

fn cancelled(scraped: &Scraped) -> f64 {
    scraped.value(
        "mplug2_dropped_items_total",
        &[("module", "decoder"), ("reason", "cancelled")],
    )
}

/// Requests beyond the first in the decoder's steps so far: items minus steps.
fn extra_items(scraped: &Scraped) -> f64 {
    decoder(scraped, "mplug2_module_items_total")
        - decoder(scraped, "mplug2_module_executions_total")
}

/// Sends a REST request over a raw connection that the caller can close at will.
fn send_raw(server: &Server, path: &str, body: &Value) -> TcpStream {
    let address = server.http.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    let body = serde_json::to_vec(body).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(&body).expect("write");
    stream
}

#[tokio::test]
async fn a_client_leaving_mid_caption_leaves_the_decoder_batch_within_a_step() {
    let max_length = STEPS.to_string();
    let server = Server::ready(ServerOptions::args(&["--max-decode-length", &max_length])).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let long = long_caption(&goldens);

    // A stays to the end; it decodes alone at first.
    let kept = {
        let (client, url, body) = (rest.client().clone(), rest.url("/v1/caption"), long.clone());
        tokio::spawn(async move { client.post(url).json(&body).send().await })
    };
    let before = scrape(&rest).await;
    until(&rest, "the kept caption decoding", |s| {
        decoder(s, "mplug2_module_executions_total")
            >= decoder(&before, "mplug2_module_executions_total") + 3.0
    })
    .await;

    for protocol in ["http", "grpc"] {
        // B joins the steps, then its client leaves.
        let joined_from = extra_items(&scrape(&rest).await);
        let leaving: Box<dyn FnOnce()> = match protocol {
            "http" => {
                let connection = send_raw(&server, "/v1/caption", &long);
                Box::new(move || drop(connection))
            }
            _ => {
                let mut grpc = server.grpc_client().await;
                let media = goldens.media("frames_20");
                let call = tokio::spawn(async move {
                    grpc.caption(pb::CaptionRequest {
                        media: Some(media.proto()),
                        decoding: Some(pb::DecodeOptions {
                            beam_size: Some(10),
                            min_length: Some(STEPS),
                            max_length: Some(STEPS),
                        }),
                        ..Default::default()
                    })
                    .await
                });
                Box::new(move || call.abort())
            }
        };
        until(&rest, "the leaving caption in the steps", |s| {
            extra_items(s) >= joined_from + 2.0
        })
        .await;
        let cancelled_before = cancelled(&scrape(&rest).await);
        leaving();
        let dropped = until(&rest, "the cancelled caption dropped", |s| {
            cancelled(s) >= cancelled_before + 1.0
        })
        .await;
        assert_eq!(cancelled(&dropped), cancelled_before + 1.0, "{protocol}");

        // From the next step on, the kept caption decodes alone again.
        let (extra, steps) = (
            extra_items(&dropped),
            decoder(&dropped, "mplug2_module_executions_total"),
        );
        let later = until(&rest, "three more steps", |s| {
            decoder(s, "mplug2_module_executions_total") >= steps + 3.0
        })
        .await;
        assert_eq!(
            extra_items(&later),
            extra,
            "{protocol}: the decoder kept carrying the cancelled caption"
        );
    }
    assert!(
        !kept.is_finished(),
        "the kept caption ended before the test was done: raise STEPS"
    );
    let response = kept.await.unwrap().expect("the kept caption");
    assert_eq!(
        response.status(),
        200,
        "the caption that stayed is answered"
    );
    let caption: Value = response.json().await.unwrap();
    assert!(caption["caption"].as_str().is_some_and(|c| !c.is_empty()));
}

#[tokio::test]
async fn work_cancelled_while_queued_is_dropped_before_it_is_batched() {
    let max_length = STEPS.to_string();
    let server = Server::ready(ServerOptions::args(&[
        "--decoder-max-batch-size",
        "1",
        "--max-decode-length",
        &max_length,
    ]))
    .await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let long = long_caption(&goldens);
    let blocker = {
        let (client, url, body) = (rest.client().clone(), rest.url("/v1/caption"), long.clone());
        tokio::spawn(async move { client.post(url).json(&body).send().await })
    };
    until(&rest, "the long caption decoding", |s| {
        decoder(s, "mplug2_module_executions_total") >= 3.0
    })
    .await;

    // One REST and one gRPC caption wait behind it; both clients leave.
    let connection = send_raw(
        &server,
        "/v1/caption",
        &goldens.media("image_97x131").json_body(json!({})),
    );
    let mut grpc = server.grpc_client().await;
    let media = goldens.media("image_97x131");
    let call = tokio::spawn(async move {
        grpc.caption(pb::CaptionRequest {
            media: Some(media.proto()),
            decoding: None,
            ..Default::default()
        })
        .await
    });
    until(&rest, "two captions queued for the decoder", |s| {
        s.value("mplug2_queue_depth", &[("module", "decoder")]) >= 2.0
    })
    .await;
    drop(connection);
    call.abort();
    until(&rest, "both queued captions dropped", |s| {
        cancelled(s) >= 2.0
    })
    .await;

    let response = blocker.await.unwrap().expect("the long caption");
    assert_eq!(response.status(), 200);
    let scraped = scrape(&rest).await;
    assert_eq!(cancelled(&scraped), 2.0);
    assert_eq!(
        scraped.count("mplug2_queue_duration_seconds", &[("module", "decoder")]),
        1.0,
        "a cancelled caption joined the decoder"
    );
    assert_eq!(
        scraped.value("mplug2_queue_depth", &[("module", "decoder")]),
        0.0
    );
}
