//! Replays the REST fuzz targets' committed inputs (`fuzz/seeds/rest_*`, `fuzz/regressions/rest_*`)
//! through the same entry point the targets call. Seeds are well-formed requests and must parse
//! (URL seeds must be refused, URLs being off); regressions are inputs that once crashed a target
//! and must now answer, whatever the answer.

use std::path::{Path, PathBuf};

use mplug2_server::http::parse::{FUZZ_MULTIPART_TYPE, replay};

fn inputs(dir: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(dir)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default();
    files.retain(|path| path.is_file() && path.file_name().is_some_and(|n| n != ".gitkeep"));
    files.sort();
    files
}

async fn replay_target(target: &str, content_type: &str) {
    let seeds = inputs("seeds", target);
    assert!(seeds.len() >= 5, "{target}: only {} seeds", seeds.len());
    for seed in seeds {
        let data = std::fs::read(&seed).expect("seed");
        let result = replay(content_type, &data).await;
        let name = seed.file_name().unwrap().to_string_lossy();
        if name.contains("url") {
            let error = result.expect_err(&name);
            assert!(
                error.to_string().contains("--media-urls is off"),
                "{name}: {error}"
            );
        } else {
            assert!(result.is_ok(), "{name}: {result:?}");
        }
    }
    for regression in inputs("regressions", target) {
        let data = std::fs::read(&regression).expect("regression");
        let _ = replay(content_type, &data).await;
    }
}

#[tokio::test]
async fn rest_json_inputs_replay() {
    replay_target("rest_json", "application/json").await;
}

#[tokio::test]
async fn rest_multipart_inputs_replay() {
    replay_target("rest_multipart", FUZZ_MULTIPART_TYPE).await;
}
