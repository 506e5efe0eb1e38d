//! Helpers shared by the end-to-end tests: start the real `mplug2-serve` binary on free ports
//! with the demo package, talk to it over REST and gRPC, and read the exporter's goldens.

pub mod bad_media;
pub mod crash;
pub mod deploy_queries;
pub mod errors;
pub mod goldens;
pub mod grpc_raw;
pub mod http_client;
pub mod media;
pub mod metrics;
pub mod package;
pub mod poisoned;
pub mod promql;
pub mod rest;
pub mod server;
pub mod tls_host;

pub use server::{Server, ServerOptions};

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The committed demo package.
pub fn demo_package() -> std::path::PathBuf {
    workspace_root().join("models/demo")
}

/// The second demo package (`make models/demo-vqa/manifest.json`): other random weights,
/// fine-tuned for VQA.
pub fn demo_vqa_package() -> std::path::PathBuf {
    workspace_root().join("models/demo-vqa")
}

/// The lossless video of the `frames_20` golden (see `tests/fixtures/README.md`).
pub fn frames_20_video() -> Vec<u8> {
    std::fs::read(workspace_root().join("tests/fixtures/frames_20.mp4"))
        .expect("tests/fixtures/frames_20.mp4")
}
