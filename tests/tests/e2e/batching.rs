//! 32 concurrent mixed requests (VQA, caption, embeddings) run in batches larger than one, and
//! every answer equals the answer to the same request sent alone.

use futures::future::join_all;
use mplug2_e2e_tests::{
    Server, ServerOptions,
    goldens::{Goldens, assert_close},
    metrics::scrape,
    rest::{Rest, floats},
};
use serde_json::{Value, json};

/// The mix: VQA and captions over every golden medium, and embeddings of media and texts.
fn requests(goldens: &Goldens) -> Vec<(&'static str, Value)> {
    let media = goldens.media_names();
    let questions = [
        "what is in the picture?",
        "Who is wearing a RED hat?!",
        "how many people are there",
    ];
    (0..32)
        .map(|i| {
            let medium = goldens.media(&media[i % media.len()]);
            match i % 3 {
                0 => ("/v1/vqa", medium.json_body(json!({ "question": questions[i % questions.len()] }))),
                1 => ("/v1/caption", medium.json_body(json!({}))),
                _ => ("/v1/embeddings", json!({ "input": [format!("text number {i}"), Value::Object(medium.json_fields())] })),
            }
        })
        .collect()
}

fn assert_same(path: &str, alone: &Value, together: &Value) {
    if path == "/v1/embeddings" {
        for (a, b) in alone["data"]
            .as_array()
            .unwrap()
            .iter()
            .zip(together["data"].as_array().unwrap())
        {
            // another batch size may select other kernels: equal within the fp32 tolerance
            assert_close(
                "batched embedding vs the single one",
                &floats(&b["embedding"]),
                &floats(&a["embedding"]),
            );
        }
    } else {
        assert_eq!(alone, together, "{path}");
    }
}

#[tokio::test]
async fn concurrent_mixed_requests_batch_and_equal_single_requests() {
    // Cache off: the concurrent requests repeat media the single ones already sent.
    let server = Server::ready(ServerOptions::args(&[
        "--max-batch-size",
        "16",
        "--max-batch-delay-ms",
        "5",
        "--vision-cache-bytes",
        "0",
    ]))
    .await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let requests = requests(&goldens);

    let mut alone = Vec::new();
    for (path, body) in &requests {
        let (status, answer) = rest.post(path, body).await;
        assert_eq!(status, 200, "{path}: {answer}");
        alone.push(answer);
    }
    let single = scrape(&rest).await;
    for module in ["vision", "text", "decoder", "heads"] {
        let over_one = single.above("mplug2_batch_size", &[("module", module)], 1.0);
        assert_eq!(
            over_one, 0.0,
            "one-by-one requests formed a {module} batch over one"
        );
    }

    let together = join_all(requests.iter().map(|(path, body)| rest.post(path, body))).await;
    for ((path, _), (alone, (status, together))) in requests.iter().zip(alone.iter().zip(&together))
    {
        assert_eq!(*status, 200, "{path}: {together}");
        assert_same(path, alone, together);
    }

    let batched = scrape(&rest).await;
    let over_one: Vec<(&str, f64)> = ["vision", "text", "fusion", "decoder", "heads"]
        .into_iter()
        .map(|module| {
            (
                module,
                batched.above("mplug2_batch_size", &[("module", module)], 1.0),
            )
        })
        .collect();
    eprintln!("executions with more than one item, per module: {over_one:?}");
    assert!(
        over_one.iter().any(|(_, n)| *n > 0.0),
        "no batch larger than one: {over_one:?}"
    );
    let vision = over_one
        .iter()
        .find(|(m, _)| *m == "vision")
        .map_or(0.0, |(_, n)| *n);
    assert!(
        vision > 0.0,
        "32 concurrent requests never shared a vision batch"
    );
}
