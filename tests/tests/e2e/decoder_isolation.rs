//! Failure isolation in the decoder's steps: a request whose decoding fails inside a step shared
//! with others gets 500 with its request id, and the requests it was batched with finish with
//! their golden answers. The poisoned decoder step (`mplug2_e2e_tests::poisoned`) fails in the
//! two ways a step can: NaN logits for one request only (the run succeeds, one search cannot
//! advance), and a run that fails as a whole (the server runs it again in halves until the
//! failing request runs alone: `mplug2_batch_splits_total{module="decoder"}`).

use futures::future::join_all;
use mplug2_e2e_tests::{
    Server, ServerOptions,
    errors::assert_internal_naming_request_id,
    goldens::Goldens,
    metrics::scrape,
    package::PackageCopy,
    poisoned::{ERROR_QUESTION, NAN_QUESTION, poisoned_decoder_step},
    rest::Rest,
};
use serde_json::{Value, json};

/// Rounds tried until the poisoned request shared its step with the four good ones.
const ROUNDS: usize = 20;

/// The good requests: the golden VQA and captions of the demo images, with their answers.
fn good_requests(goldens: &Goldens) -> Vec<(&'static str, Value, &'static str, String)> {
    let mut requests = Vec::new();
    for vqa in goldens.vqa() {
        let body = goldens.media(&vqa.media).json_body(json!({
            "question": vqa.question,
            "beam_size": vqa.params.beam_size,
            "min_length": vqa.params.min_length,
            "max_length": vqa.params.max_length,
        }));
        requests.push(("/v1/vqa", body, "answer", vqa.answer));
    }
    for media in ["image_480x270", "image_97x131"] {
        let caption = goldens.caption_of(media);
        let body = caption.rest_body(&goldens.media(media));
        requests.push(("/v1/caption", body, "caption", caption.text));
    }
    requests
}

/// Sends the poisoned question and the good requests at once; checks every answer.
async fn round(rest: &Rest, goldens: &Goldens, question: &str) {
    let poisoned = goldens
        .media("image_97x131")
        .json_body(json!({ "question": question }));
    let good = good_requests(goldens);
    let poison = rest
        .client()
        .post(rest.url("/v1/vqa"))
        .json(&poisoned)
        .send();
    let others = join_all(good.iter().map(|(path, body, _, _)| rest.post(path, body)));
    let (poison, others) = tokio::join!(poison, others);

    assert_internal_naming_request_id(poison.expect("request")).await;
    for ((path, _, field, expected), (status, body)) in good.iter().zip(others) {
        assert_eq!(status, 200, "{path} beside `{question}`: {body}");
        assert_eq!(body[field], json!(expected), "{path} beside `{question}`");
    }
}

#[tokio::test]
async fn a_request_failing_in_a_decoder_step_fails_alone() {
    let package = PackageCopy::of_demo().with_graph_bytes("decoder_step", &poisoned_decoder_step());
    // A batch delay long enough that concurrent requests start their decoding together.
    let server = Server::ready(ServerOptions {
        model_dir: Some(package.path()),
        ..ServerOptions::args(&["--max-batch-delay-ms", "100"])
    })
    .await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let decoder = [("module", "decoder")];

    // NaN logits for one request: it is in exactly one step (its first), so a step of five
    // requests held it and the four good ones.
    let mut shared = false;
    for attempt in 0..ROUNDS {
        round(&rest, &goldens, NAN_QUESTION).await;
        let steps_of_five = scrape(&rest)
            .await
            .above("mplug2_batch_size", &decoder, 4.0);
        if steps_of_five > 0.0 {
            println!("NaN logits: the poisoned request shared its step in round {attempt}");
            shared = true;
            break;
        }
    }
    assert!(
        shared,
        "the NaN request never shared a step: the test proved nothing"
    );

    // A run failing as a whole: it was split, so it held more than the failing request.
    let mut split = false;
    for attempt in 0..ROUNDS {
        round(&rest, &goldens, ERROR_QUESTION).await;
        let splits = scrape(&rest)
            .await
            .value("mplug2_batch_splits_total", &decoder);
        if splits > 0.0 {
            println!("failed run: split {splits} times by round {attempt}");
            split = true;
            break;
        }
    }
    assert!(
        split,
        "the failing request never shared a step: the test proved nothing"
    );
    let log = server.log();
    assert!(log.contains("Gather"), "the log holds the cause");
    assert!(log.contains("NaN logits"), "the log holds the cause");

    // The decoder keeps serving.
    let (path, body, field, expected) = good_requests(&goldens).remove(0);
    let (status, answer) = rest.post(path, &body).await;
    assert_eq!((status, &answer[field]), (200, &json!(expected)));
}
