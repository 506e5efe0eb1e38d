//! Every graph against the PyTorch goldens within the fp32 tolerance (`mplug2_model::tolerance`),
//! at batch 1 and batched with other items of different lengths (a batched result must equal the
//! single one within the same tolerance: another batch size may select other kernels).

use crate::common;

use std::sync::Arc;

use common::{demo_model, goldens, ids};
use mplug2_model::decode::DecodeBatch;
use mplug2_model::modules::FusionInput;
use mplug2_model::preprocess::PixelValues;
use mplug2_model::tolerance::compare;
use ndarray::{Axis, Ix2, Ix4, concatenate};

fn pixels(name: &str) -> PixelValues {
    let goldens = goldens();
    let array = goldens.f32(goldens.medium(name)["pixel_values"].as_str().unwrap());
    PixelValues::from_array(array.into_dimensionality::<Ix4>().unwrap()).unwrap()
}

fn vision_golden(name: &str) -> ndarray::Array2<f32> {
    goldens().vision_embeds(name)
}

fn text_golden(index: usize) -> ndarray::Array2<f32> {
    goldens().text_embeds(index)
}

fn question_ids(index: usize) -> Vec<i64> {
    ids(&goldens().json["texts"][index]["question"]["input_ids"])
}

#[test]
fn vision_matches_at_batch_one_and_in_batches() {
    let vision = demo_model().vision.as_ref().unwrap();
    let names: Vec<&str> = goldens().json["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for name in &names {
        let out = vision.run(&[&pixels(name)]).unwrap().remove(0);
        let c = compare(out.iter(), vision_golden(name).iter());
        assert!(c.is_close(), "{name}: {c}");
        println!("vision {name}: ours vs PyTorch {c}");
    }
    // Items sharing T batch together: the three images (T = 1) and the two frame lists (T = 16).
    for group in [
        &["image_480x270", "image_97x131", "jpeg_160x120"][..],
        &["frames_20", "frames_7"][..],
    ] {
        let inputs: Vec<PixelValues> = group.iter().map(|n| pixels(n)).collect();
        let refs: Vec<&PixelValues> = inputs.iter().collect();
        let batched = vision.run(&refs).unwrap();
        for (name, out) in group.iter().zip(&batched) {
            let single = vision.run(&[&pixels(name)]).unwrap().remove(0);
            let c = compare(out.iter(), single.iter());
            assert!(c.is_close(), "{name} batched vs single: {c}");
            let c = compare(out.iter(), vision_golden(name).iter());
            assert!(c.is_close(), "{name} batched: {c}");
        }
    }
}

#[test]
fn vision_rejects_a_batch_of_mixed_frame_counts() {
    let vision = demo_model().vision.as_ref().unwrap();
    let error = vision
        .run(&[&pixels("image_97x131"), &pixels("frames_7")])
        .unwrap_err();
    assert!(error.to_string().contains("share frames"), "{error}");
}

#[test]
fn text_encoder_matches_single_and_padded_batch() {
    let text = demo_model().text.as_ref().unwrap();
    let count = goldens().json["texts"].as_array().unwrap().len();
    for index in 0..count {
        let out = text.run(&[&question_ids(index)]).unwrap().remove(0);
        let c = compare(out.iter(), text_golden(index).iter());
        assert!(c.is_close(), "text {index}: {c}");
        println!("text_encoder {index}: ours vs PyTorch {c}");
    }
    // The goldens' own padded batch, and a batch of every text (lengths 5 to 51).
    let batch = &goldens().json["text_batch"];
    let members: Vec<usize> = common::usizes(&batch["texts"]);
    let all: Vec<Vec<i64>> = (0..count).map(question_ids).collect();
    let refs: Vec<&[i64]> = all.iter().map(Vec::as_slice).collect();
    let outputs = text.run(&refs).unwrap();
    let padded = goldens().f32(batch["text_embeds"].as_str().unwrap());
    for (row, &index) in members.iter().enumerate() {
        let len = all[index].len();
        let golden_row = padded.index_axis(Axis(0), row);
        let golden_row = golden_row.slice_axis(Axis(0), (0..len).into());
        let c = compare(outputs[index].iter(), golden_row.iter());
        assert!(c.is_close(), "text_batch row {row}: {c}");
    }
    for (index, out) in outputs.iter().enumerate() {
        assert_eq!(out.nrows(), all[index].len());
        let c = compare(out.iter(), text_golden(index).iter());
        assert!(c.is_close(), "text {index} in batch: {c}");
    }
}

#[test]
fn fusion_matches_single_and_batched_across_lengths() {
    let model = demo_model();
    let fusion = model.fusion.as_ref().unwrap();
    let cases = goldens().json["fusion"].as_array().unwrap();
    let inputs: Vec<(
        ndarray::Array2<f32>,
        ndarray::Array2<f32>,
        ndarray::ArrayD<f32>,
    )> = cases
        .iter()
        .map(|case| {
            let text = text_golden(case["text"].as_u64().unwrap() as usize);
            let vision = vision_golden(case["media"].as_str().unwrap());
            (
                text,
                vision,
                goldens().f32(case["fused_text"].as_str().unwrap()),
            )
        })
        .collect();
    let items: Vec<FusionInput<'_>> = inputs
        .iter()
        .map(|(t, v, _)| FusionInput { text: t, vision: v })
        .collect();
    for (index, (item, (_, _, expected))) in items.iter().zip(&inputs).enumerate() {
        let out = fusion.run(&[*item]).unwrap().remove(0);
        let c = compare(out.iter(), expected.iter());
        assert!(c.is_close(), "fusion case {index}: {c}");
        println!("fusion case {index}: ours vs PyTorch {c}");
    }
    // All cases in one batch: text lengths and vision lengths (17 vs 257) both differ.
    let batched = fusion.run(&items).unwrap();
    for (index, (out, (_, _, expected))) in batched.iter().zip(&inputs).enumerate() {
        let c = compare(out.iter(), expected.iter());
        assert!(c.is_close(), "fusion case {index} batched: {c}");
    }
}

/// The first decoding step's logits through both the full-prefix graph and the KV-cached step.
#[test]
fn first_step_logits_match_through_full_and_cached_decoders() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    let cases = goldens().json["decoder_first_step"].as_array().unwrap();
    let memories: Vec<ndarray::Array2<f32>> = cases.iter().map(memory_for).collect();
    for (case, memory) in cases.iter().zip(&memories) {
        let expected = goldens().f32(case["logits"].as_str().unwrap());
        let full = decoder
            .full_logits(&[ids(&case["input_ids"])], &[memory.view()])
            .unwrap();
        let c = compare(full.iter(), expected.iter());
        assert!(c.is_close(), "{} full: {c}", case["task"]);
        println!("decoder_full {} first-step logits: {c}", case["task"]);
    }
    // Cached step, both memories in one batch (lengths differ, so the cross K/V is padded).
    let crosses = decoder
        .cross_kv(&memories.iter().map(|m| m.view()).collect::<Vec<_>>())
        .unwrap();
    let params = mplug2_model::decode::DecodeParams {
        beam_size: 1,
        min_length: 0,
        max_length: 1,
        length_penalty: 0.6,
        bos: 101,
        eos: 102,
        num_results: 1,
        strategy: mplug2_model::decode::Strategy::Beam,
    };
    let mut batch = DecodeBatch::new();
    for (id, cross) in crosses.iter().enumerate() {
        batch.add(id as u64, decoder.start(Arc::clone(cross), params));
    }
    let logits = decoder.step_logits(&mut batch).unwrap();
    for (b, case) in cases.iter().enumerate() {
        let expected = goldens().f32(case["logits"].as_str().unwrap());
        let row = logits.index_axis(Axis(0), b);
        let row = row.index_axis(Axis(0), 0);
        let c = compare(row.iter(), expected.iter());
        assert!(c.is_close(), "{} cached step: {c}", case["task"]);
        println!(
            "decoder_cross_kv + decoder_step {} first-step logits: {c}",
            case["task"]
        );
    }
}

#[test]
fn heads_match_embeddings_for_media_and_texts() {
    let model = demo_model();
    let heads = model.heads.as_ref().unwrap();
    let embeddings = &goldens().json["embeddings"];
    let media = embeddings["media"].as_array().unwrap();
    let cls: Vec<ndarray::Array1<f32>> = media
        .iter()
        .map(|m| {
            vision_golden(m["media"].as_str().unwrap())
                .row(0)
                .to_owned()
        })
        .collect();
    let views: Vec<_> = cls.iter().map(|c| c.view()).collect();
    let outputs = heads.vision(&views).unwrap();
    for (entry, out) in media.iter().zip(&outputs) {
        let expected = goldens().f32(entry["embedding"].as_str().unwrap());
        let c = compare(out.iter(), expected.iter());
        assert!(c.is_close(), "{}: {c}", entry["media"]);
        println!("heads vision {}: {c}", entry["media"]);
    }
    let text = model.text.as_ref().unwrap();
    for entry in embeddings["text"].as_array().unwrap() {
        let embeds = text.run(&[&ids(&entry["input_ids"])]).unwrap().remove(0);
        let out = heads.text(&[embeds.row(0)]).unwrap().remove(0);
        let expected = goldens().f32(entry["embedding"].as_str().unwrap());
        let c = compare(out.iter(), expected.iter());
        assert!(c.is_close(), "{}: {c}", entry["text"]);
        println!("heads text {}: {c}", entry["text"]);
    }
}

/// The decoder memory of a first-step case: vision embeds, plus the fused question for VQA.
fn memory_for(case: &serde_json::Value) -> ndarray::Array2<f32> {
    let vision = vision_golden(case["media"].as_str().unwrap());
    if case["task"] == "caption" {
        return vision;
    }
    let text_index = case["text"].as_u64().unwrap() as usize;
    let fused = goldens().json["fusion"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["media"] == case["media"] && f["text"].as_u64() == Some(text_index as u64))
        .map(|f| {
            goldens()
                .f32(f["fused_text"].as_str().unwrap())
                .into_dimensionality::<Ix2>()
                .unwrap()
        })
        .unwrap_or_else(|| {
            let text = text_golden(text_index);
            demo_model()
                .fusion
                .as_ref()
                .unwrap()
                .run(&[FusionInput {
                    text: &text,
                    vision: &vision,
                }])
                .unwrap()
                .remove(0)
        });
    concatenate(Axis(0), &[vision.view(), fused.view()]).unwrap()
}
