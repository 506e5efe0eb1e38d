//! A model package on disk: `manifest.json`, `tokenizer.json` and the ONNX graphs.
//! Opening one validates it completely (format version, every listed file present, every sha256),
//! so that a broken package fails at start-up with the file and the problem named.

mod checksum;
mod error;
mod graph_name;
mod manifest;

use std::path::{Component, Path, PathBuf};

pub use checksum::sha256_file;
pub use error::PackageError;
pub use graph_name::GraphName;
pub use manifest::*;

use crate::tasks::Task;

pub const MANIFEST_FILE: &str = "manifest.json";
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// A validated model package.
#[derive(Debug, Clone)]
pub struct Package {
    dir: PathBuf,
    manifest: Manifest,
}

impl Package {
    /// Reads `dir/manifest.json` and checks the whole package against it.
    pub fn open(dir: &Path) -> Result<Package, PackageError> {
        let package = Self::open_unverified(dir)?;
        package.verify_files()?;
        Ok(package)
    }

    /// Reads and checks the manifest only, without hashing the files (tools that only inspect).
    pub fn open_unverified(dir: &Path) -> Result<Package, PackageError> {
        let manifest_path = dir.join(MANIFEST_FILE);
        if !manifest_path.is_file() {
            return Err(PackageError::MissingFile {
                file: manifest_path,
            });
        }
        let text = std::fs::read_to_string(&manifest_path).map_err(|source| PackageError::Io {
            file: manifest_path.clone(),
            source,
        })?;
        let manifest = parse_manifest(&text, &manifest_path)?;
        Ok(Package {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn has_graph(&self, graph: GraphName) -> bool {
        self.manifest.graphs.contains_key(graph.as_str())
    }

    /// Path of a graph's ONNX file, if the package has that graph.
    pub fn graph_path(&self, graph: GraphName) -> Option<PathBuf> {
        self.manifest
            .graphs
            .get(graph.as_str())
            .map(|entry| self.dir.join(&entry.file))
    }

    /// What a graph is, byte for byte: the sha256 of its `.onnx` and of each external data file
    /// (the `.onnx` of a large graph holds no weights, so its own digest is the same for every
    /// checkpoint of one shape). None when the manifest lacks one of them.
    pub fn graph_digest(&self, graph: GraphName) -> Option<String> {
        let entry = self.manifest.graphs.get(graph.as_str())?;
        let mut digest = entry.sha256.clone()?;
        for data in &entry.external_data {
            digest.push('+');
            digest.push_str(self.manifest.files.get(data)?);
        }
        Some(digest)
    }

    /// Bytes of the graphs a server loads (each `.onnx` and its external data; `decoder_full`,
    /// a parity reference only, left out): what its weights weigh.
    pub fn weight_bytes(&self) -> u64 {
        self.graph_weights().iter().map(|(_, bytes)| bytes).sum()
    }

    /// Each loaded graph's bytes, keyed by `graph_digest` (its path when the manifest has none), so
    /// that graphs two packages share are counted once.
    pub fn graph_weights(&self) -> Vec<(String, u64)> {
        let size = |file: &str| std::fs::metadata(self.dir.join(file)).map_or(0, |m| m.len());
        GraphName::ALL
            .into_iter()
            .filter(|graph| *graph != GraphName::DecoderFull)
            .filter_map(|graph| {
                let entry = self.manifest.graphs.get(graph.as_str())?;
                let key = self
                    .graph_digest(graph)
                    .unwrap_or_else(|| self.dir.join(&entry.file).display().to_string());
                let bytes =
                    size(&entry.file) + entry.external_data.iter().map(|f| size(f)).sum::<u64>();
                Some((key, bytes))
            })
            .collect()
    }

    pub fn tokenizer_path(&self) -> PathBuf {
        self.dir.join(TOKENIZER_FILE)
    }

    /// The tasks this package can serve: listed in the manifest and with all their graphs present.
    pub fn tasks(&self) -> Vec<Task> {
        Task::ALL
            .into_iter()
            .filter(|task| self.manifest.tasks.iter().any(|name| name == task.name()))
            .filter(|task| task.graphs().iter().all(|graph| self.has_graph(*graph)))
            .filter(|task| !task.needs_heads_config() || self.manifest.config.heads.is_some())
            .collect()
    }

    /// Checks that every graph and every listed file exists and has the listed sha256.
    fn verify_files(&self) -> Result<(), PackageError> {
        for entry in self.manifest.graphs.values() {
            let path = self.dir.join(&entry.file);
            let expected = entry
                .sha256
                .as_deref()
                .ok_or_else(|| PackageError::MissingChecksum { file: path.clone() })?;
            checksum::verify_file(&path, expected)?;
            for data in &entry.external_data {
                if !self.manifest.files.contains_key(data) {
                    return Err(PackageError::MissingChecksum {
                        file: self.dir.join(data),
                    });
                }
            }
        }
        for (file, expected) in &self.manifest.files {
            checksum::verify_file(&self.dir.join(file), expected)?;
        }
        Ok(())
    }
}

/// Parses and checks a manifest's text (format version and every rule serde cannot express);
/// `manifest_path` only names the file in errors. Public so the fuzz targets reach it.
pub fn parse_manifest(text: &str, manifest_path: &Path) -> Result<Manifest, PackageError> {
    let manifest: Manifest =
        serde_json::from_str(text).map_err(|source| PackageError::Manifest {
            file: manifest_path.to_path_buf(),
            source,
        })?;
    if manifest.format_version != FORMAT_VERSION {
        return Err(PackageError::UnsupportedFormatVersion {
            file: manifest_path.to_path_buf(),
            found: manifest.format_version,
            supported: FORMAT_VERSION,
        });
    }
    check_semantics(&manifest, manifest_path)?;
    Ok(manifest)
}

/// Rules the Rust side relies on that serde cannot express.
fn check_semantics(manifest: &Manifest, manifest_path: &Path) -> Result<(), PackageError> {
    let invalid = |problem: String| PackageError::Invalid {
        file: manifest_path.to_path_buf(),
        problem,
    };
    let files = manifest
        .graphs
        .values()
        .flat_map(|graph| std::iter::once(&graph.file).chain(&graph.external_data))
        .chain(manifest.files.keys());
    for file in files {
        if !is_inside_package(file) {
            return Err(invalid(format!(
                "file `{file}` must be a relative path inside the package"
            )));
        }
    }
    if let Some(name) = manifest
        .graphs
        .keys()
        .find(|name| !GraphName::ALL.iter().any(|graph| graph.as_str() == *name))
    {
        return Err(invalid(format!("unknown graph `{name}`")));
    }
    if !DTYPES.contains(&manifest.model.dtype.as_str()) {
        return Err(invalid(format!(
            "model.dtype `{}` is not supported (only {})",
            manifest.model.dtype,
            DTYPES.join(", ")
        )));
    }
    if !manifest.files.contains_key(TOKENIZER_FILE) {
        return Err(invalid(format!("`files` must list {TOKENIZER_FILE}")));
    }
    let preprocess = &manifest.preprocess;
    if preprocess.resize != "nearest" {
        return Err(invalid(format!(
            "preprocess.resize `{}` is not supported (only `nearest`)",
            preprocess.resize
        )));
    }
    if preprocess.sampling != "middle" {
        return Err(invalid(format!(
            "preprocess.sampling `{}` is not supported (only `middle`)",
            preprocess.sampling
        )));
    }
    if preprocess.num_frames == 0 || preprocess.image_size == 0 {
        return Err(invalid(
            "preprocess.num_frames and preprocess.image_size must be positive".to_owned(),
        ));
    }
    if preprocess.std.contains(&0.0) {
        return Err(invalid("preprocess.std must not contain 0".to_owned()));
    }
    for (field, rule, expected) in [
        (
            "text.question.rule",
            &manifest.text.question.rule,
            "pre_question",
        ),
        (
            "text.caption.rule",
            &manifest.text.caption.rule,
            "pre_caption",
        ),
    ] {
        if rule != expected {
            return Err(invalid(format!(
                "{field} `{rule}` is not supported (only `{expected}`)"
            )));
        }
    }
    for (task, decoding) in [
        ("caption", &manifest.decoding.caption),
        ("vqa", &manifest.decoding.vqa),
    ] {
        if decoding.beam_size == 0 || decoding.max_length == 0 {
            return Err(invalid(format!(
                "decoding.{task}: beam_size and max_length must be positive"
            )));
        }
    }
    Ok(())
}

fn is_inside_package(file: &str) -> bool {
    let path = Path::new(file);
    !file.is_empty()
        && path
            .components()
            .all(|component| matches!(component, Component::Normal(_)))
}
