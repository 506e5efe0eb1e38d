//! What a loaded package says of itself, for `/info`, gRPC `Info` and the logs.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub name: String,
    pub source_checkpoint: String,
    pub dtype: String,
    pub finetuned_for: Option<String>,
    pub model_dir: String,
    /// Unix seconds: when the package's manifest was last written (OpenAI's `created`).
    pub created: u64,
    /// Bytes of the graphs it serves with (shared graphs counted by each package using them).
    pub weight_bytes: u64,
}
