//! An int8 package (the demo quantized by the exporter; `make demo-int8` writes models/demo-int8)
//! loads and serves every task through the same code as fp32, and stays within the int8 accuracy
//! bar of the fp32 PyTorch goldens (docs/PERFORMANCE.md, "int8 packages").

use std::process::Command;
use std::sync::OnceLock;

use crate::common;

use common::{goldens, medium_media};
use mplug2_model::Model;
use mplug2_model::decode::DecodeOverrides;
use mplug2_model::package::Package;
use mplug2_model::preprocess::MediaLimits;
use mplug2_model::tasks::{self, DirectExecutor};

/// The bar on retrieval embeddings (the exporter's `quantize.compare.BAR`).
const MIN_COSINE: f32 = 0.99;

fn int8_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let package =
            Package::open(&common::int8_demo_dir()).expect("the int8 demo package is valid");
        Model::load(package, &common::runtime_config(), MediaLimits::default())
            .expect("the int8 demo package loads")
    })
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn the_int8_package_says_int8_and_serves_the_demo_tasks() {
    let model = int8_model();
    assert_eq!(model.package().manifest().model.dtype, "int8");
    let fp32 = Package::open(&common::demo_dir()).unwrap();
    assert_eq!(model.tasks(), fp32.tasks());
}

#[test]
fn int8_embeddings_are_within_the_bar_of_the_fp32_goldens() {
    let model = int8_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    let embeddings = &goldens().json["embeddings"];
    let mut cosines = Vec::new();
    for entry in embeddings["media"].as_array().unwrap() {
        let media = entry["media"].as_str().unwrap();
        let ours = pollster::block_on(tasks::embed_media(&ctx, &ex, medium_media(media))).unwrap();
        let expected = goldens().f32(entry["embedding"].as_str().unwrap());
        cosines.push((
            media.to_owned(),
            cosine(&ours, expected.as_slice().unwrap()),
        ));
    }
    for entry in embeddings["text"].as_array().unwrap() {
        let text = entry["text"].as_str().unwrap();
        let ours = pollster::block_on(tasks::embed_text(&ctx, &ex, text)).unwrap();
        let expected = goldens().f32(entry["embedding"].as_str().unwrap());
        cosines.push((text.to_owned(), cosine(&ours, expected.as_slice().unwrap())));
    }
    assert!(cosines.len() >= 8);
    for (what, cos) in &cosines {
        assert!(*cos >= MIN_COSINE, "{what}: cosine {cos}");
    }
    assert!(
        cosines.iter().any(|(_, cos)| *cos < 0.999_999),
        "int8 outputs equal fp32 ones: is the package quantized?"
    );
}

#[test]
fn int8_match_and_classify_stay_close_to_the_goldens() {
    let model = int8_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    };
    for golden in goldens().json["match"].as_array().unwrap() {
        let media = golden["media"].as_str().unwrap();
        let scores = pollster::block_on(tasks::match_texts(
            &ctx,
            &ex,
            medium_media(media),
            &strings(&golden["texts"]),
        ))
        .unwrap();
        for (score, expected) in scores.iter().zip(golden["scores"].as_array().unwrap()) {
            let expected = expected.as_f64().unwrap() as f32;
            assert!(
                (score - expected).abs() <= 0.05,
                "{media}: {score} vs {expected}"
            );
        }
    }
    for golden in goldens().json["classify"].as_array().unwrap() {
        let media = golden["media"].as_str().unwrap();
        let labels = strings(&golden["labels"]);
        let ranked =
            pollster::block_on(tasks::classify(&ctx, &ex, medium_media(media), &labels)).unwrap();
        let scores: Vec<f32> = golden["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_f64().unwrap() as f32)
            .collect();
        let best = scores.iter().cloned().fold(f32::MIN, f32::max);
        let expected = &labels[scores.iter().position(|s| *s == best).unwrap()];
        assert_eq!(&ranked[0].0, expected, "{media}: {ranked:?}");
    }
}

#[test]
fn int8_caption_and_vqa_decode_through_the_cached_decoder() {
    let model = int8_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    for media in ["image_480x270", "frames_7"] {
        let caption = pollster::block_on(tasks::caption(
            &ctx,
            &ex,
            medium_media(media),
            DecodeOverrides::default(),
        ))
        .unwrap();
        assert!(!caption.trim().is_empty(), "caption of {media}");
        let answer = pollster::block_on(tasks::vqa(
            &ctx,
            &ex,
            medium_media(media),
            "what is the man doing?",
            DecodeOverrides::default(),
        ))
        .unwrap();
        assert!(!answer.trim().is_empty(), "answer about {media}");
    }
}

#[test]
fn mplug2_run_reports_int8_and_runs_the_package() {
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_mplug2-run"))
            .arg("--model-dir")
            .arg(common::int8_demo_dir())
            .arg("--ort-library")
            .arg(common::ort_library())
            .args(args)
            .output()
            .expect("mplug2-run runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let info = run(&["info"]);
    assert_eq!(info["dtype"], "int8");
    assert_eq!(info["model"], "mplug2-demo-int8");
    let image = common::goldens_dir().join("inputs/image_97x131.png");
    let caption = run(&["caption", "--image", image.to_str().unwrap()]);
    assert!(!caption["caption"].as_str().unwrap().is_empty());
}
