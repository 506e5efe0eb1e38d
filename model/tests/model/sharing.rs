//! Packages exported from one checkpoint share their graphs: a module whose graph files have the
//! same sha256 as a loaded package's is taken from it, not loaded again; other weights are not.

use std::{fs, path::Path, sync::Arc};

use mplug2_model::{LoadOptions, Model, package::Package, preprocess::MediaLimits};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{demo_dir, repo_root, runtime_config};

/// The demo's files (not its goldens) under another manifest name.
fn renamed_demo(dir: &Path, name: &str) {
    with_vision_data(dir, name, None);
}

/// The demo under another name; with `data`, its vision graph also lists an external data file
/// of these bytes, as a large package's does (ONNX Runtime never reads it: the demo's graph
/// holds its weights; only the package's identity changes).
fn with_vision_data(dir: &Path, name: &str, data: Option<&[u8]>) {
    for entry in fs::read_dir(demo_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    let manifest = dir.join("manifest.json");
    let mut json: Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    json["model"]["name"] = Value::from(name);
    if let Some(data) = data {
        fs::write(dir.join("vision.onnx.data"), data).unwrap();
        let digest = hex::encode(Sha256::digest(data));
        json["graphs"]["vision"]["external_data"] = serde_json::json!(["vision.onnx.data"]);
        json["files"]["vision.onnx.data"] = Value::from(digest);
    }
    fs::write(&manifest, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
}

fn load(dir: &Path, loaded: &[&Model]) -> Model {
    let package = Package::open(dir).unwrap();
    Model::load_sharing(
        package,
        &runtime_config(),
        MediaLimits::default(),
        LoadOptions::default(),
        loaded,
    )
    .unwrap()
}

fn same_module<M>(a: &Option<Arc<M>>, b: &Option<Arc<M>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

/// Which of the five modules `b` took from `a`.
fn shared(a: &Model, b: &Model) -> [bool; 5] {
    [
        same_module(&a.vision, &b.vision),
        same_module(&a.text, &b.text),
        same_module(&a.fusion, &b.fusion),
        same_module(&a.decoder, &b.decoder),
        same_module(&a.heads, &b.heads),
    ]
}

#[test]
fn identical_graphs_load_once_and_other_weights_load_their_own() {
    let copy = tempfile::tempdir().unwrap();
    renamed_demo(copy.path(), "mplug2-demo-copy");
    let demo = load(&demo_dir(), &[]);
    let twin = load(copy.path(), &[&demo]);
    assert_eq!(shared(&demo, &twin), [true; 5]);
    assert_eq!(twin.package().manifest().model.name, "mplug2-demo-copy");

    // The second demo package (other random weights; `make test-rust` makes it) shares nothing.
    let other_dir = repo_root().join("models/demo-vqa");
    assert!(
        other_dir.join("manifest.json").is_file(),
        "make models/demo-vqa/manifest.json first (make test-rust does)"
    );
    let other = load(&other_dir, &[&demo, &twin]);
    assert_eq!(shared(&demo, &other), [false; 5]);
}

/// A large graph's `.onnx` holds no weights, so two checkpoints of one shape have the same
/// `.onnx` digest: only the external data tells them apart.
#[test]
fn graphs_with_other_external_data_are_not_shared() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    with_vision_data(a.path(), "a", Some(b"weights of one checkpoint"));
    with_vision_data(b.path(), "b", Some(b"weights of another"));
    with_vision_data(c.path(), "c", Some(b"weights of one checkpoint"));
    let first = load(a.path(), &[]);
    let other = load(b.path(), &[&first]);
    let same = load(c.path(), &[&first]);
    assert!(!same_module(&first.vision, &other.vision));
    assert!(same_module(&first.vision, &same.vision));
    // The rest of the graphs are the demo's own in all three.
    assert!(same_module(&first.decoder, &other.decoder));
}
