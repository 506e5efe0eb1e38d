//! The vision-feature cache: the same medium twice runs the vision module once, answers equal the
//! goldens and an uncached server's, concurrent identical requests share one vision run, the
//! decoder reuses the medium's cross K/V, and `/info` and `/metrics` show the lookups.

use mplug2_e2e_tests::{
    Server, ServerOptions,
    goldens::Goldens,
    metrics::scrape,
    rest::{Rest, floats},
};
use serde_json::{Value, json};

async fn vision_items(rest: &Rest) -> f64 {
    scrape(rest)
        .await
        .value("mplug2_module_items_total", &[("module", "vision")])
}

#[tokio::test]
async fn the_same_medium_twice_runs_the_vision_module_once() {
    let (cached, uncached) = tokio::join!(
        Server::ready(ServerOptions::default()),
        Server::ready(ServerOptions::args(&["--vision-cache-bytes", "0"]))
    );
    let (rest, plain, goldens) = (Rest::new(&cached), Rest::new(&uncached), Goldens::load());
    let golden = goldens
        .captions()
        .into_iter()
        .find(|c| c.media == "frames_20" && c.params.beam_size == 5)
        .unwrap();
    let video = goldens.media("frames_20");

    let body = video.json_body(json!({}));
    for _ in 0..2 {
        let (status, answer) = rest.post("/v1/caption", &body).await;
        assert_eq!((status, &answer["caption"]), (200, &json!(golden.text)));
    }
    assert_eq!(
        vision_items(&rest).await,
        1.0,
        "one vision run for two captions"
    );
    // A question about the same medium reuses the features too, and answers as without a cache.
    let question = video.json_body(json!({ "question": "what is it?" }));
    let (status, cached_answer) = rest.post("/v1/vqa", &question).await;
    assert_eq!(status, 200, "{cached_answer}");
    let (status, plain_answer) = plain.post("/v1/vqa", &question).await;
    assert_eq!(status, 200, "{plain_answer}");
    assert_eq!(cached_answer["answer"], plain_answer["answer"]);
    assert_eq!(vision_items(&rest).await, 1.0);

    // Embeddings through the cache equal the uncached server's, bit for bit.
    let image = goldens.media("image_480x270");
    let embed = json!({ "input": [Value::Object(image.json_fields())] });
    let (_, first) = rest.post("/v1/embeddings", &embed).await;
    let (_, second) = rest.post("/v1/embeddings", &embed).await;
    let (_, plain_embedding) = plain.post("/v1/embeddings", &embed).await;
    let vector = |answer: &Value| floats(&answer["data"][0]["embedding"]);
    assert_eq!(vector(&first), vector(&second));
    assert_eq!(vector(&first), vector(&plain_embedding));
    assert_eq!(vision_items(&rest).await, 2.0);
    assert_eq!(
        vision_items(&plain).await,
        2.0,
        "the uncached server ran it each time"
    );

    let metrics = scrape(&rest).await;
    let lookups =
        |result| metrics.value("mplug2_vision_cache_lookups_total", &[("result", result)]);
    assert_eq!((lookups("hit"), lookups("miss")), (3.0, 2.0));
    // The decoder projected the video's embeddings once: the second caption and the question
    // reused that cross K/V (the question projected only its own tokens).
    let cross =
        |result| metrics.value("mplug2_cross_kv_cache_lookups_total", &[("result", result)]);
    assert_eq!((cross("hit"), cross("miss")), (2.0, 1.0));
    assert!(metrics.value("mplug2_cross_kv_cache_bytes", &[]) > 0.0);
    let plain_metrics = scrape(&plain).await;
    let plain_cross =
        |result| plain_metrics.value("mplug2_cross_kv_cache_lookups_total", &[("result", result)]);
    assert_eq!(
        (plain_cross("hit"), plain_cross("miss")),
        (0.0, 1.0),
        "without the vision cache, each request's embeddings are new"
    );
    let (status, info) = rest.get("/info").await;
    assert_eq!(status, 200);
    let info: Value = serde_json::from_str(&info).unwrap();
    let cache = &info["vision_cache"];
    assert_eq!(cache["capacity_bytes"], 512 * 1024 * 1024);
    assert_eq!(
        (cache["hits"].as_u64(), cache["misses"].as_u64()),
        (Some(3), Some(2))
    );
    assert!(cache["bytes"].as_u64().unwrap() > 0, "{cache}");
}

#[tokio::test]
async fn concurrent_identical_requests_share_one_vision_run() {
    let server = Server::ready(ServerOptions::default()).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let body = goldens.media("image_480x270").json_body(json!({}));
    let answers = futures::future::join_all((0..6).map(|_| rest.post("/v1/caption", &body))).await;
    for (status, answer) in &answers {
        assert_eq!(*status, 200, "{answer}");
        assert_eq!(answer["caption"], answers[0].1["caption"]);
    }
    assert_eq!(vision_items(&rest).await, 1.0);
}
