//! Every REST task route, in JSON and in multipart, answers what the exporter's PyTorch goldens
//! say: caption and answer strings exactly, embeddings and scores within the fp32 tolerance.

use mplug2_e2e_tests::{
    Server, ServerOptions, frames_20_video,
    goldens::{Goldens, assert_close, in_label_order},
    media::TestMedia,
    rest::{Rest, floats},
};
use serde_json::{Value, json};

fn decoding(params: &mplug2_e2e_tests::goldens::DecodeParams) -> Value {
    json!({ "beam_size": params.beam_size, "min_length": params.min_length, "max_length": params.max_length })
}

#[tokio::test]
async fn captions_equal_the_goldens() {
    let server = Server::ready(ServerOptions::default()).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    for golden in goldens.captions() {
        let body = goldens
            .media(&golden.media)
            .json_body(decoding(&golden.params));
        let (status, answer) = rest.post("/v1/caption", &body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["caption"], golden.text,
            "caption of {} with {:?}",
            golden.media, golden.params
        );
    }
    // The same medium as a multipart upload, and the frames as a (lossless) video.
    let golden = goldens
        .captions()
        .into_iter()
        .find(|c| c.media == "frames_20" && c.params.beam_size == 5)
        .unwrap();
    let (status, answer) = rest
        .post_form("/v1/caption", goldens.media("frames_20").multipart())
        .await;
    assert_eq!(
        (status, answer["caption"].as_str()),
        (200, Some(golden.text.as_str()))
    );
    let video = TestMedia::Video(frames_20_video());
    let (status, answer) = rest.post("/v1/caption", &video.json_body(json!({}))).await;
    assert_eq!(
        (status, answer["caption"].as_str()),
        (200, Some(golden.text.as_str()))
    );
}

#[tokio::test]
async fn answers_equal_the_goldens() {
    let server = Server::ready(ServerOptions::default()).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    for golden in goldens.vqa() {
        let mut extra = decoding(&golden.params);
        extra["question"] = json!(golden.question);
        let (status, answer) = rest
            .post("/v1/vqa", &goldens.media(&golden.media).json_body(extra))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["answer"], golden.answer,
            "answer for {} / {:?}",
            golden.media, golden.question
        );
    }
    let golden = &goldens.vqa()[0];
    let form = goldens
        .media(&golden.media)
        .multipart()
        .text("question", golden.question.clone())
        .text("beam_size", golden.params.beam_size.to_string());
    let (status, answer) = rest.post_form("/v1/vqa", form).await;
    assert_eq!(
        (status, answer["answer"].as_str()),
        (200, Some(golden.answer.as_str()))
    );
    let on_video = goldens
        .vqa()
        .into_iter()
        .find(|v| v.media == "frames_20" && v.params.beam_size == 5)
        .unwrap();
    let body =
        TestMedia::Video(frames_20_video()).json_body(json!({ "question": on_video.question }));
    let (status, answer) = rest.post("/v1/vqa", &body).await;
    assert_eq!(
        (status, answer["answer"].as_str()),
        (200, Some(on_video.answer.as_str()))
    );
}

#[tokio::test]
async fn embeddings_equal_the_goldens_in_the_openai_shape() {
    let server = Server::ready(ServerOptions::default()).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let texts = goldens.text_embeddings();
    let media = goldens.media_embeddings();
    // One mixed request: every text, then every medium as an item.
    let mut input: Vec<Value> = texts.iter().map(|(text, _)| json!(text)).collect();
    input.extend(
        media
            .iter()
            .map(|(name, _)| Value::Object(goldens.media(name).json_fields())),
    );
    let (status, answer) = rest
        .post("/v1/embeddings", &json!({ "input": input, "model": "any" }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["object"], "list");
    assert_eq!(answer["model"], "mplug2-demo");
    let data = answer["data"].as_array().unwrap();
    assert_eq!(data.len(), texts.len() + media.len());
    let expected = texts.iter().chain(&media);
    for (index, (item, (name, embedding))) in data.iter().zip(expected).enumerate() {
        assert_eq!(
            (item["object"].as_str(), item["index"].as_u64()),
            (Some("embedding"), Some(index as u64))
        );
        assert_close(
            &format!("embedding of {name}"),
            &floats(&item["embedding"]),
            embedding,
        );
    }
    // A single string, and multipart parts in order.
    let (status, answer) = rest
        .post("/v1/embeddings", &json!({ "input": texts[3].0 }))
        .await;
    assert_eq!(status, 200);
    assert_close(
        "single text",
        &floats(&answer["data"][0]["embedding"]),
        &texts[3].1,
    );
    let form = reqwest::multipart::Form::new()
        .text("input", texts[0].0.clone())
        .part(
            "image",
            reqwest::multipart::Part::bytes(image_bytes(&goldens, &media[1].0)).file_name("a.png"),
        );
    let (status, answer) = rest.post_form("/v1/embeddings", form).await;
    assert_eq!(status, 200, "{answer}");
    assert_close(
        "multipart text",
        &floats(&answer["data"][0]["embedding"]),
        &texts[0].1,
    );
    assert_close(
        "multipart image",
        &floats(&answer["data"][1]["embedding"]),
        &media[1].1,
    );
}

fn image_bytes(goldens: &Goldens, name: &str) -> Vec<u8> {
    match goldens.media(name) {
        TestMedia::Image(bytes) => bytes,
        other => panic!("{name} is not an image: {other:?}"),
    }
}

#[tokio::test]
async fn match_and_classify_scores_equal_the_goldens() {
    let server = Server::ready(ServerOptions::default()).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    for golden in goldens.matches() {
        let body = goldens
            .media(&golden.media)
            .json_body(json!({ "texts": golden.texts }));
        let (status, answer) = rest.post("/v1/match", &body).await;
        assert_eq!(status, 200, "{answer}");
        assert_close(
            &format!("match scores of {}", golden.media),
            &floats(&answer["scores"]),
            &golden.scores,
        );
    }
    for golden in goldens.classifications() {
        let form = golden
            .texts
            .iter()
            .fold(goldens.media(&golden.media).multipart(), |form, label| {
                form.text("labels", label.clone())
            });
        let (status, answer) = rest.post_form("/v1/classify", form).await;
        assert_eq!(status, 200, "{answer}");
        let ranked = answer["labels"].as_array().unwrap();
        assert_eq!(ranked.len(), golden.texts.len());
        let scores: Vec<f32> = ranked
            .iter()
            .map(|l| l["score"].as_f64().unwrap() as f32)
            .collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "not best first: {scores:?}"
        );
        let ranked: Vec<(String, f32)> = ranked
            .iter()
            .map(|l| {
                (
                    l["label"].as_str().unwrap().to_owned(),
                    l["score"].as_f64().unwrap() as f32,
                )
            })
            .collect();
        let by_label = in_label_order(&golden.texts, &ranked);
        assert_close(
            &format!("classify scores of {}", golden.media),
            &by_label,
            &golden.scores,
        );
    }
}

#[tokio::test]
async fn info_docs_and_openapi_are_served() {
    let server = Server::ready(ServerOptions::args(&[
        "--max-batch-size",
        "4",
        "--text-max-batch-size",
        "2",
    ]))
    .await;
    let rest = Rest::new(&server);
    let (status, info) = rest.get("/info").await;
    assert_eq!(status, 200);
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["model"]["name"], "mplug2-demo");
    assert_eq!(info["provider"], "cpu");
    assert_eq!(info["ready"], true);
    let tasks: Vec<&str> = info["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        tasks,
        [
            "caption",
            "vqa",
            "embed_image",
            "embed_video",
            "embed_text",
            "match",
            "classify"
        ]
    );
    assert_eq!(info["limits"]["max_concurrent_requests"], 64);
    let modules = info["batching"]["modules"].as_array().unwrap();
    let size = |name: &str| {
        modules.iter().find(|m| m["module"] == name).unwrap()["max_batch_size"].as_u64()
    };
    assert_eq!(
        (size("vision"), size("text"), size("decoder")),
        (Some(4), Some(2), Some(4))
    );
    let (status, spec) = rest.get("/openapi.json").await;
    let spec: Value = serde_json::from_str(&spec).unwrap();
    assert_eq!(status, 200);
    assert!(spec["paths"]["/v1/vqa"]["post"].is_object());
    let (status, page) = rest.get("/docs").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("/openapi.json") && !page.contains("https://"),
        "the docs page must work offline"
    );
}
