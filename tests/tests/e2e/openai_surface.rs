//! The OpenAI-shaped parts that need no generation: `/v1/models`, embeddings' `dimensions` and
//! `usage`, the timing headers, rerank (equal to the match scores, best first) and per-request
//! frame sampling (equal to sending the sampled frames).

use mplug2_e2e_tests::{
    Server, ServerOptions, frames_20_video,
    goldens::{Goldens, assert_close},
    media::TestMedia,
    rest::{Rest, floats},
};
use mplug2_model::preprocess::middle_indices;
use mplug2_proto::v1 as pb;
use serde_json::{Value, json};

#[tokio::test]
async fn models_are_listed_in_openais_shape() {
    let server = Server::ready(ServerOptions::default()).await;
    let rest = Rest::new(&server);
    let (status, body) = rest.get("/v1/models").await;
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["object"], "list");
    let model = &list["data"][0];
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            model["id"].as_str(),
            model["object"].as_str(),
            model["owned_by"].as_str()
        ),
        (Some("mplug2-demo"), Some("model"), Some("mplug2-serve"))
    );
    assert!(
        model["created"].as_u64().unwrap() > 1_600_000_000,
        "{model}"
    );
    let (status, one) = rest.get("/v1/models/mplug2-demo").await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&one).unwrap(), *model);
    let (status, missing) = rest.get("/v1/models/gpt-4").await;
    let missing: Value = serde_json::from_str(&missing).unwrap();
    assert_eq!(status, 404);
    let message = missing["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("gpt-4") && message.contains("mplug2-demo"),
        "{message}"
    );
}

#[tokio::test]
async fn task_answers_carry_timing_headers_on_rest_and_grpc() {
    let server = Server::ready(ServerOptions::default()).await;
    let rest = Rest::new(&server);
    let goldens = Goldens::load();
    let body = goldens.media("image_97x131").json_body(json!({}));
    let response = rest
        .client()
        .post(rest.url("/v1/caption"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| -> u64 {
        response.headers()[name]
            .to_str()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("{name} is not a number of milliseconds"))
    };
    assert!(header("x-total-time") >= 1, "a caption takes some time");
    assert!(header("x-compute-time") >= 1, "and some of it in modules");
    let _queue = header("x-queue-time");
    assert!(response.headers().contains_key("x-request-id"));
    let mut grpc = server.grpc_client().await;
    let answer = grpc
        .caption(pb::CaptionRequest {
            media: Some(goldens.media("image_97x131").proto()),
            ..Default::default()
        })
        .await
        .unwrap();
    for name in [
        "x-queue-time",
        "x-compute-time",
        "x-total-time",
        "x-request-id",
    ] {
        assert!(answer.metadata().contains_key(name), "gRPC metadata {name}");
    }
}

#[tokio::test]
async fn embeddings_take_dimensions_and_report_usage() {
    let server = Server::ready(ServerOptions::default()).await;
    let rest = Rest::new(&server);
    let plain = json!({ "input": ["a dog runs in the park"], "user": "someone" });
    let (status, answer) = rest.post("/v1/embeddings", &plain).await;
    assert_eq!(status, 200, "{answer}");
    let width = answer["data"][0]["embedding"].as_array().unwrap().len();
    let usage = &answer["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() >= 6, "{usage}");
    assert_eq!(usage["total_tokens"], usage["prompt_tokens"]);
    let same = json!({ "input": ["a dog runs in the park"], "dimensions": width });
    let (status, with_width) = rest.post("/v1/embeddings", &same).await;
    assert_eq!(status, 200, "{with_width}");
    assert_eq!(with_width["data"], answer["data"]);
    let (status, refused) = rest
        .post(
            "/v1/embeddings",
            &json!({ "input": "a dog", "dimensions": 128 }),
        )
        .await;
    let message = refused["error"]["message"].as_str().unwrap();
    assert_eq!(status, 400, "{refused}");
    assert!(
        message.contains("`dimensions`")
            && message.contains("128")
            && message.contains(&width.to_string()),
        "{message}"
    );
    let media_only = json!({ "input": [goldens_image()] });
    let (status, media) = rest.post("/v1/embeddings", &media_only).await;
    assert_eq!(
        (status, media["usage"]["prompt_tokens"].as_u64()),
        (200, Some(0))
    );
}

fn goldens_image() -> Value {
    Value::Object(Goldens::load().media("image_480x270").json_fields())
}

#[tokio::test]
async fn rerank_orders_as_the_match_scores_over_rest_and_grpc() {
    let server = Server::ready(ServerOptions::default()).await;
    let rest = Rest::new(&server);
    let goldens = Goldens::load();
    let golden = &goldens.matches()[0];
    let medium = goldens.media(&golden.media);
    // A medium query ranks texts: the order of /v1/match's scores.
    let (status, matched) = rest
        .post(
            "/v1/match",
            &medium.json_body(json!({ "texts": golden.texts })),
        )
        .await;
    assert_eq!(status, 200);
    let scores = floats(&matched["scores"]);
    let mut expected: Vec<usize> = (0..scores.len()).collect();
    expected.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let query = Value::Object(medium.json_fields());
    let body = json!({ "query": query, "documents": golden.texts, "return_documents": true });
    for path in ["/v1/rerank", "/rerank"] {
        let (status, ranked) = rest.post(path, &body).await;
        assert_eq!(status, 200, "{ranked}");
        let results = ranked["results"].as_array().unwrap();
        let order: Vec<usize> = results
            .iter()
            .map(|r| r["index"].as_u64().unwrap() as usize)
            .collect();
        assert_eq!(order, expected);
        for result in results {
            let index = result["index"].as_u64().unwrap() as usize;
            let score = result["relevance_score"].as_f64().unwrap() as f32;
            assert_close("rerank score", &[score], &[scores[index]]);
            assert_eq!(result["document"]["text"], golden.texts[index]);
        }
        assert_eq!(ranked["model"], "mplug2-demo");
    }
    // A text query ranks media: each score is that medium's match with the text.
    let names = ["image_480x270", "frames_20", "image_97x131"];
    let text = &golden.texts[1];
    let mut media_scores = Vec::new();
    for name in names {
        let (_, one) = rest
            .post(
                "/v1/match",
                &goldens.media(name).json_body(json!({ "texts": [text] })),
            )
            .await;
        media_scores.push(floats(&one["scores"])[0]);
    }
    let documents: Vec<Value> = names
        .iter()
        .map(|name| Value::Object(goldens.media(name).json_fields()))
        .collect();
    let (status, ranked) = rest
        .post(
            "/v1/rerank",
            &json!({ "query": text, "documents": documents, "top_n": 2 }),
        )
        .await;
    assert_eq!(status, 200, "{ranked}");
    let results = ranked["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let mut best: Vec<usize> = (0..names.len()).collect();
    best.sort_by(|&a, &b| media_scores[b].total_cmp(&media_scores[a]));
    for (result, want) in results.iter().zip(&best) {
        assert_eq!(result["index"].as_u64(), Some(*want as u64));
        assert!(result.get("document").is_none());
    }
    // gRPC answers the same.
    let mut grpc = server.grpc_client().await;
    let answer = grpc
        .rerank(pb::RerankRequest {
            query: Some(pb::RerankDocument {
                kind: Some(pb::rerank_document::Kind::Media(medium.proto())),
            }),
            documents: golden
                .texts
                .iter()
                .map(|t| pb::RerankDocument {
                    kind: Some(pb::rerank_document::Kind::Text(t.clone())),
                })
                .collect(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let order: Vec<usize> = answer.results.iter().map(|r| r.index as usize).collect();
    assert_eq!(order, expected);
    // Documents of the query's own kind are refused, naming the document.
    let (status, refused) = rest
        .post(
            "/v1/rerank",
            &json!({ "query": "a dog", "documents": ["a cat"] }),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("documents[0]")
    );
}

#[tokio::test]
async fn num_frames_samples_a_video_as_sending_those_frames() {
    let server = Server::ready(ServerOptions::default()).await;
    let rest = Rest::new(&server);
    let goldens = Goldens::load();
    let TestMedia::Frames(all) = goldens.files("frames_20") else {
        panic!("frames_20 is a frame list")
    };
    let picked: Vec<Vec<u8>> = middle_indices(8, all.len())
        .into_iter()
        .map(|i| all[i].clone())
        .collect();
    let video = TestMedia::Video(frames_20_video());
    let embed = |medium: &TestMedia, extra: Value| {
        let mut item = Value::Object(medium.json_fields());
        let mut body = json!({ "input": [item.take()] });
        if let Value::Object(extra) = extra {
            body.as_object_mut().unwrap().extend(extra);
        }
        body
    };
    let (status, sampled) = rest
        .post("/v1/embeddings", &embed(&video, json!({ "num_frames": 8 })))
        .await;
    assert_eq!(status, 200, "{sampled}");
    let (_, sent) = rest
        .post(
            "/v1/embeddings",
            &embed(
                &TestMedia::Frames(picked.clone()),
                json!({ "num_frames": 8 }),
            ),
        )
        .await;
    let sampled = floats(&sampled["data"][0]["embedding"]);
    assert_close(
        "video at 8 frames",
        &sampled,
        &floats(&sent["data"][0]["embedding"]),
    );
    let (_, default) = rest.post("/v1/embeddings", &embed(&video, json!({}))).await;
    assert_ne!(
        floats(&default["data"][0]["embedding"]),
        sampled,
        "the package samples 16"
    );
    // The caption route takes it too, and so does gRPC.
    let (_, caption) = rest
        .post("/v1/caption", &video.json_body(json!({ "num_frames": 8 })))
        .await;
    let (_, frames_caption) = rest
        .post(
            "/v1/caption",
            &TestMedia::Frames(picked).json_body(json!({ "num_frames": 8 })),
        )
        .await;
    assert_eq!(caption["caption"], frames_caption["caption"]);
    let mut grpc = server.grpc_client().await;
    let answer = grpc
        .caption(pb::CaptionRequest {
            media: Some(video.proto()),
            num_frames: Some(8),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(Some(answer.caption.as_str()), caption["caption"].as_str());
    // 0 and over --max-frames are refused, naming the field and the value.
    for value in [0, 65] {
        let (status, refused) = rest
            .post(
                "/v1/caption",
                &video.json_body(json!({ "num_frames": value })),
            )
            .await;
        let message = refused["error"]["message"].as_str().unwrap();
        assert_eq!(status, 400, "{refused}");
        assert!(
            message.contains("num_frames") && message.contains(&value.to_string()),
            "{message}"
        );
        let status = grpc
            .caption(pb::CaptionRequest {
                media: Some(video.proto()),
                num_frames: Some(value),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
    }
}
