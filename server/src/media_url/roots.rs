//! The roots an https media fetch trusts. By default, reqwest 0.13's: rustls-platform-verifier,
//! which on Linux reads the system trust store through rustls-native-certs (`SSL_CERT_FILE` /
//! `SSL_CERT_DIR` when set, else the distribution's bundle, e.g.
//! `/etc/ssl/certs/ca-certificates.crt`); no root list is compiled in. `--media-url-ca-file`
//! adds the certificates of one PEM file to those, read and checked once at start so that a bad
//! file stops the server instead of failing every fetch.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use rustls::pki_types::{CertificateDer, pem::PemObject};

/// Why `--media-url-ca-file` gave no usable roots: a start-up error.
#[derive(Debug, thiserror::Error)]
pub enum CaFileError {
    #[error("--media-url-ca-file {}: cannot read it: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--media-url-ca-file {}: not a valid PEM file: {reason}", path.display())]
    NotPem { path: PathBuf, reason: String },
    #[error(
        "--media-url-ca-file {}: holds no PEM certificate (no `-----BEGIN CERTIFICATE-----` block)",
        path.display()
    )]
    Empty { path: PathBuf },
    #[error(
        "--media-url-ca-file {}: certificate {number} is not a usable root certificate: {reason}",
        path.display()
    )]
    BadCertificate {
        path: PathBuf,
        number: usize,
        reason: String,
    },
}

/// The certificates of `--media-url-ca-file` (none without it); cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ExtraRoots(Arc<[reqwest::Certificate]>);

impl ExtraRoots {
    /// The roots of the file at `path`, or none without a path.
    pub fn load(path: Option<&Path>) -> Result<ExtraRoots, CaFileError> {
        let Some(path) = path else {
            return Ok(ExtraRoots::default());
        };
        let pem = std::fs::read(path).map_err(|source| CaFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let roots = ExtraRoots::from_pem(path, &pem)?;
        tracing::info!(
            path = %path.display(),
            certificates = roots.len(),
            "media fetches trust the system's roots and --media-url-ca-file"
        );
        Ok(roots)
    }

    fn from_pem(path: &Path, pem: &[u8]) -> Result<ExtraRoots, CaFileError> {
        let ders = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| CaFileError::NotPem {
                path: path.to_owned(),
                reason: error.to_string(),
            })?;
        if ders.is_empty() {
            return Err(CaFileError::Empty {
                path: path.to_owned(),
            });
        }
        let mut roots = Vec::with_capacity(ders.len());
        for (index, der) in ders.into_iter().enumerate() {
            let bad = |reason: String| CaFileError::BadCertificate {
                path: path.to_owned(),
                number: index + 1,
                reason,
            };
            // The check the verifier makes when it adds the root to each fetch's store: done
            // here, it is a start-up error instead of a failure of every fetch.
            rustls::RootCertStore::empty()
                .add(der.clone())
                .map_err(|error| bad(error.to_string()))?;
            roots.push(reqwest::Certificate::from_der(&der).map_err(|e| bad(e.to_string()))?);
        }
        Ok(ExtraRoots(roots.into()))
    }

    /// Copies for one client (the builder takes them by value).
    pub fn certificates(&self) -> Vec<reqwest::Certificate> {
        self.0.to_vec()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem(name: &str) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn no_file_adds_no_root() {
        assert!(ExtraRoots::load(None).unwrap().is_empty());
    }

    #[test]
    fn a_pem_bundle_gives_each_of_its_certificates() {
        let dir = std::env::temp_dir().join(format!("mplug2-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ca.pem");
        std::fs::write(&path, ca_pem("one") + &ca_pem("two")).unwrap();
        let roots = ExtraRoots::load(Some(&path)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(roots.len(), 2);
        assert_eq!(roots.certificates().len(), 2);
    }

    #[test]
    fn a_missing_file_names_the_flag_and_the_path() {
        let path = Path::new("/nonexistent/mplug2/ca.pem");
        let error = ExtraRoots::load(Some(path)).unwrap_err().to_string();
        assert!(
            error.starts_with("--media-url-ca-file /nonexistent/mplug2/ca.pem: cannot read it"),
            "{error}"
        );
    }

    #[test]
    fn a_file_without_a_certificate_is_refused() {
        let path = Path::new("ca.pem");
        for text in [
            "",
            "not a certificate\n",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            let error = ExtraRoots::from_pem(path, text.as_bytes()).unwrap_err();
            assert!(
                matches!(error, CaFileError::Empty { .. }),
                "{text:?}: {error}"
            );
            assert!(
                error.to_string().contains("holds no PEM certificate"),
                "{error}"
            );
        }
    }

    #[test]
    fn broken_pem_or_der_is_refused() {
        let path = Path::new("ca.pem");
        let unterminated = "-----BEGIN CERTIFICATE-----\nAAAA\n";
        let error = ExtraRoots::from_pem(path, unterminated.as_bytes()).unwrap_err();
        assert!(matches!(error, CaFileError::NotPem { .. }), "{error}");
        // Good base64, but not a certificate.
        let not_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let error = ExtraRoots::from_pem(path, not_der.as_bytes()).unwrap_err();
        assert!(
            matches!(error, CaFileError::BadCertificate { number: 1, .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .starts_with("--media-url-ca-file ca.pem: certificate 1")
        );
    }
}
