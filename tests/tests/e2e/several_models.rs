//! Several packages in one server: the demo and a second demo package (other random weights,
//! fine-tuned for VQA). Each route answers from the right package by default and by `model`,
//! equal to that package's own goldens; batches never mix packages; an unknown `model` is
//! refused with the list; `/v1/models`, `/info` and gRPC `Info` list both; metrics carry `model`.
//! An int8 package beside the fp32 demo is listed as int8 and answers within the int8 bar.

use mplug2_e2e_tests::{
    Server, ServerOptions, demo_vqa_package,
    goldens::{Goldens, assert_close},
    metrics::scrape,
    rest::{Rest, floats},
};
use mplug2_proto::v1 as pb;
use serde_json::{Value, json};

const DEMO: &str = "mplug2-demo";
const VQA: &str = "mplug2-demo-vqa";
const INT8: &str = "mplug2-demo-int8";

async fn two_packages() -> Server {
    let second = demo_vqa_package();
    assert!(
        second.join("manifest.json").exists(),
        "make models/demo-vqa/manifest.json first (make test-rust does)"
    );
    Server::ready(ServerOptions::args(&[
        "--model-dir",
        second.to_str().unwrap(),
    ]))
    .await
}

async fn grpc_info(server: &Server) -> pb::InfoResponse {
    let mut client = server.grpc_client().await;
    client.info(pb::InfoRequest {}).await.unwrap().into_inner()
}

fn vqa_body(
    goldens: &Goldens,
    golden: &mplug2_e2e_tests::goldens::Vqa,
    model: Option<&str>,
) -> Value {
    let mut extra = json!({
        "question": golden.question,
        "beam_size": golden.params.beam_size,
        "min_length": golden.params.min_length,
        "max_length": golden.params.max_length,
    });
    if let Some(model) = model {
        extra["model"] = json!(model);
    }
    goldens.media(&golden.media).json_body(extra)
}

#[tokio::test]
async fn each_route_answers_from_its_package_by_default_and_by_model() {
    let server = two_packages().await;
    let rest = Rest::new(&server);
    let (demo, second) = (Goldens::load(), Goldens::load_from(&demo_vqa_package()));
    // VQA goes to the package fine-tuned for it, unless `model` names the other.
    for (golden, other) in second.vqa().iter().zip(demo.vqa()) {
        let (status, answer) = rest.post("/v1/vqa", &vqa_body(&second, golden, None)).await;
        assert_eq!(
            (status, answer["answer"].as_str()),
            (200, Some(golden.answer.as_str()))
        );
        let (_, answer) = rest
            .post("/v1/vqa", &vqa_body(&demo, &other, Some(DEMO)))
            .await;
        assert_eq!(answer["answer"].as_str(), Some(other.answer.as_str()));
    }
    // Caption: neither is fine-tuned for it, the first package answers; `model` picks the other.
    for (golden, other) in demo.captions().iter().zip(second.captions()) {
        let (status, answer) = rest
            .post("/v1/caption", &golden.rest_body(&demo.media(&golden.media)))
            .await;
        assert_eq!(
            (status, answer["caption"].as_str()),
            (200, Some(golden.text.as_str()))
        );
        let mut body = other.rest_body(&second.media(&other.media));
        body["model"] = json!(VQA);
        let (_, answer) = rest.post("/v1/caption", &body).await;
        assert_eq!(answer["caption"].as_str(), Some(other.text.as_str()));
    }
    // Embeddings of each package equal its own goldens.
    for (goldens, model) in [(&demo, DEMO), (&second, VQA)] {
        for (name, expected) in goldens.media_embeddings().into_iter().take(2) {
            let item = Value::Object(goldens.media(&name).json_fields());
            let (status, answer) = rest
                .post(
                    "/v1/embeddings",
                    &json!({ "input": [item], "model": model }),
                )
                .await;
            assert_eq!(status, 200, "{answer}");
            assert_close(&name, &floats(&answer["data"][0]["embedding"]), &expected);
            assert_eq!(answer["model"], model);
        }
    }
    // gRPC picks by its `model` field too.
    let mut grpc = server.grpc_client().await;
    let golden = &demo.vqa()[0];
    let answer = grpc
        .vqa(pb::VqaRequest {
            media: Some(demo.media(&golden.media).proto()),
            question: golden.question.clone(),
            decoding: Some(pb::DecodeOptions {
                beam_size: Some(golden.params.beam_size),
                min_length: Some(golden.params.min_length),
                max_length: Some(golden.params.max_length),
            }),
            model: DEMO.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.answer, golden.answer);
}

#[tokio::test]
async fn unknown_models_are_refused_with_the_list_and_both_are_listed() {
    let server = two_packages().await;
    let rest = Rest::new(&server);
    let goldens = Goldens::load();
    let body = goldens
        .media("image_97x131")
        .json_body(json!({ "model": "gpt-4o" }));
    let (status, refused) = rest.post("/v1/caption", &body).await;
    let message = refused["error"]["message"].as_str().unwrap();
    assert_eq!(status, 400, "{refused}");
    assert!(
        message.contains("gpt-4o") && message.contains(DEMO) && message.contains(VQA),
        "{message}"
    );
    let (_, models) = rest.get("/v1/models").await;
    let models: Value = serde_json::from_str(&models).unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(ids, [DEMO, VQA]);
    // Extensions: what picking a package needs (tasks, fine-tuning, dtype, provider).
    let second = &models["data"][1];
    assert_eq!(second["finetuned_for"], "vqa");
    assert_eq!(
        (second["dtype"].as_str(), second["provider"].as_str()),
        (Some("fp32"), Some("cpu"))
    );
    let tasks: Vec<&str> = second["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        tasks.contains(&"vqa") && tasks.contains(&"caption") && tasks.contains(&"match"),
        "{tasks:?}"
    );
    let (_, info) = rest.get("/info").await;
    let info: Value = serde_json::from_str(&info).unwrap();
    let packages = info["models"].as_array().unwrap();
    assert_eq!(packages.len(), 2);
    assert_eq!(packages[1]["finetuned_for"], "vqa");
    assert!(
        packages
            .iter()
            .all(|p| p["weight_bytes"].as_u64().unwrap() > 1_000_000)
    );
    let grpc_info = grpc_info(&server).await;
    let names: Vec<&str> = grpc_info.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, [DEMO, VQA]);
}

#[tokio::test]
async fn batches_never_mix_packages_and_metrics_carry_the_model() {
    let server = two_packages().await;
    let (demo, second) = (Goldens::load(), Goldens::load_from(&demo_vqa_package()));
    // Every golden of both packages at once: had any batch mixed their items, some answer
    // would be the other package's.
    let mut cases = Vec::new();
    for (goldens, model) in [(&demo, DEMO), (&second, VQA)] {
        for golden in goldens.vqa() {
            cases.push((
                vqa_body(goldens, &golden, Some(model)),
                golden.answer.clone(),
                model,
            ));
        }
    }
    let answers = futures::future::join_all(cases.iter().map(|(body, _, _)| {
        let rest = Rest::new(&server);
        async move { rest.post("/v1/vqa", body).await }
    }))
    .await;
    for ((_, expected, model), (status, answer)) in cases.iter().zip(answers) {
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["answer"].as_str(),
            Some(expected.as_str()),
            "{model}"
        );
    }
    let scraped = scrape(&Rest::new(&server)).await;
    for (goldens, model) in [(&demo, DEMO), (&second, VQA)] {
        let labels = [("task", "vqa"), ("code", "ok"), ("model", model)];
        let expected = goldens.vqa().len() as f64;
        assert_eq!(
            scraped.value("mplug2_requests_total", &labels),
            expected,
            "{model}"
        );
        let decoder = [("module", "decoder"), ("model", model)];
        assert!(scraped.value("mplug2_module_items_total", &decoder) >= expected);
    }
}

#[tokio::test]
async fn packages_over_the_weight_budget_or_with_one_name_refuse_to_start() {
    let second = demo_vqa_package();
    let second = second.to_str().unwrap();
    // The two demo packages hold a few MB of weights each: a 1 MB budget cannot hold them.
    let (status, log) = Server::refused(ServerOptions::args(&[
        "--model-dir",
        second,
        "--max-model-bytes",
        "1000000",
    ]))
    .await;
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("over the limit of 1000000 (--max-model-bytes)")
            && log.contains(DEMO)
            && log.contains(VQA),
        "{log}"
    );
    // Names pick packages: the same package twice is refused.
    let demo = mplug2_e2e_tests::demo_package();
    let (status, log) = Server::refused(ServerOptions::args(&[
        "--model-dir",
        demo.to_str().unwrap(),
    ]))
    .await;
    assert!(!status.success(), "{log}");
    assert!(
        log.contains(&format!("two packages are named `{DEMO}`")),
        "{log}"
    );
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// The demo quantized to int8 (models/demo-int8, `make demo-int8`) beside the fp32 demo: `/info`
/// and gRPC `Info` say which package is int8, and its retrieval embeddings stay within the int8
/// bar (cosine >= 0.99, docs/PERFORMANCE.md "int8 packages") of the fp32 goldens.
#[tokio::test]
async fn an_int8_package_says_int8_and_stays_within_its_bar() {
    let int8 = mplug2_e2e_tests::workspace_root().join("models/demo-int8");
    assert!(
        int8.join("manifest.json").exists(),
        "make demo-int8 first (make test-rust does)"
    );
    let server = Server::ready(ServerOptions::args(&[
        "--model-dir",
        int8.to_str().unwrap(),
    ]))
    .await;
    let rest = Rest::new(&server);
    let (_, info) = rest.get("/info").await;
    let info: Value = serde_json::from_str(&info).unwrap();
    let dtypes: Vec<(&str, &str)> = info["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["dtype"].as_str().unwrap()))
        .collect();
    assert_eq!(dtypes, [(DEMO, "fp32"), (INT8, "int8")]);
    let grpc_info = grpc_info(&server).await;
    let dtypes: Vec<(&str, &str)> = grpc_info
        .models
        .iter()
        .map(|m| (m.name.as_str(), m.dtype.as_str()))
        .collect();
    assert_eq!(dtypes, [(DEMO, "fp32"), (INT8, "int8")]);
    let goldens = Goldens::load();
    let mut cosines = Vec::new();
    for (name, expected) in goldens.media_embeddings().into_iter().take(2) {
        let item = Value::Object(goldens.media(&name).json_fields());
        let body = json!({ "input": [item], "model": INT8 });
        let (status, answer) = rest.post("/v1/embeddings", &body).await;
        assert_eq!(
            (status, answer["model"].as_str()),
            (200, Some(INT8)),
            "{answer}"
        );
        cosines.push((
            name,
            cosine(&floats(&answer["data"][0]["embedding"]), &expected),
        ));
    }
    for (text, expected) in goldens.text_embeddings().into_iter().take(2) {
        let body = json!({ "input": [text.clone()], "model": INT8 });
        let (status, answer) = rest.post("/v1/embeddings", &body).await;
        assert_eq!(status, 200, "{answer}");
        cosines.push((
            text,
            cosine(&floats(&answer["data"][0]["embedding"]), &expected),
        ));
    }
    for (what, cos) in &cosines {
        assert!(*cos >= 0.99, "{what}: cosine {cos}");
    }
    assert!(
        cosines.iter().any(|(_, cos)| *cos < 0.999_999),
        "int8 answers equal fp32 ones: did the int8 package answer?"
    );
}
