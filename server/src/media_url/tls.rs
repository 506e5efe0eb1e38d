//! A TLS failure of an https media fetch in words a client can act on. reqwest's own chain reads
//! "error sending request for url (…): client error (Connect): invalid peer certificate:
//! UnknownIssuer": two layers that only say a request failed, then rustls' terse text.

use std::error::Error;

use rustls::CertificateError;

/// Why the TLS connection to `host` failed, when `error` (or one of its sources) is a TLS error.
pub fn refusal(host: &str, error: &(dyn Error + 'static)) -> Option<String> {
    find_tls_error(error).map(|tls| describe(host, tls))
}

fn find_tls_error<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(tls) = inside_io_errors(error) {
            return Some(tls);
        }
        current = error.source();
    }
    None
}

/// tokio-rustls returns the TLS error inside an io::Error and hyper-rustls wraps that in another
/// (`io::Error::other`); an io::Error's `source` skips what it wraps, so unwrap by hand.
fn inside_io_errors<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    inside_io_errors(inner)
}

fn describe(host: &str, error: &rustls::Error) -> String {
    let certificate = format!("the TLS certificate of `{host}`");
    let rustls::Error::InvalidCertificate(problem) = error else {
        return format!("the TLS handshake with `{host}` failed: {error}");
    };
    match problem {
        CertificateError::NotValidForName => {
            format!("the server's TLS certificate is not valid for the host name `{host}`")
        }
        CertificateError::NotValidForNameContext { presented, .. } => {
            let names: Vec<String> = presented.iter().map(|name| plain_name(name)).collect();
            let valid_for = match names.as_slice() {
                [] => "it names no host".to_owned(),
                names => format!("it is valid only for {}", names.join(", ")),
            };
            format!(
                "the server's TLS certificate is not valid for the host name `{host}` ({valid_for})"
            )
        }
        CertificateError::UnknownIssuer => format!(
            "{certificate} is not trusted: unknown issuer (no root this server trusts signed it: \
             the system's trust store and --media-url-ca-file)"
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            format!("{certificate} has expired ({problem})")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            format!("{certificate} is not valid yet ({problem})")
        }
        CertificateError::Revoked => format!("{certificate} has been revoked"),
        _ => format!("{certificate} was refused: {problem}"),
    }
}

/// `DnsName("localhost")` → `localhost`, `IpAddress(10.0.0.1)` → `10.0.0.1` (webpki's Debug
/// form of the certificate's names); anything else as it is.
fn plain_name(presented: &str) -> String {
    let inner = presented
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .or_else(|| {
            presented
                .strip_prefix("IpAddress(")
                .and_then(|rest| rest.strip_suffix(')'))
        });
    inner.unwrap_or(presented).to_owned()
}

#[cfg(test)]
mod tests {
    use rustls::{AlertDescription, pki_types::ServerName};

    use super::*;

    /// As reqwest hands it over: hyper-rustls' io::Error around tokio-rustls' io::Error.
    fn io_wrapped(error: rustls::Error) -> std::io::Error {
        std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, error))
    }

    #[test]
    fn a_name_mismatch_says_which_names_the_certificate_holds() {
        let error = io_wrapped(
            CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("127.0.0.1").unwrap().to_owned(),
                presented: vec![
                    "DnsName(\"localhost\")".into(),
                    "IpAddress(10.0.0.1)".into(),
                ],
            }
            .into(),
        );
        assert_eq!(
            refusal("127.0.0.1", &error).unwrap(),
            "the server's TLS certificate is not valid for the host name `127.0.0.1` (it is \
             valid only for localhost, 10.0.0.1)"
        );
    }

    #[test]
    fn an_unknown_issuer_is_called_untrusted() {
        let error = io_wrapped(CertificateError::UnknownIssuer.into());
        let text = refusal("cdn.example.com", &error).unwrap();
        assert!(
            text.starts_with(
                "the TLS certificate of `cdn.example.com` is not trusted: unknown issuer"
            ),
            "{text}"
        );
        assert!(text.contains("--media-url-ca-file"), "{text}");
    }

    #[test]
    fn other_tls_failures_keep_rustls_words() {
        let error = io_wrapped(rustls::Error::AlertReceived(
            AlertDescription::HandshakeFailure,
        ));
        assert_eq!(
            refusal("h", &error).unwrap(),
            "the TLS handshake with `h` failed: received fatal alert: HandshakeFailure"
        );
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        assert!(refusal("h", &expired).unwrap().contains("has expired"));
    }

    #[test]
    fn errors_without_tls_are_left_alone() {
        let error = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(refusal("h", &error), None);
    }
}
