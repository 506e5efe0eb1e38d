//! Deadlines (as Triton's L0_client_timeout / L0_model_queue): a per-request deadline from the
//! `x-request-timeout-ms` header or from gRPC's `grpc-timeout` answers `timeout` (504 /
//! DEADLINE_EXCEEDED), and work whose deadline passed while it waited in a queue never runs: the
//! batcher drops it, as `mplug2_dropped_items_total{reason="deadline"}` shows.

use std::time::Duration;

use mplug2_e2e_tests::{
    Server, ServerOptions,
    errors::{assert_grpc_error, assert_http_error},
    goldens::Goldens,
    metrics::scrape,
    rest::Rest,
};
use mplug2_proto::v1 as pb;
use serde_json::json;
use tonic::{Code, Request};

/// The client deadline of the requests that wait behind the long caption.
const SHORT_MS: u64 = 400;

#[tokio::test]
async fn requests_past_their_deadline_answer_timeout_and_never_run() {
    // One request at a time in the decoder, so that a long caption makes the others queue there.
    let server = Server::ready(ServerOptions::args(&[
        "--decoder-max-batch-size",
        "1",
        "--max-decode-length",
        "100",
    ]))
    .await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let image = goldens.media("image_97x131");
    let long = goldens
        .media("frames_20")
        .json_body(json!({ "beam_size": 10, "min_length": 100, "max_length": 100 }));
    let dropped = |scraped: &mplug2_e2e_tests::metrics::Scraped| {
        scraped.value(
            "mplug2_dropped_items_total",
            &[("module", "decoder"), ("reason", "deadline")],
        )
    };
    let executions = |scraped: &mplug2_e2e_tests::metrics::Scraped| {
        scraped.value("mplug2_module_executions_total", &[("module", "decoder")])
    };
    assert_eq!(dropped(&scrape(&rest).await), 0.0);

    // The long caption occupies the decoder (polled until its steps run, bounded).
    let blocker = {
        let (client, url) = (rest.client().clone(), rest.url("/v1/caption"));
        let long = long.clone();
        tokio::spawn(async move { client.post(url).json(&long).send().await })
    };
    let started = scrape(&rest).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while executions(&scrape(&rest).await) < executions(&started) + 5.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the long caption never ran"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Two REST and two gRPC captions with a short deadline queue behind it.
    let timeout = SHORT_MS.to_string();
    let rest_calls = (0..2).map(|_| {
        rest.client()
            .post(rest.url("/v1/caption"))
            .header("x-request-timeout-ms", &timeout)
            .json(&image.json_body(json!({})))
            .send()
    });
    let grpc_calls = (0..2).map(|_| {
        // tonic's own client would give up by itself (CANCELLED) before the server answers.
        let mut grpc = server.deadline_blind_client();
        let mut request = Request::new(pb::CaptionRequest {
            media: Some(image.proto()),
            decoding: None,
            ..Default::default()
        });
        request.set_timeout(Duration::from_millis(SHORT_MS));
        async move { grpc.caption(request).await }
    });
    let (rest_answers, grpc_answers) = tokio::join!(
        futures::future::join_all(rest_calls),
        futures::future::join_all(grpc_calls)
    );
    for response in rest_answers {
        let response = response.expect("request");
        let answer = (response.status().as_u16(), response.json().await.unwrap());
        // Whichever notices first answers: the shared layer (naming the budget) or the decoder's
        // queue (naming the module).
        let message = assert_http_error(&answer, 504, "timeout");
        assert!(
            message.contains(&format!("deadline of {SHORT_MS} ms"))
                || message.contains("deadline passed while it waited for the decoder"),
            "{message}"
        );
    }
    for answer in grpc_answers {
        let message = assert_grpc_error(answer, Code::DeadlineExceeded);
        assert!(message.contains("deadline"), "{message}");
    }
    assert!(
        !blocker.is_finished(),
        "the long caption ended before the short deadlines passed: the test proved nothing"
    );

    // Each of the four is dropped from the decoder's queue once the running step ends, never
    // run: only the long caption ever joined the decoder's steps.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let scraped = scrape(&rest).await;
        if dropped(&scraped) >= 4.0 {
            assert_eq!(dropped(&scraped), 4.0);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the expired work was never dropped"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let response = blocker.await.unwrap().expect("the long caption");
    assert_eq!(response.status(), 200);
    let scraped = scrape(&rest).await;
    assert_eq!(
        scraped.count("mplug2_queue_duration_seconds", &[("module", "decoder")]),
        1.0,
        "a request other than the long caption joined the decoder: expired work ran"
    );

    // The server's default (--request-timeout-ms) applies when it is the smaller.
    let strict = Server::ready(ServerOptions::args(&[
        "--request-timeout-ms",
        "1",
        "--max-decode-length",
        "100",
    ]))
    .await;
    let message = assert_http_error(
        &Rest::new(&strict).post("/v1/caption", &long).await,
        504,
        "timeout",
    );
    assert!(message.contains("1 ms"), "{message}");
}
