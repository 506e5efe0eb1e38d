//! Every row of the error table (ARCHITECTURE.md §5), over HTTP and over gRPC, with its status,
//! code, error type and a message naming the limit and the value.

use std::time::Duration;

use futures::future::join_all;
use mplug2_e2e_tests::{
    Server, ServerOptions,
    errors::{assert_grpc_error, assert_http_error},
    frames_20_video,
    goldens::Goldens,
    media::TestMedia,
    package::PackageCopy,
    rest::Rest,
    workspace_root,
};
use mplug2_proto::v1 as pb;
use serde_json::json;
use tonic::{Code, Request};

fn caption_request(media: &TestMedia) -> pb::CaptionRequest {
    pb::CaptionRequest {
        media: Some(media.proto()),
        decoding: None,
        ..Default::default()
    }
}

fn vqa_request(media: &TestMedia, question: &str) -> pb::VqaRequest {
    pb::VqaRequest {
        media: Some(media.proto()),
        question: question.into(),
        decoding: None,
        ..Default::default()
    }
}

/// A tiny BMP (2×2, 24-bit): a real image format the server does not serve.
fn bmp() -> Vec<u8> {
    let mut file = b"BM".to_vec();
    let pixels = [0u8; 16]; // 2 rows × (2 × 3 bytes + 2 padding)
    let size = 14 + 40 + pixels.len() as u32;
    file.extend(size.to_le_bytes());
    file.extend([0u8; 4]);
    file.extend(54u32.to_le_bytes());
    file.extend(40u32.to_le_bytes());
    file.extend(2i32.to_le_bytes());
    file.extend(2i32.to_le_bytes());
    file.extend(1u16.to_le_bytes());
    file.extend(24u16.to_le_bytes());
    file.extend([0u8; 24]);
    file.extend(pixels);
    file
}

#[tokio::test]
async fn invalid_requests_are_400_and_invalid_argument() {
    let server = Server::ready(ServerOptions::default()).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let image = goldens.media("image_97x131");
    let http = rest.client();
    let malformed = http
        .post(rest.url("/v1/vqa"))
        .header("content-type", "application/json")
        .body("{\"question\": ")
        .send()
        .await
        .unwrap();
    let status = malformed.status().as_u16();
    let body: serde_json::Value = malformed.json().await.unwrap();
    let message = assert_http_error(&(status, body), 400, "invalid_request");
    assert!(message.contains("not a JSON object"), "{message}");
    let message = assert_http_error(
        &rest.post("/v1/caption", &json!({ "image": "%%%" })).await,
        400,
        "invalid_request",
    );
    assert!(message.contains("base64"), "{message}");
    // A PNG cut short: the format is served, the bytes do not decode.
    let junk = match goldens.media("image_97x131") {
        TestMedia::Image(png) => TestMedia::Image(png[..200].to_vec()),
        other => panic!("not an image: {other:?}"),
    };
    assert_http_error(
        &rest.post("/v1/caption", &junk.json_body(json!({}))).await,
        400,
        "invalid_request",
    );
    let message = assert_http_error(
        &rest
            .post("/v1/vqa", &image.json_body(json!({ "question": "  " })))
            .await,
        400,
        "invalid_request",
    );
    assert!(message.contains("question"), "{message}");
    let message = assert_http_error(
        &rest
            .post("/v1/caption", &image.json_body(json!({ "beams": 3 })))
            .await,
        400,
        "invalid_request",
    );
    assert_eq!(message, "unknown field `beams`");
    let message = assert_http_error(
        &rest
            .post("/v1/caption", &image.json_body(json!({ "beam_size": 11 })))
            .await,
        400,
        "invalid_request",
    );
    assert!(
        message.contains("--max-beam-size") && message.contains("11"),
        "{message}"
    );
    assert_http_error(
        &rest.post("/v1/embeddings", &json!({ "input": [] })).await,
        400,
        "invalid_request",
    );

    let mut grpc = server.grpc_client().await;
    let message = assert_grpc_error(
        grpc.caption(pb::CaptionRequest {
            media: None,
            decoding: None,
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
    );
    assert!(message.contains("media"), "{message}");
    assert_grpc_error(
        grpc.caption(caption_request(&junk)).await,
        Code::InvalidArgument,
    );
    assert_grpc_error(
        grpc.vqa(vqa_request(&image, "")).await,
        Code::InvalidArgument,
    );
    assert_grpc_error(
        grpc.embed(pb::EmbedRequest {
            inputs: vec![],
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
    );
}

#[tokio::test]
async fn payloads_over_a_limit_are_413_and_invalid_argument() {
    let limits = [
        "--max-body-bytes",
        "200000",
        "--max-image-pixels",
        "10000",
        "--max-frames",
        "8",
        "--max-question-chars",
        "40",
        "--max-video-bytes",
        "10000",
        "--max-inputs",
        "3",
    ];
    let server = Server::ready(ServerOptions::args(&limits)).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let large = goldens.media("image_480x270"); // 129 600 pixels
    let small = goldens.media("image_97x131"); // 12 707 pixels, also over 10 000
    let frames = goldens.media("frames_20");
    let video = TestMedia::Video(frames_20_video());
    let long_question = "why ".repeat(20);

    let video_bytes = frames_20_video().len().to_string();
    let cases = [
        (
            "/v1/caption",
            json!({ "image": "A".repeat(300_000) }),
            vec!["--max-body-bytes", "200000"],
        ),
        (
            "/v1/caption",
            small.json_body(json!({})),
            vec![
                "image pixels is 12707, over the limit of 10000",
                "--max-image-pixels",
            ],
        ),
        (
            "/v1/caption",
            frames.json_body(json!({})),
            vec!["--max-frames", "20"],
        ),
        (
            "/v1/caption",
            video.json_body(json!({})),
            vec!["--max-video-bytes", video_bytes.as_str()],
        ),
        (
            "/v1/vqa",
            small.json_body(json!({ "question": long_question })),
            vec!["--max-question-chars", "80 characters"],
        ),
        (
            "/v1/embeddings",
            json!({ "input": ["a", "b", "c", "d"] }),
            vec!["--max-inputs", "4 items"],
        ),
    ];
    for (path, body, needles) in cases {
        let message = assert_http_error(&rest.post(path, &body).await, 413, "payload_too_large");
        assert!(
            needles.iter().all(|needle| message.contains(needle)),
            "{path}: {message}"
        );
    }

    let mut grpc = server.grpc_client().await;
    let oversized = TestMedia::Image(vec![7u8; 300_000]);
    for (media, flag) in [
        (&large, "--max-image-pixels"),
        (&frames, "--max-frames"),
        (&video, "--max-video-bytes"),
        (&oversized, "--max-body-bytes"),
    ] {
        let message = assert_grpc_error(
            grpc.caption(caption_request(media)).await,
            Code::InvalidArgument,
        );
        assert!(message.contains(flag), "{message}");
    }
    let message = assert_grpc_error(
        grpc.vqa(vqa_request(&small, &long_question)).await,
        Code::InvalidArgument,
    );
    assert!(message.contains("--max-question-chars"), "{message}");
}

#[tokio::test]
async fn unserved_media_types_are_415_and_invalid_argument() {
    let server = Server::ready(ServerOptions::default()).await;
    let rest = Rest::new(&server);
    let http = rest.client();
    let response = http
        .post(rest.url("/v1/caption"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    let answer = (response.status().as_u16(), response.json().await.unwrap());
    let message = assert_http_error(&answer, 415, "unsupported_media_type");
    assert!(message.contains("text/plain"), "{message}");
    let bitmap = TestMedia::Image(bmp());
    let message = assert_http_error(
        &rest.post("/v1/caption", &bitmap.json_body(json!({}))).await,
        415,
        "unsupported_media_type",
    );
    let mut grpc = server.grpc_client().await;
    let grpc_message = assert_grpc_error(
        grpc.caption(caption_request(&bitmap)).await,
        Code::InvalidArgument,
    );
    assert_eq!(message, grpc_message);
}

#[tokio::test]
async fn a_package_without_the_heads_answers_unsupported_task() {
    let package =
        PackageCopy::of_demo().without_graphs(&["heads_vision", "heads_text", "heads_itm"]);
    let server = Server::ready(ServerOptions {
        model_dir: Some(package.path()),
        ..ServerOptions::default()
    })
    .await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let image = goldens.media("image_97x131");
    let message = assert_http_error(
        &rest
            .post("/v1/embeddings", &json!({ "input": "a dog" }))
            .await,
        501,
        "unsupported_task",
    );
    assert!(message.contains("embed_text"), "{message}");
    assert_http_error(
        &rest
            .post("/v1/match", &image.json_body(json!({ "texts": ["a"] })))
            .await,
        501,
        "unsupported_task",
    );
    assert_http_error(
        &rest
            .post("/v1/classify", &image.json_body(json!({ "labels": ["a"] })))
            .await,
        501,
        "unsupported_task",
    );
    let (status, _) = rest.post("/v1/caption", &image.json_body(json!({}))).await;
    assert_eq!(status, 200, "the tasks whose graphs are present still run");

    let mut grpc = server.grpc_client().await;
    let request = pb::MatchRequest {
        media: Some(image.proto()),
        texts: vec!["a".into()],
        ..Default::default()
    };
    assert_grpc_error(grpc.r#match(request).await, Code::Unimplemented);
    let request = pb::EmbedRequest {
        inputs: vec![image.embed_input()],
        ..Default::default()
    };
    assert_grpc_error(grpc.embed(request).await, Code::Unimplemented);
    let info = grpc.info(pb::InfoRequest {}).await.unwrap().into_inner();
    assert_eq!(info.tasks, ["caption", "vqa"]);
}

#[tokio::test]
async fn beyond_the_admission_limit_is_429_with_retry_after_and_resource_exhausted() {
    let server = Server::ready(ServerOptions::args(&[
        "--max-concurrent-requests",
        "1",
        "--retry-after-s",
        "2",
    ]))
    .await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let body = goldens.media("frames_20").json_body(json!({}));
    // Concurrent requests against one slot: at least one is refused at once. Rounds are bounded.
    let mut refused = None;
    for _ in 0..50 {
        let answers = join_all((0..6).map(|_| {
            rest.client()
                .post(rest.url("/v1/caption"))
                .json(&body)
                .send()
        }))
        .await;
        for response in answers {
            let response = response.unwrap();
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: serde_json::Value = response.json().await.unwrap();
            assert!(status == 200 || status == 429, "{status}: {body}");
            if status == 429 {
                refused = Some((retry_after, body));
            }
        }
        if refused.is_some() {
            break;
        }
    }
    let (retry_after, body) =
        refused.expect("6 concurrent requests never exceeded one slot in 50 rounds");
    assert_eq!(retry_after.as_deref(), Some("2"));
    let message = assert_http_error(&(429, body), 429, "overloaded");
    assert!(
        message.contains("--max-concurrent-requests") && message.contains('1'),
        "{message}"
    );

    let frames = goldens.media("frames_20");
    let mut clients = Vec::new();
    for _ in 0..6 {
        clients.push(server.grpc_client().await);
    }
    let mut status = None;
    for _ in 0..50 {
        let calls = clients
            .iter_mut()
            .map(|grpc| grpc.caption(caption_request(&frames)));
        status = join_all(calls).await.into_iter().find_map(Result::err);
        if status.is_some() {
            break;
        }
    }
    let status = status.expect("6 concurrent gRPC calls never exceeded one slot in 50 rounds");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(status.metadata().get("retry-after").unwrap(), "2");
}

#[tokio::test]
async fn a_passed_deadline_is_504_and_deadline_exceeded() {
    let server = Server::ready(ServerOptions::default()).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let video = TestMedia::Video(frames_20_video());
    let response = rest
        .client()
        .post(rest.url("/v1/caption"))
        .header("x-request-timeout-ms", "1")
        .json(&video.json_body(json!({})))
        .send()
        .await
        .unwrap();
    let answer = (response.status().as_u16(), response.json().await.unwrap());
    let message = assert_http_error(&answer, 504, "timeout");
    assert!(message.contains("deadline"), "{message}");

    // tonic's own client would give up by itself (CANCELLED) before the server answers.
    let mut grpc = server.deadline_blind_client();
    let mut request = Request::new(caption_request(&goldens.media("frames_20")));
    request.set_timeout(Duration::from_millis(1));
    assert_grpc_error(grpc.caption(request).await, Code::DeadlineExceeded);
    // The server is fine afterwards.
    assert_eq!(
        rest.post("/v1/caption", &video.json_body(json!({})))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn while_warming_up_requests_are_503_and_unavailable() {
    let server = Server::start(ServerOptions::args(&["--warmup-runs", "400"])).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let image = goldens.media("image_97x131");
    let message = assert_http_error(
        &rest.post("/v1/caption", &image.json_body(json!({}))).await,
        503,
        "unavailable",
    );
    assert!(message.contains("warming up"), "{message}");
    let mut grpc = server.grpc_client().await;
    assert_grpc_error(
        grpc.caption(caption_request(&image)).await,
        Code::Unavailable,
    );
    server.wait_ready().await;
    assert_eq!(
        rest.post("/v1/caption", &image.json_body(json!({})))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn with_an_api_key_requests_without_it_are_401_and_unauthenticated() {
    let server = Server::ready(ServerOptions::args(&["--api-key", "s3cret"])).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let body = goldens.media("image_97x131").json_body(json!({}));
    let message = assert_http_error(&rest.post("/v1/caption", &body).await, 401, "unauthorized");
    assert!(message.contains("Authorization: Bearer"), "{message}");
    let post = |header: &'static str, value: &'static str| {
        rest.client()
            .post(rest.url("/v1/caption"))
            .header(header, value)
            .json(&body)
            .send()
    };
    let wrong = post("authorization", "Bearer nope").await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        post("authorization", "Bearer s3cret")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(post("x-api-key", "s3cret").await.unwrap().status(), 200);
    for open in [
        "/health/live",
        "/health/ready",
        "/metrics",
        "/info",
        "/docs",
    ] {
        assert_eq!(rest.get(open).await.0, 200, "{open} must not need the key");
    }

    let mut grpc = server.grpc_client().await;
    let image = goldens.media("image_97x131");
    assert_grpc_error(
        grpc.caption(caption_request(&image)).await,
        Code::Unauthenticated,
    );
    let mut request = Request::new(caption_request(&image));
    request
        .metadata_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    assert!(grpc.caption(request).await.is_ok());
}

#[tokio::test]
async fn a_graph_failing_at_request_time_is_500_and_internal() {
    let failing = workspace_root().join("tests/fixtures/failing_heads_itm.onnx");
    let package = PackageCopy::of_demo().with_graph("heads_itm", &failing);
    let server = Server::ready(ServerOptions {
        model_dir: Some(package.path()),
        ..ServerOptions::default()
    })
    .await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let image = goldens.media("image_97x131");
    let message = assert_http_error(
        &rest
            .post("/v1/match", &image.json_body(json!({ "texts": ["a dog"] })))
            .await,
        500,
        "internal",
    );
    assert!(message.contains("request id"), "{message}");
    assert!(
        !message.contains("Reshape"),
        "internal details must stay in the log: {message}"
    );
    let mut grpc = server.grpc_client().await;
    let request = pb::MatchRequest {
        media: Some(image.proto()),
        texts: vec!["a dog".into()],
        ..Default::default()
    };
    assert_grpc_error(grpc.r#match(request).await, Code::Internal);
    let log = server.log();
    assert!(
        log.contains("internal error") && log.contains("Reshape"),
        "the log must hold the cause"
    );
    // The other tasks are unaffected.
    assert_eq!(
        rest.post("/v1/caption", &image.json_body(json!({})))
            .await
            .0,
        200
    );
}
