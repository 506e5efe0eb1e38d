//! Packages exported from one checkpoint share their graphs: a module whose graph files have the
//! same sha256 as a loaded package's is taken from it, not loaded again; other weights are not.

use std::{fs, path::Path, sync::Arc};

use mplug2_model::{LoadOptions, Model, package::Package, preprocess::MediaLimits};
use serde_json::Value;

use crate::common::{demo_dir, repo_root, runtime_config};

/// The demo's files (not its goldens) under another manifest name.
fn renamed_demo(dir: &Path, name: &str) {
    for entry in fs::read_dir(demo_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    let manifest = dir.join("manifest.json");
    let mut json: Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    json["model"]["name"] = Value::from(name);
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

fn same<M>(a: &Option<Arc<M>>, b: &Option<Arc<M>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

/// Which of the five modules `b` took from `a`.
fn shared(a: &Model, b: &Model) -> [bool; 5] {
    [
        same(&a.vision, &b.vision),
        same(&a.text, &b.text),
        same(&a.fusion, &b.fusion),
        same(&a.decoder, &b.decoder),
        same(&a.heads, &b.heads),
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
