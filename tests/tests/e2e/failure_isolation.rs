//! Failure isolation: a module run that fails takes down only the requests of its batch, and a
//! batch that fails because of one bad item is run again in halves so that only that item fails
//! (500 / INTERNAL with a request id in the body and the `x-request-id` header); the module keeps
//! serving. The bad item is real: `tests/fixtures/poisoned_heads_text.onnx` is the demo text
//! head failing for any batch holding the text "poison pill".

use std::time::Duration;

use futures::future::join_all;
use mplug2_e2e_tests::{
    Server, ServerOptions,
    errors::{assert_grpc_error, assert_http_error},
    goldens::{Goldens, assert_close},
    metrics::scrape,
    package::PackageCopy,
    rest::{Rest, floats},
    workspace_root,
};
use mplug2_proto::v1 as pb;
use serde_json::{Value, json};
use tonic::Code;

const POISON: &str = "poison pill";
/// Rounds of concurrent requests tried until one batch held the poison with good texts.
const ROUNDS: usize = 20;

#[tokio::test]
async fn a_bad_item_fails_alone_and_the_module_keeps_serving() {
    let poisoned = workspace_root().join("tests/fixtures/poisoned_heads_text.onnx");
    let package = PackageCopy::of_demo().with_graph("heads_text", &poisoned);
    // A batch delay long enough that concurrent texts share the heads' batches.
    let server = Server::ready(ServerOptions {
        model_dir: Some(package.path()),
        ..ServerOptions::args(&["--max-batch-delay-ms", "50"])
    })
    .await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let good = goldens.text_embeddings();
    assert!(good.len() >= 3, "the goldens have texts to embed");
    let bodies: Vec<Value> = good
        .iter()
        .map(|(text, _)| json!({ "input": text }))
        .collect();

    let mut isolated = false;
    for round in 0..ROUNDS {
        // The poison and every golden text, at once, each its own request.
        let poison = rest
            .client()
            .post(rest.url("/v1/embeddings"))
            .json(&json!({ "input": POISON }))
            .send();
        let others = join_all(bodies.iter().map(|body| rest.post("/v1/embeddings", body)));
        let (poison, others) = tokio::join!(poison, others);

        let poison = poison.expect("request");
        let header = poison
            .headers()
            .get("x-request-id")
            .expect("an x-request-id header")
            .to_str()
            .unwrap()
            .to_owned();
        let answer: (u16, Value) = (poison.status().as_u16(), poison.json().await.unwrap());
        let message = assert_http_error(&answer, 500, "internal");
        assert!(
            message.contains(&format!("request id {header}")),
            "the body names the request id of the header: {message} / {header}"
        );
        assert!(
            !message.contains("Gather"),
            "details stay in the log: {message}"
        );
        for ((text, expected), (status, body)) in good.iter().zip(others) {
            assert_eq!(status, 200, "round {round}, `{text}`: {body}");
            assert_close(text, &floats(&body["data"][0]["embedding"]), expected);
        }
        let splits = scrape(&rest)
            .await
            .value("mplug2_batch_splits_total", &[("module", "heads")]);
        if splits > 0.0 {
            isolated = true;
            println!("the poison shared a batch with good texts in round {round}; {splits} splits");
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        isolated,
        "in {ROUNDS} rounds the poison never shared a batch: the test proved nothing"
    );
    let log = server.log();
    assert!(log.contains("Gather"), "the log holds the cause");

    // gRPC: the poison inside one request fails it (INTERNAL, with the request id), while a
    // concurrent good request is served.
    let mut grpc = server.grpc_client().await;
    let mut other = server.grpc_client().await;
    let text = |t: &str| pb::EmbedInput {
        kind: Some(pb::embed_input::Kind::Text(t.into())),
    };
    let (bad, fine) = tokio::join!(
        grpc.embed(pb::EmbedRequest {
            inputs: vec![text(&good[0].0), text(POISON)],
            ..Default::default()
        }),
        other.embed(pb::EmbedRequest {
            inputs: vec![text(&good[1].0)],
            ..Default::default()
        }),
    );
    let request_id = match &bad {
        Err(status) => status
            .metadata()
            .get("x-request-id")
            .expect("x-request-id metadata")
            .to_str()
            .unwrap()
            .to_owned(),
        Ok(_) => panic!("the poisoned request was answered"),
    };
    let message = assert_grpc_error(bad, Code::Internal);
    assert!(message.contains(&request_id), "{message}");
    let fine = fine.expect("the good request beside it").into_inner();
    assert_close(&good[1].0, &fine.embeddings[0].values, &good[1].1);

    // The module keeps serving.
    let (status, body) = rest
        .post("/v1/embeddings", &json!({ "input": good[2].0 }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_close(
        &good[2].0,
        &floats(&body["data"][0]["embedding"]),
        &good[2].1,
    );
}
