//! The `mplug2-run` binary on the demo package, as an operator would call it.

use crate::common;

use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mplug2-run"))
        .arg("--model-dir")
        .arg(common::demo_dir())
        .arg("--ort-library")
        .arg(common::ort_library())
        .args(args)
        .output()
        .expect("mplug2-run runs")
}

#[test]
fn caption_prints_the_reference_caption_as_json() {
    let image = common::goldens_dir().join("inputs/image_97x131.png");
    let output = run(&["caption", "--image", image.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let golden = common::goldens().json["captions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["media"] == "image_97x131" && c["params"]["beam_size"] == 5)
        .unwrap();
    assert_eq!(json["caption"], golden["text"]);
}

#[test]
fn a_file_that_is_not_media_fails_with_a_clear_message() {
    let manifest = common::demo_dir().join("manifest.json");
    let output = run(&[
        "vqa",
        "--image",
        manifest.to_str().unwrap(),
        "--question",
        "what?",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unsupported image format"), "{stderr}");
    let output = run(&["caption", "--image", "/nonexistent.png"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent.png"));
}
