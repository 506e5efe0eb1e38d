//! The model packages to serve, and which answers requests that name none.

use std::path::PathBuf;

/// Where the packages are, the default one, and their memory budget.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model package directory (manifest.json, tokenizer.json and the ONNX graphs), as written by
    /// `python -m mplug2_exporter`; give it several times (or a comma-separated list) to serve
    /// several packages, each picked by its manifest name in a request's `model`. Relative
    /// paths start at the working directory. Without it and --model-dirs: models/demo.
    #[arg(long, env = "MODEL_DIR", value_delimiter = ',')]
    pub model_dir: Vec<PathBuf>,

    /// More package directories, comma separated (served after those of --model-dir).
    #[arg(long, env = "MODEL_DIRS", value_delimiter = ',')]
    pub model_dirs: Vec<PathBuf>,

    /// The package (manifest name) answering requests that name no `model`, for tasks no package
    /// is fine-tuned for (`finetuned_for`); else the first package serving the task answers.
    #[arg(long, env = "DEFAULT_MODEL")]
    pub default_model: Option<String>,

    /// Most bytes of model weights (the graph files of every package) the server may load; it
    /// refuses to start, naming each package's bytes, when they weigh more. 0 = no budget.
    #[arg(long, env = "MAX_MODEL_BYTES", default_value_t = 0)]
    pub max_model_bytes: u64,
}

impl ModelArgs {
    /// Every package directory, in order.
    pub fn dirs(&self) -> Vec<PathBuf> {
        let dirs: Vec<PathBuf> = self
            .model_dir
            .iter()
            .chain(&self.model_dirs)
            .cloned()
            .collect();
        if dirs.is_empty() {
            vec![PathBuf::from("models/demo")]
        } else {
            dirs
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::Parser;

    use crate::config::Config;

    #[test]
    fn packages_come_from_both_flags_in_order() {
        let config = Config::try_parse_from([
            "mplug2-serve",
            "--model-dir",
            "a",
            "--model-dir",
            "b,c",
            "--model-dirs",
            "d",
        ])
        .unwrap();
        let dirs: Vec<PathBuf> = ["a", "b", "c", "d"].iter().map(PathBuf::from).collect();
        assert_eq!(config.models.dirs(), dirs);
    }
}
