//! Beam search against the PyTorch goldens: identical token ids (and per-step choices) for every
//! caption and VQA case, at batch 1, through the full-prefix reference, and in one continuous
//! batch where members of different lengths, beam sizes and memories join at different steps.
//! Every case is decided beyond numeric noise (`tolerance::is_decided`), so exact tokens are fair.

use crate::common;

use std::sync::Arc;

use common::{decode_joining, decode_params, demo_model, f32s, goldens, ids};
use mplug2_model::decode::{DecodeBatch, DecodeParams};
use mplug2_model::modules::FusionInput;
use mplug2_model::tolerance::{beam_scale, compare, compare_at, is_decided, scale_of};
use ndarray::{Array2, Axis, concatenate};
use serde_json::Value;

/// A golden caption or VQA decode: its memory, settings and reference tokens (also replayed by
/// the streaming and sampling tests).
pub(crate) struct Case {
    pub(crate) label: String,
    pub(crate) memory: Array2<f32>,
    /// Leading rows of `memory` that are vision embeddings (the rest: the fused question).
    vision_rows: usize,
    pub(crate) params: DecodeParams,
    pub(crate) tokens: Vec<i64>,
    golden: &'static Value,
}

/// The one result of a sequence decoded with the default `num_results` of 1.
fn single(results: Vec<Vec<i64>>) -> Vec<i64> {
    assert_eq!(results.len(), 1, "one result by default");
    results.into_iter().next().unwrap()
}

pub(crate) fn cases() -> Vec<Case> {
    let goldens = goldens();
    let model = demo_model();
    let mut cases = Vec::new();
    for (index, golden) in goldens.json["captions"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let media = golden["media"].as_str().unwrap();
        let vision = goldens.vision_embeds(media);
        cases.push(Case {
            label: format!("caption {index} ({media})"),
            vision_rows: vision.nrows(),
            memory: vision,
            params: decode_params(&golden["params"]),
            tokens: ids(&golden["tokens"]),
            golden,
        });
    }
    for (index, golden) in goldens.json["vqa"].as_array().unwrap().iter().enumerate() {
        let media = golden["media"].as_str().unwrap();
        let vision = goldens.vision_embeds(media);
        let text_index = golden["text"].as_u64().unwrap() as usize;
        let text = goldens.text_embeds(text_index);
        let fused = model
            .fusion
            .as_ref()
            .unwrap()
            .run(&[FusionInput {
                text: &text,
                vision: &vision,
            }])
            .unwrap();
        let memory = concatenate(Axis(0), &[vision.view(), fused[0].view()]).unwrap();
        cases.push(Case {
            label: format!("vqa {index} ({media}, text {text_index})"),
            vision_rows: vision.nrows(),
            memory,
            params: decode_params(&golden["params"]),
            tokens: ids(&golden["tokens"]),
            golden,
        });
    }
    for case in &cases {
        assert_decided(case);
    }
    cases
}

/// Every step of the golden search, and its final pick, won by more than the tie margin.
fn assert_decided(case: &Case) {
    let logits = goldens().logit_scale();
    let steps = case.golden["steps"].as_array().unwrap();
    let search_scores: Vec<f32> = steps.iter().flat_map(|s| f32s(&s["scores"])).collect();
    let finals = [(&case.golden["final_margin"], scale_of(&search_scores))];
    let step_margins = steps
        .iter()
        .map(|s| (&s["margin"], scale_of(&f32s(&s["scores"]))));
    for (margin, scores_scale) in step_margins.chain(finals) {
        let Some(margin) = margin.as_f64().map(|m| m as f32) else {
            continue; // null: a single candidate, nothing to confuse it with
        };
        let scale = beam_scale(logits, scores_scale, margin);
        assert!(
            is_decided(margin, scale),
            "{}: margin {margin} at scale {scale} is numeric noise, not a test case",
            case.label
        );
    }
}

#[test]
fn every_case_decodes_to_the_reference_tokens_at_batch_one() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    let cases = cases();
    assert!(cases.len() >= 14);
    assert!(
        cases.iter().any(|c| c.params.beam_size == 1),
        "the goldens hold a greedy case"
    );
    for case in &cases {
        let tokens = decoder
            .generate(&[case.memory.view()], &[case.params])
            .unwrap()
            .remove(0);
        assert_eq!(tokens, case.tokens, "{}", case.label);
    }
}

/// The server projects a VQA memory's vision part and question part separately (the vision part's
/// K/V are reused across questions) and joins them: the same K/V and the same tokens.
#[test]
fn cross_kv_projected_in_parts_equals_the_joined_memory() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    let mut split_cases = 0;
    for case in cases() {
        if case.vision_rows == case.memory.nrows() {
            continue;
        }
        split_cases += 1;
        let (vision, question) = case.memory.view().split_at(Axis(0), case.vision_rows);
        let joined = decoder.cross_kv(&[case.memory.view()]).unwrap().remove(0);
        let parts = decoder.cross_kv(&[vision, question]).unwrap();
        let split = Arc::new(parts[0].concat(&parts[1]).unwrap());
        assert_eq!(split.len(), joined.len());
        for layer in 0..joined.layers() {
            for (a, b) in [
                (split.key(layer), joined.key(layer)),
                (split.value(layer), joined.value(layer)),
            ] {
                let c = compare(a.iter(), b.iter());
                assert!(c.is_close(), "{} layer {layer}: {c}", case.label);
            }
        }
        let mut batch = DecodeBatch::new();
        batch.add(0, decoder.start(split, case.params));
        while !batch.is_empty() {
            decoder.step(&mut batch).unwrap();
            if let Some((_, tokens)) = batch.take_finished().pop() {
                assert_eq!(single(tokens), case.tokens, "{}", case.label);
            }
        }
    }
    assert!(split_cases >= 4, "the goldens hold VQA cases");
}

#[test]
fn every_step_makes_the_reference_choices() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    for case in cases() {
        let cross = decoder.cross_kv(&[case.memory.view()]).unwrap().remove(0);
        let mut batch = DecodeBatch::new();
        batch.add(0, decoder.start(cross, case.params));
        for (step, expected) in case.golden["steps"].as_array().unwrap().iter().enumerate() {
            decoder.step(&mut batch).unwrap();
            let search = batch.get(0).unwrap().search();
            let chosen: Vec<i64> = search.beams().iter().map(|b| *b.last().unwrap()).collect();
            assert_eq!(
                chosen,
                ids(&expected["tokens"]),
                "{} step {step} tokens",
                case.label
            );
        }
        let search = batch.get(0).unwrap().search();
        assert!(search.is_finished(), "{}", case.label);
        let score = case.golden["score"].as_f64().unwrap() as f32;
        let scale = beam_scale(goldens().logit_scale(), score.abs(), 0.0);
        let c = compare_at(&[search.result_score().unwrap()], &[score], scale);
        assert!(c.is_close(), "{} score: {c}", case.label);
    }
}

#[test]
fn the_full_prefix_reference_decoder_agrees() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    for case in cases() {
        let tokens = decoder
            .generate_full_prefix(case.memory.view(), case.params)
            .unwrap();
        assert_eq!(tokens, case.tokens, "{}", case.label);
    }
}

/// Continuous batching: members join one by one (a new one every step), with different beam
/// sizes, max lengths and memory lengths (17 to 266 positions), and leave when they finish.
#[test]
fn a_continuous_batch_gives_every_member_its_reference_tokens() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    let cases = cases();
    let memories: Vec<_> = cases.iter().map(|c| c.memory.view()).collect();
    let crosses = decoder.cross_kv(&memories).unwrap();
    let sequences = (cases.iter().zip(&crosses))
        .map(|(case, cross)| decoder.start(Arc::clone(cross), case.params))
        .collect();
    let mut max_members = 0;
    let results = decode_joining(decoder, sequences, |batch| {
        max_members = max_members.max(batch.len());
    });
    assert!(
        max_members >= 4,
        "members overlapped: at most {max_members} at once"
    );
    for (case, result) in cases.iter().zip(results) {
        assert_eq!(single(result), case.tokens, "{} in a batch", case.label);
    }
}

/// All members start together and a member is removed mid-way (a cancelled request): the
/// others are unaffected.
#[test]
fn removing_a_member_leaves_the_others_unchanged() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    let cases = cases();
    let memories: Vec<_> = cases.iter().map(|c| c.memory.view()).collect();
    let crosses = decoder.cross_kv(&memories).unwrap();
    let mut batch = DecodeBatch::new();
    for (index, cross) in crosses.iter().enumerate() {
        batch.add(
            index as u64,
            decoder.start(Arc::clone(cross), cases[index].params),
        );
    }
    decoder.step(&mut batch).unwrap();
    let cancelled = 3u64;
    assert!(batch.remove(cancelled).is_some());
    let mut results = vec![None; cases.len()];
    for (id, tokens) in batch.take_finished() {
        results[id as usize] = Some(single(tokens));
    }
    while !batch.is_empty() {
        decoder.step(&mut batch).unwrap();
        for (id, tokens) in batch.take_finished() {
            results[id as usize] = Some(single(tokens));
        }
    }
    for (index, (case, result)) in cases.iter().zip(results).enumerate() {
        if index as u64 == cancelled {
            assert!(result.is_none());
        } else {
            assert_eq!(result.as_ref(), Some(&case.tokens), "{}", case.label);
        }
    }
}
