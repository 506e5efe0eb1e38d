use std::path::PathBuf;

/// Why a model package cannot be used. Every variant names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{}: missing from the model package", file.display())]
    MissingFile { file: PathBuf },
    #[error("{}: cannot be read: {source}", file.display())]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a valid manifest: {source}", file.display())]
    Manifest {
        file: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: format_version {found} is not supported (this build reads {supported})", file.display())]
    UnsupportedFormatVersion {
        file: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{}: sha256 is {actual}, the manifest says {expected}", file.display())]
    ChecksumMismatch {
        file: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{}: the manifest lists no sha256 for it", file.display())]
    MissingChecksum { file: PathBuf },
    #[error("{}: {problem}", file.display())]
    Invalid { file: PathBuf, problem: String },
}
