//! Media URLs and SSRF: the real server fetching from real HTTP servers this test starts on
//! loopback. Refused when off, when the host is not allowlisted, for loopback even when
//! allowlisted (unless the test-only permission is on), on a redirect to a host not allowlisted,
//! for file:// and other schemes, for credentials, past the byte cap while streaming, past the
//! timeout; a good allowlisted URL answers the golden caption. Over REST (JSON and multipart) and
//! gRPC.

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Router,
    body::{Body, Bytes},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use mplug2_e2e_tests::{
    Server, ServerOptions,
    errors::{assert_grpc_error, assert_http_error},
    frames_20_video,
    goldens::Goldens,
    media::TestMedia,
    rest::Rest,
};
use mplug2_proto::v1 as pb;
use serde_json::{Value, json};
use tonic::Code;

/// The byte cap of the servers under test (`--max-image-bytes`), above every golden image.
const IMAGE_CAP: usize = 200_000;

/// An HTTP server on 127.0.0.1:0 serving what the cases need; counts the bytes its endless
/// route has sent, so the test can tell the reader stopped.
struct MediaHost {
    port: u16,
    endless_sent: Arc<AtomicUsize>,
}

impl MediaHost {
    async fn start(image: Vec<u8>, video: Vec<u8>) -> MediaHost {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let endless_sent = Arc::new(AtomicUsize::new(0));
        let sent = Arc::clone(&endless_sent);
        let image = Bytes::from(image);
        let video = Bytes::from(video);
        let app = Router::new()
            .route("/image.png", get(move || async move { image.clone() }))
            .route("/video.mp4", get(move || async move { video.clone() }))
            .route(
                "/to-ip",
                get(move || async move {
                    Redirect::temporary(&format!("http://127.0.0.1:{port}/image.png"))
                }),
            )
            .route(
                "/to-image",
                get(move || async move {
                    Redirect::temporary(&format!("http://localhost:{port}/image.png"))
                }),
            )
            .route("/loop", get(|| async { Redirect::temporary("/loop") }))
            .route(
                "/to-file",
                get(|| async { Redirect::temporary("file:///etc/passwd") }),
            )
            .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
            .route("/endless", get(move || endless(Arc::clone(&sent))))
            .route("/declares-huge", get(declares_huge))
            .route("/slow", get(slow));
        tokio::spawn(async move { axum::serve(listener, app).await });
        MediaHost { port, endless_sent }
    }

    fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    /// A URL on the allowlisted name `localhost`.
    fn allowed(&self, path: &str) -> String {
        self.url("localhost", path)
    }
}

/// A chunked body (no Content-Length) that never ends: 64 KiB chunks until the reader hangs up.
async fn endless(sent: Arc<AtomicUsize>) -> Response {
    let chunk = Bytes::from(vec![0x42u8; 64 << 10]);
    let stream = futures::stream::unfold((), move |()| {
        let chunk = chunk.clone();
        let sent = Arc::clone(&sent);
        async move {
            sent.fetch_add(chunk.len(), Ordering::SeqCst);
            Some((Ok::<_, Infallible>(chunk), ()))
        }
    });
    Body::from_stream(stream).into_response()
}

/// Declares a body far over the cap, sends a little of it and then stalls (ending early would
/// make hyper drop the connection before the headers go out).
async fn declares_huge() -> Response {
    use futures::StreamExt;
    let stream = futures::stream::once(async { Ok::<_, Infallible>(Bytes::from_static(b"x")) })
        .chain(futures::stream::pending());
    let mut response = Body::from_stream(stream).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, (1u64 << 40).into());
    response
}

/// Headers at once, then a body that never arrives.
async fn slow() -> Response {
    let stream = futures::stream::pending::<Result<Bytes, Infallible>>();
    Body::from_stream(stream).into_response()
}

fn server_options(extra: &[&str]) -> ServerOptions {
    let mut args = vec!["--max-image-bytes".to_owned(), IMAGE_CAP.to_string()];
    args.extend(extra.iter().map(|a| a.to_string()));
    ServerOptions {
        args,
        ..ServerOptions::default()
    }
}

/// A server that fetches from `localhost` and may reach loopback (the test-only permission).
fn permissive() -> ServerOptions {
    server_options(&[
        "--media-urls",
        "true",
        "--media-url-allowed-hosts",
        "localhost,*.example.invalid",
        "--media-url-allow-private-addresses",
        "true",
        "--media-url-max-redirects",
        "2",
        "--media-url-timeout-ms",
        "1500",
    ])
}

/// The golden caption of the demo image served at `/image.png`, with its decoding.
struct ImageGolden {
    png: Vec<u8>,
    decoding: Value,
    caption: String,
}

fn image_golden(goldens: &Goldens) -> ImageGolden {
    let golden = goldens
        .captions()
        .into_iter()
        .find(|c| matches!(goldens.media(&c.media), TestMedia::Image(_)))
        .expect("an image caption golden");
    let TestMedia::Image(png) = goldens.media(&golden.media) else {
        unreachable!()
    };
    ImageGolden {
        png,
        decoding: json!({
            "beam_size": golden.params.beam_size,
            "min_length": golden.params.min_length,
            "max_length": golden.params.max_length,
        }),
        caption: golden.text,
    }
}

/// The golden caption of `frames_20` with the package's decoding (the video at `/video.mp4`).
fn video_caption(goldens: &Goldens) -> String {
    goldens
        .captions()
        .into_iter()
        .find(|c| c.media == "frames_20" && c.params.beam_size == 5)
        .expect("frames_20 golden")
        .text
}

fn with(mut body: Value, field: &str, url: &str) -> Value {
    body[field] = json!(url);
    body
}

fn grpc_caption(media: pb::media::Kind, decoding: Option<pb::DecodeOptions>) -> pb::CaptionRequest {
    pb::CaptionRequest {
        media: Some(pb::Media { kind: Some(media) }),
        decoding,
        ..Default::default()
    }
}

#[tokio::test]
async fn allowlisted_urls_answer_the_goldens_over_rest_and_grpc() {
    let goldens = Goldens::load();
    let image = image_golden(&goldens);
    let host = MediaHost::start(image.png.clone(), frames_20_video()).await;
    let server = Server::ready(permissive()).await;
    let rest = Rest::new(&server);

    let body = with(
        image.decoding.clone(),
        "image_url",
        &host.allowed("/image.png"),
    );
    let (status, answer) = rest.post("/v1/caption", &body).await;
    assert_eq!(
        (status, &answer["caption"]),
        (200, &json!(image.caption)),
        "{answer}"
    );

    // Through an allowed redirect, and as a multipart field.
    let body = with(
        image.decoding.clone(),
        "image_url",
        &host.allowed("/to-image"),
    );
    let (status, answer) = rest.post("/v1/caption", &body).await;
    assert_eq!(
        (status, &answer["caption"]),
        (200, &json!(image.caption)),
        "{answer}"
    );
    let mut form = reqwest::multipart::Form::new().text("image_url", host.allowed("/image.png"));
    for (name, value) in image.decoding.as_object().expect("decoding") {
        form = form.text(name.clone(), value.to_string());
    }
    let (status, answer) = rest.post_form("/v1/caption", form).await;
    assert_eq!(
        (status, &answer["caption"]),
        (200, &json!(image.caption)),
        "{answer}"
    );

    let body = json!({ "video_url": host.allowed("/video.mp4") });
    let (status, answer) = rest.post("/v1/caption", &body).await;
    assert_eq!(
        (status, &answer["caption"]),
        (200, &json!(video_caption(&goldens))),
        "{answer}"
    );

    let mut grpc = server.grpc_client().await;
    let decoding = pb::DecodeOptions {
        beam_size: image.decoding["beam_size"].as_u64().map(|v| v as u32),
        min_length: image.decoding["min_length"].as_u64().map(|v| v as u32),
        max_length: image.decoding["max_length"].as_u64().map(|v| v as u32),
    };
    let request = grpc_caption(
        pb::media::Kind::ImageUrl(host.allowed("/image.png")),
        Some(decoding),
    );
    let caption = grpc
        .caption(request)
        .await
        .expect("gRPC caption")
        .into_inner();
    assert_eq!(caption.caption, image.caption);
    let request = grpc_caption(pb::media::Kind::VideoUrl(host.allowed("/video.mp4")), None);
    let caption = grpc
        .caption(request)
        .await
        .expect("gRPC caption")
        .into_inner();
    assert_eq!(caption.caption, video_caption(&goldens));
}

#[tokio::test]
async fn unsafe_urls_are_refused_with_their_reason() {
    let goldens = Goldens::load();
    let image = image_golden(&goldens);
    let host = MediaHost::start(image.png.clone(), frames_20_video()).await;
    let server = Server::ready(permissive()).await;
    let rest = Rest::new(&server);
    let mut grpc = server.grpc_client().await;

    // (URL, status, type, words the message must hold)
    let cases: Vec<(String, u16, &str, &str)> = vec![
        (
            host.url("127.0.0.1", "/image.png"),
            400,
            "invalid_request",
            "`127.0.0.1` is not allowed",
        ),
        (
            "http://example.com/a.png".into(),
            400,
            "invalid_request",
            "`example.com` is not allowed",
        ),
        (
            host.allowed("/to-ip"),
            400,
            "invalid_request",
            "`127.0.0.1` is not allowed",
        ),
        (
            "file:///etc/passwd".into(),
            400,
            "invalid_request",
            "scheme `file` is not served",
        ),
        (
            host.allowed("/to-file"),
            400,
            "invalid_request",
            "scheme `file` is not served",
        ),
        (
            "gopher://localhost/x".into(),
            400,
            "invalid_request",
            "scheme `gopher` is not served",
        ),
        (
            format!("http://user:secret@localhost:{}/image.png", host.port),
            400,
            "invalid_request",
            "credentials",
        ),
        (
            "not a url".into(),
            400,
            "invalid_request",
            "not a valid URL",
        ),
        (
            host.allowed("/loop"),
            400,
            "invalid_request",
            "redirected more than 2 times",
        ),
        (host.allowed("/missing"), 400, "invalid_request", "404"),
        (
            host.allowed("/declares-huge"),
            413,
            "payload_too_large",
            "declares 1099511627776 bytes",
        ),
        (
            host.allowed("/endless"),
            413,
            "payload_too_large",
            "limit of 200000 bytes",
        ),
        (host.allowed("/slow"), 504, "timeout", "1500 ms"),
    ];
    for (url, status, kind, words) in &cases {
        let body = json!({ "image_url": url, "question": "what is it?" });
        let message = assert_http_error(&rest.post("/v1/vqa", &body).await, *status, kind);
        assert!(message.contains(words), "{url}: {message}");
        let request = pb::VqaRequest {
            media: Some(pb::Media {
                kind: Some(pb::media::Kind::ImageUrl(url.clone())),
            }),
            question: "what is it?".into(),
            decoding: None,
            ..Default::default()
        };
        let code = match *status {
            504 => Code::DeadlineExceeded,
            _ => Code::InvalidArgument,
        };
        let message = assert_grpc_error(grpc.vqa(request).await, code);
        assert!(message.contains(words), "gRPC {url}: {message}");
    }
    // The endless body was abandoned near the cap, not read to the end (it has no end): the
    // server sent at most the cap plus what the socket buffers hold.
    let sent = host.endless_sent.load(Ordering::SeqCst);
    assert!(
        sent < 64 << 20,
        "the endless body was read for {sent} bytes"
    );

    // URLs and bytes together, and both URL kinds, are malformed requests.
    let body = json!({ "image_url": host.allowed("/image.png"), "image": "AA==" });
    let message = assert_http_error(
        &rest.post("/v1/caption", &body).await,
        400,
        "invalid_request",
    );
    assert!(message.contains("not both"), "{message}");
    let body =
        json!({ "image_url": host.allowed("/image.png"), "video_url": host.allowed("/video.mp4") });
    assert_http_error(
        &rest.post("/v1/caption", &body).await,
        400,
        "invalid_request",
    );

    // Still serving good requests after all of that.
    let body = with(image.decoding, "image_url", &host.allowed("/image.png"));
    let (status, answer) = rest.post("/v1/caption", &body).await;
    assert_eq!(
        (status, &answer["caption"]),
        (200, &json!(image.caption)),
        "{answer}"
    );
}

#[tokio::test]
async fn loopback_is_refused_even_when_allowlisted() {
    let host = MediaHost::start(vec![1, 2, 3], vec![4, 5, 6]).await;
    let server = Server::ready(server_options(&[
        "--media-urls",
        "true",
        "--media-url-allowed-hosts",
        "localhost,127.0.0.1,[::1]",
    ]))
    .await;
    let rest = Rest::new(&server);
    let mut grpc = server.grpc_client().await;
    for url in [
        host.allowed("/image.png"),
        host.url("127.0.0.1", "/image.png"),
        host.url("[::1]", "/image.png"),
    ] {
        let body = json!({ "image_url": url });
        let message = assert_http_error(
            &rest.post("/v1/caption", &body).await,
            400,
            "invalid_request",
        );
        assert!(
            message.contains("non-public address: loopback"),
            "{url}: {message}"
        );
        let request = grpc_caption(pb::media::Kind::ImageUrl(url.clone()), None);
        let message = assert_grpc_error(grpc.caption(request).await, Code::InvalidArgument);
        assert!(
            message.contains("non-public address: loopback"),
            "gRPC {url}: {message}"
        );
    }
}

#[tokio::test]
async fn urls_are_refused_when_the_feature_is_off() {
    let host = MediaHost::start(vec![1, 2, 3], vec![4, 5, 6]).await;
    let server = Server::ready(server_options(&[])).await;
    let rest = Rest::new(&server);
    for (field, route) in [("image_url", "/v1/caption"), ("video_url", "/v1/match")] {
        let body = json!({ field: host.allowed("/image.png"), "texts": ["a"] });
        let message = assert_http_error(&rest.post(route, &body).await, 400, "invalid_request");
        assert!(message.contains("--media-urls is off"), "{message}");
    }
    let form = reqwest::multipart::Form::new()
        .text("image_url", host.allowed("/image.png"))
        .text("labels", "a");
    let message = assert_http_error(
        &rest.post_form("/v1/classify", form).await,
        400,
        "invalid_request",
    );
    assert!(message.contains("--media-urls is off"), "{message}");
    let mut grpc = server.grpc_client().await;
    let request = grpc_caption(pb::media::Kind::VideoUrl(host.allowed("/video.mp4")), None);
    let message = assert_grpc_error(grpc.caption(request).await, Code::InvalidArgument);
    assert!(message.contains("--media-urls is off"), "{message}");
}

/// Not a case of its own: proves the media host answers, so a refusal above is the server's.
#[tokio::test]
async fn the_media_host_serves_what_the_cases_fetch() {
    let host = MediaHost::start(vec![1, 2, 3], vec![4, 5, 6]).await;
    let client = mplug2_e2e_tests::http_client::http_client();
    let response = client
        .get(host.allowed("/image.png"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.bytes().await.expect("body").as_ref(), &[1, 2, 3]);
}
