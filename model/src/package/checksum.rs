//! sha256 of package files, streamed so that gigabyte graphs never sit in memory.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::PackageError;

/// Lower-case hex sha256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, PackageError> {
    let io_error = |source| PackageError::Io {
        file: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = reader.read(&mut buffer).map_err(io_error)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Checks that `path` exists and hashes to `expected` (case-insensitive hex).
pub fn verify_file(path: &Path, expected: &str) -> Result<(), PackageError> {
    if !path.is_file() {
        return Err(PackageError::MissingFile {
            file: path.to_path_buf(),
        });
    }
    let actual = sha256_file(path)?;
    if !actual.eq_ignore_ascii_case(expected.trim()) {
        return Err(PackageError::ChecksumMismatch {
            file: path.to_path_buf(),
            expected: expected.to_owned(),
            actual,
        });
    }
    Ok(())
}
