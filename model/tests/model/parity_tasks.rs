//! The task pipelines end to end (media files in, strings and scores out) through the
//! `DirectExecutor`, against the goldens: strings exactly, embeddings and scores within the fp32
//! tolerance (`mplug2_model::tolerance`).

use crate::common;

use common::{demo_model, f32s, goldens, medium_media};
use mplug2_model::decode::DecodeOverrides;
use mplug2_model::tasks::{self, DirectExecutor};
use mplug2_model::tolerance::compare;
use serde_json::Value;

fn overrides(golden: &Value, defaults: &mplug2_model::decode::DecodeParams) -> DecodeOverrides {
    let params = &golden["params"];
    let field = |name: &str, default: usize| {
        let value = params[name].as_u64().unwrap() as usize;
        (value != default).then_some(value)
    };
    DecodeOverrides {
        beam_size: field("beam_size", defaults.beam_size),
        min_length: field("min_length", defaults.min_length),
        max_length: field("max_length", defaults.max_length),
        ..DecodeOverrides::default()
    }
}

#[test]
fn captions_from_media_files_equal_the_reference_strings() {
    let model = demo_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    for golden in goldens().json["captions"].as_array().unwrap() {
        let media = golden["media"].as_str().unwrap();
        if media.starts_with("jpeg") {
            continue; // our JPEG decode differs from PIL's by a few levels: see parity_preprocess
        }
        let text = pollster::block_on(tasks::caption(
            &ctx,
            &ex,
            medium_media(media),
            overrides(golden, &ctx.caption),
        ))
        .unwrap();
        assert_eq!(text, golden["text"].as_str().unwrap(), "caption of {media}");
    }
}

#[test]
fn vqa_answers_from_media_files_equal_the_reference_strings() {
    let model = demo_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    for golden in goldens().json["vqa"].as_array().unwrap() {
        let media = golden["media"].as_str().unwrap();
        if media.starts_with("jpeg") {
            continue;
        }
        let question = golden["question"].as_str().unwrap();
        let answer = pollster::block_on(tasks::vqa(
            &ctx,
            &ex,
            medium_media(media),
            question,
            overrides(golden, &ctx.vqa),
        ))
        .unwrap();
        assert_eq!(
            answer,
            golden["answer"].as_str().unwrap(),
            "{media}: {question}"
        );
    }
}

#[test]
fn embeddings_match_for_media_and_texts() {
    let model = demo_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    let embeddings = &goldens().json["embeddings"];
    for entry in embeddings["media"].as_array().unwrap() {
        let media = entry["media"].as_str().unwrap();
        if media.starts_with("jpeg") {
            continue;
        }
        let ours = pollster::block_on(tasks::embed_media(&ctx, &ex, medium_media(media))).unwrap();
        let expected = goldens().f32(entry["embedding"].as_str().unwrap());
        let c = compare(ours.iter(), expected.iter());
        assert!(c.is_close(), "{media}: {c}");
    }
    for entry in embeddings["text"].as_array().unwrap() {
        let text = entry["text"].as_str().unwrap();
        let ours = pollster::block_on(tasks::embed_text(&ctx, &ex, text)).unwrap();
        let expected = goldens().f32(entry["embedding"].as_str().unwrap());
        let c = compare(ours.iter(), expected.iter());
        assert!(c.is_close(), "{text}: {c}");
    }
}

#[test]
fn match_scores_equal_the_reference() {
    let model = demo_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    for golden in goldens().json["match"].as_array().unwrap() {
        let media = golden["media"].as_str().unwrap();
        let texts: Vec<String> = golden["texts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect();
        let scores =
            pollster::block_on(tasks::match_texts(&ctx, &ex, medium_media(media), &texts)).unwrap();
        assert_scores_close(media, &scores, &golden["scores"]);
    }
}

#[test]
fn classify_scores_equal_the_reference_and_come_best_first() {
    let model = demo_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    for golden in goldens().json["classify"].as_array().unwrap() {
        let media = golden["media"].as_str().unwrap();
        let labels: Vec<String> = golden["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect();
        let ranked =
            pollster::block_on(tasks::classify(&ctx, &ex, medium_media(media), &labels)).unwrap();
        assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1), "best first");
        let scores: Vec<f32> = labels
            .iter()
            .map(|label| ranked.iter().find(|(l, _)| l == label).unwrap().1)
            .collect();
        assert_scores_close(media, &scores, &golden["scores"]);
    }
}

/// Probabilities, judged at the scale of the largest in the list.
fn assert_scores_close(media: &str, scores: &[f32], golden: &Value) {
    let expected = f32s(golden);
    let c = compare(scores, &expected);
    assert!(c.is_close(), "{media}: {scores:?} vs {expected:?}: {c}");
}

#[test]
fn unsupported_overrides_and_empty_lists_are_typed_errors() {
    let model = demo_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    let big_beam = DecodeOverrides {
        beam_size: Some(99),
        ..Default::default()
    };
    let error = pollster::block_on(tasks::caption(
        &ctx,
        &ex,
        medium_media("image_97x131"),
        big_beam,
    ))
    .unwrap_err();
    assert_eq!(error.kind(), mplug2_model::ErrorKind::InvalidRequest);
    assert!(
        error.to_string().contains("beam_size") && error.to_string().contains("99"),
        "{error}"
    );
    let error = pollster::block_on(tasks::match_texts(
        &ctx,
        &ex,
        medium_media("image_97x131"),
        &[],
    ))
    .unwrap_err();
    assert_eq!(error.kind(), mplug2_model::ErrorKind::InvalidRequest);
}
