//! `/metrics` parses with a Prometheus parser, passes `promtool check metrics`, holds every
//! contract name, and its counters equal the requests sent.

use mplug2_e2e_tests::{
    Server, ServerOptions,
    goldens::Goldens,
    metrics::{CONTRACT, promtool_check, scrape},
    rest::Rest,
};
use mplug2_proto::v1 as pb;
use serde_json::json;

#[tokio::test]
async fn counters_equal_the_requests_sent_and_promtool_accepts_the_text() {
    // Cache off: vision items below count every medium sent (tests/tests/e2e/vision_cache.rs
    // covers the cache's counters).
    let server = Server::ready(ServerOptions::args(&["--vision-cache-bytes", "0"])).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let mut grpc = server.grpc_client().await;
    let caption = goldens
        .captions()
        .into_iter()
        .find(|c| c.media == "frames_20" && c.params.beam_size == 5)
        .unwrap();
    let image = goldens.media("image_480x270");

    // Before any request, every contract metric is already exposed (with no samples yet for
    // the labelled ones, but with its TYPE line).
    let before = scrape(&rest).await;
    for name in CONTRACT {
        assert!(before.has_type(name), "{name} is missing");
    }

    // 3 captions over HTTP, 2 VQA over gRPC, 4 embeddings (5 inputs: 2 texts, 3 images) over
    // HTTP, 1 match over gRPC, 2 classify over HTTP, and 3 refused requests.
    for _ in 0..3 {
        let (status, _) = rest
            .post(
                "/v1/caption",
                &goldens.media("frames_20").json_body(json!({})),
            )
            .await;
        assert_eq!(status, 200);
    }
    for _ in 0..2 {
        let request = pb::VqaRequest {
            media: Some(image.proto()),
            question: "what is it?".into(),
            decoding: None,
            ..Default::default()
        };
        grpc.vqa(request).await.expect("Vqa");
    }
    let image_item = serde_json::Value::Object(image.json_fields());
    for input in [
        json!("a dog"),
        json!(["a cat", image_item.clone()]),
        json!([image_item.clone()]),
        json!([image_item]),
    ] {
        let (status, _) = rest
            .post("/v1/embeddings", &json!({ "input": input }))
            .await;
        assert_eq!(status, 200);
    }
    let request = pb::MatchRequest {
        media: Some(image.proto()),
        texts: vec!["a".into(), "b".into(), "c".into()],
        ..Default::default()
    };
    grpc.r#match(request).await.expect("Match");
    for _ in 0..2 {
        let (status, _) = rest
            .post(
                "/v1/classify",
                &image.json_body(json!({ "labels": ["dog", "cat"] })),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, _) = rest.post("/v1/vqa", &image.json_body(json!({}))).await; // no question
    assert_eq!(status, 400);
    let (status, _) = rest
        .post("/v1/caption", &json!({ "image": "not base64!" }))
        .await;
    assert_eq!(status, 400);
    let refused = grpc
        .caption(pb::CaptionRequest {
            media: None,
            decoding: None,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);

    let after = scrape(&rest).await;
    let requests = |task, protocol, code| {
        after.value(
            "mplug2_requests_total",
            &[("task", task), ("protocol", protocol), ("code", code)],
        )
    };
    assert_eq!(requests("caption", "http", "ok"), 3.0);
    assert_eq!(requests("vqa", "grpc", "ok"), 2.0);
    assert_eq!(requests("embeddings", "http", "ok"), 4.0);
    assert_eq!(requests("match", "grpc", "ok"), 1.0);
    assert_eq!(requests("classify", "http", "ok"), 2.0);
    assert_eq!(requests("vqa", "http", "invalid_request"), 1.0);
    assert_eq!(requests("caption", "http", "invalid_request"), 1.0);
    assert_eq!(requests("caption", "grpc", "invalid_request"), 1.0);
    assert_eq!(
        after.value("mplug2_requests_total", &[]),
        15.0,
        "every request counted once"
    );
    for (task, ok) in [
        ("caption", 3.0),
        ("vqa", 2.0),
        ("embeddings", 4.0),
        ("match", 1.0),
        ("classify", 2.0),
    ] {
        assert_eq!(
            after.count("mplug2_request_duration_seconds", &[("task", task)]),
            ok,
            "{task} durations"
        );
    }

    // Items per module: vision runs one item per medium, text one per text, fusion and the ITM
    // head one per (VQA question | match text), the decoder one per caption / answer.
    let items = |module| after.value("mplug2_module_items_total", &[("module", module)]);
    assert_eq!(items("vision"), 3.0 + 2.0 + 3.0 + 1.0 + 2.0);
    assert_eq!(items("text"), 2.0 + 2.0 + 3.0 + 2.0 * 2.0);
    assert_eq!(items("fusion"), 2.0 + 3.0);
    assert_eq!(items("heads"), 5.0 + 3.0 + 2.0 * 3.0);
    for module in ["vision", "text", "fusion", "heads"] {
        let executions = after.value("mplug2_module_executions_total", &[("module", module)]);
        assert_eq!(
            after.count("mplug2_batch_size", &[("module", module)]),
            executions,
            "{module}"
        );
        assert_eq!(
            after.value("mplug2_batch_size_sum", &[("module", module)]),
            items(module),
            "{module}"
        );
        assert_eq!(
            after.count("mplug2_queue_duration_seconds", &[("module", module)]),
            items(module),
            "{module}"
        );
        assert_eq!(
            after.count("mplug2_module_duration_seconds", &[("module", module)]),
            executions,
            "{module}"
        );
        assert_eq!(
            after.value("mplug2_queue_depth", &[("module", module)]),
            0.0,
            "{module}"
        );
    }
    // Each caption generated the golden's tokens (BOS excluded).
    let per_caption = (caption.tokens.len() - 1) as f64;
    // Each caption took one decoder step per generated token, each step counting the request.
    assert!(items("decoder") >= 3.0 * per_caption, "decoder steps");
    assert_eq!(
        after.value("mplug2_generated_tokens_total", &[("task", "caption")]),
        3.0 * per_caption
    );
    assert_eq!(after.value("mplug2_inflight_requests", &[]), 0.0);
    assert_eq!(after.value("mplug2_ready", &[]), 1.0);
    assert_eq!(
        after.value(
            "mplug2_info",
            &[("model", "mplug2-demo"), ("provider", "cpu")]
        ),
        1.0
    );

    promtool_check(&after.text);
}
