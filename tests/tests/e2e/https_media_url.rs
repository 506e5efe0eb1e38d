//! HTTPS media URLs: the real server fetching `image_url` from TLS media hosts on loopback whose
//! certificates come from test CAs made at test time. A certificate for `localhost` signed by the
//! CA given with `--media-url-ca-file` answers the golden caption; the same host reached as
//! `127.0.0.1` (a name its certificate does not hold) and a host whose certificate comes from a
//! second CA the server does not trust are refused with 400 / INVALID_ARGUMENT, the message
//! naming the field and the reason, over REST and gRPC. A CA file that cannot be used stops the
//! server at start, naming the flag and the path.

use std::path::Path;

use axum::{Router, body::Bytes, routing::get};
use mplug2_e2e_tests::{
    Server, ServerOptions,
    errors::{assert_grpc_error, assert_http_error},
    goldens::{Caption, Goldens},
    media::TestMedia,
    rest::Rest,
    server::TempDir,
    tls_host::{TestCa, TlsMediaHost},
};
use mplug2_proto::v1 as pb;
use serde_json::{Value, json};
use tonic::Code;

/// The golden this file fetches: an image caption, as every media URL test uses.
const GOLDEN: &str = "image_97x131";

fn image_app(png: Vec<u8>) -> Router {
    let png = Bytes::from(png);
    Router::new().route("/image.png", get(move || async move { png.clone() }))
}

/// A server that fetches from `localhost` and `127.0.0.1` (loopback allowed, as in every media
/// URL test) and trusts the CA of `ca_file` besides the system's roots.
fn options(ca_file: &Path) -> ServerOptions {
    ServerOptions::args(&[
        "--media-urls",
        "true",
        "--media-url-allowed-hosts",
        "localhost,127.0.0.1",
        "--media-url-allow-private-addresses",
        "true",
        "--media-url-ca-file",
        ca_file.to_str().expect("a UTF-8 path"),
    ])
}

fn rest_body(golden: &Caption, url: &str) -> Value {
    json!({
        "image_url": url,
        "beam_size": golden.params.beam_size,
        "min_length": golden.params.min_length,
        "max_length": golden.params.max_length,
    })
}

fn grpc_request(golden: &Caption, url: &str) -> pb::CaptionRequest {
    pb::CaptionRequest {
        media: Some(pb::Media {
            kind: Some(pb::media::Kind::ImageUrl(url.to_owned())),
        }),
        decoding: Some(pb::DecodeOptions {
            beam_size: Some(golden.params.beam_size),
            min_length: Some(golden.params.min_length),
            max_length: Some(golden.params.max_length),
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn https_urls_are_fetched_only_with_a_trusted_certificate_for_their_host() {
    let goldens = Goldens::load();
    let golden = goldens.caption_of(GOLDEN);
    let TestMedia::Image(png) = goldens.media(&golden.media) else {
        unreachable!("an image golden")
    };
    let (trusted, untrusted) = (
        TestCa::new("mplug2 test CA"),
        TestCa::new("mplug2 rogue CA"),
    );
    let good = TlsMediaHost::start(
        trusted.server_certificate(&["localhost"]),
        image_app(png.clone()),
    )
    .await;
    let rogue =
        TlsMediaHost::start(untrusted.server_certificate(&["localhost"]), image_app(png)).await;
    let dir = TempDir::new();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, trusted.pem()).expect("write the CA file");
    let server = Server::ready(options(&ca_file)).await;
    let rest = Rest::new(&server);
    let mut grpc = server.grpc_client().await;

    // (a) A certificate for `localhost` from the trusted CA: the golden caption.
    let url = good.url("localhost", "/image.png");
    let (status, answer) = rest.post("/v1/caption", &rest_body(&golden, &url)).await;
    assert_eq!(
        (status, &answer["caption"]),
        (200, &json!(golden.text)),
        "{answer}"
    );
    let caption = grpc
        .caption(grpc_request(&golden, &url))
        .await
        .expect("gRPC caption over https")
        .into_inner();
    assert_eq!(caption.caption, golden.text);
    assert_eq!(good.failed_handshakes(), Vec::<String>::new());

    // (b) The same host as `127.0.0.1`, a name the certificate does not hold; (c) a certificate
    // from a CA the server was not given.
    let cases = [
        (
            good.url("127.0.0.1", "/image.png"),
            "the server's TLS certificate is not valid for the host name `127.0.0.1` \
             (it is valid only for localhost)",
        ),
        (
            rogue.url("localhost", "/image.png"),
            "the TLS certificate of `localhost` is not trusted: unknown issuer",
        ),
    ];
    for (url, words) in &cases {
        let message = assert_http_error(
            &rest.post("/v1/caption", &rest_body(&golden, url)).await,
            400,
            "invalid_request",
        );
        assert!(
            message.starts_with("`image_url` could not be fetched: ") && message.contains(words),
            "{url}: {message}"
        );
        let message = assert_grpc_error(
            grpc.caption(grpc_request(&golden, url)).await,
            Code::InvalidArgument,
        );
        assert!(
            message.starts_with("`image_url` could not be fetched: ") && message.contains(words),
            "gRPC {url}: {message}"
        );
    }
    // The refusals happened in the handshake: the fetcher aborted it with an alert, once per
    // request.
    for (host, alert) in [(&good, "BadCertificate"), (&rogue, "UnknownCA")] {
        let failed = host.failed_handshakes();
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert!(failed.iter().all(|seen| seen.contains(alert)), "{failed:?}");
    }
}

#[tokio::test]
async fn an_unusable_ca_file_stops_the_server_naming_the_flag_and_the_path() {
    let dir = TempDir::new();
    let missing = dir.path().join("missing.pem");
    let not_pem = dir.path().join("not-pem.pem");
    std::fs::write(&not_pem, "not a certificate\n").expect("write");
    for (path, words) in [
        (&missing, "cannot read it"),
        (&not_pem, "holds no PEM certificate"),
    ] {
        let (status, log) = Server::refused(options(path)).await;
        assert!(!status.success(), "{path:?} started");
        let expected = format!("--media-url-ca-file {}: {words}", path.display());
        assert!(log.contains(&expected), "{expected} not in:\n{log}");
    }
}
