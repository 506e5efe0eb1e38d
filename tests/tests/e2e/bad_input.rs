//! The bad-input suite (as Triton's L0_input_validation): a table of malformed, corrupt and
//! oversized requests over REST and gRPC, each answered with its row of the error table (status,
//! error type, gRPC code, and a message naming the limit and the value), while the server keeps
//! answering a good request with the golden caption between every two cases.

use mplug2_e2e_tests::{
    Server, ServerOptions,
    bad_media::{flipped, jpeg_declaring, padded, png_declaring, tiny_png, truncated},
    frames_20_video,
    goldens::Goldens,
    grpc_raw,
    media::TestMedia,
    rest::Rest,
};
use mplug2_proto::v1::{self as pb, inference_client::InferenceClient};
use prost::Message;
use serde_json::{Value, json};
use tonic::{Code, transport::Channel};

/// Small limits, so that every one of them can be crossed with the demo inputs.
const LIMITS: [&str; 26] = [
    "--max-body-bytes",
    "400000",
    "--max-image-bytes",
    "100000",
    "--max-image-pixels",
    "200000",
    "--max-image-side",
    "1000",
    "--max-frames",
    "8",
    "--max-video-bytes",
    "100000",
    "--max-video-duration-s",
    "1",
    "--max-text-chars",
    "40",
    "--max-question-chars",
    "30",
    "--max-inputs",
    "3",
    "--max-texts",
    "2",
    "--max-labels",
    "2",
    "--max-beam-size",
    "6",
];

/// A REST request as bytes on the wire.
struct RestCall {
    path: &'static str,
    content_type: Option<&'static str>,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
}

fn json_call(path: &'static str, body: Value) -> RestCall {
    raw_call(path, "application/json", serde_json::to_vec(&body).unwrap())
}

fn raw_call(path: &'static str, content_type: &'static str, body: Vec<u8>) -> RestCall {
    RestCall {
        path,
        content_type: Some(content_type),
        headers: Vec::new(),
        body,
    }
}

/// A multipart body with one text part `question` holding `question` bytes and an image part.
fn multipart_call(path: &'static str, image: &[u8], question: &[u8]) -> RestCall {
    let boundary = "mplug2-boundary";
    let mut body = Vec::new();
    for (name, bytes, file) in [("image", image, true), ("question", question, false)] {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").bytes(),
        );
        if file {
            body.extend(b"; filename=\"image.png\"");
        }
        body.extend(b"\r\n\r\n");
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    raw_call(path, "multipart/form-data; boundary=mplug2-boundary", body)
}

enum GrpcCall {
    Caption(pb::CaptionRequest),
    Vqa(pb::VqaRequest),
    Embed(pb::EmbedRequest),
    Match(pb::MatchRequest),
    Classify(pb::ClassifyRequest),
    /// Hand-made message bytes sent to a method path.
    Raw(&'static str, Vec<u8>),
}

/// One row of the table: the request over each protocol it applies to, and the answer expected.
struct Case {
    name: &'static str,
    rest: Option<RestCall>,
    grpc: Option<GrpcCall>,
    status: u16,
    kind: &'static str,
    code: Code,
    /// Words the message must hold (the limit's flag and the value, or what is wrong).
    needles: Vec<String>,
}

fn case(name: &'static str, status: u16, kind: &'static str, code: Code) -> Case {
    Case {
        name,
        rest: None,
        grpc: None,
        status,
        kind,
        code,
        needles: Vec::new(),
    }
}

impl Case {
    fn rest(mut self, call: RestCall) -> Case {
        self.rest = Some(call);
        self
    }

    fn grpc(mut self, call: GrpcCall) -> Case {
        self.grpc = Some(call);
        self
    }

    fn naming(mut self, needles: &[&str]) -> Case {
        self.needles = needles.iter().map(|n| n.to_string()).collect();
        self
    }
}

fn invalid(name: &'static str) -> Case {
    case(name, 400, "invalid_request", Code::InvalidArgument)
}

fn too_large(name: &'static str) -> Case {
    case(name, 413, "payload_too_large", Code::InvalidArgument)
}

fn unsupported(name: &'static str) -> Case {
    case(name, 415, "unsupported_media_type", Code::InvalidArgument)
}

fn caption(media: &TestMedia) -> GrpcCall {
    GrpcCall::Caption(pb::CaptionRequest {
        media: Some(media.proto()),
        decoding: None,
        ..Default::default()
    })
}

fn vqa(media: &TestMedia, question: &str) -> GrpcCall {
    GrpcCall::Vqa(pb::VqaRequest {
        media: Some(media.proto()),
        question: question.into(),
        decoding: None,
        ..Default::default()
    })
}

fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

fn image_bytes(media: &TestMedia) -> Vec<u8> {
    match media {
        TestMedia::Image(bytes) => bytes.clone(),
        other => panic!("not an image: {other:?}"),
    }
}

fn cases(goldens: &Goldens) -> Vec<Case> {
    let image = goldens.media("image_97x131");
    let png = image_bytes(&image);
    let jpeg = image_bytes(&goldens.files("jpeg_160x120"));
    let video = frames_20_video();
    let img = |bytes: Vec<u8>| TestMedia::Image(bytes);
    let vid = |bytes: Vec<u8>| TestMedia::Video(bytes);
    let frames = |list: Vec<Vec<u8>>| TestMedia::Frames(list);
    let with = |media: &TestMedia, extra: Value| media.json_body(extra);
    let question = json!({ "question": "what is it?" });
    let bomb = png_declaring(100_000, 100_000);
    let pixel_bomb = png_declaring(1000, 1000);
    let huge_jpeg = jpeg_declaring(&jpeg, 60_000, 60_000);
    let thousands: Vec<Vec<u8>> = vec![tiny_png(); 2000];
    let long_question = "why ".repeat(10); // 40 characters
    let long_text = "a ".repeat(30); // 60 characters
    let vqa_bytes = |question: &str| {
        pb::VqaRequest {
            media: Some(image.proto()),
            question: question.into(),
            decoding: None,
            ..Default::default()
        }
        .encode_to_vec()
    };
    let mut not_utf8_question = vqa_bytes("");
    not_utf8_question.extend(grpc_raw::bytes_field(2, b"what \xff\xfe is it"));
    let mut oversized_body = b"{\"image\": \"".to_vec();
    oversized_body.extend(vec![b'A'; 500_000]);
    oversized_body.extend(b"\"}");

    vec![
        // The body itself.
        invalid("malformed JSON")
            .rest(raw_call(
                "/v1/vqa",
                "application/json",
                b"{\"question\": ".to_vec(),
            ))
            .naming(&["not a JSON object"]),
        invalid("a JSON array instead of an object")
            .rest(raw_call(
                "/v1/caption",
                "application/json",
                b"[1, 2, 3]".to_vec(),
            ))
            .naming(&["not a JSON object"]),
        invalid("an empty JSON body")
            .rest(raw_call("/v1/caption", "application/json", Vec::new()))
            .naming(&["not a JSON object"]),
        invalid("invalid UTF-8 inside JSON")
            .rest(raw_call(
                "/v1/vqa",
                "application/json",
                b"{\"question\": \"what \xff\xfe is it\"}".to_vec(),
            ))
            .naming(&["not a JSON object"]),
        invalid("invalid UTF-8 in a multipart text part")
            .rest(multipart_call("/v1/vqa", &png, b"what \xff\xfe is it"))
            .naming(&["question"]),
        invalid("invalid UTF-8 in a gRPC string")
            .grpc(GrpcCall::Raw("/mplug2.v1.Inference/Vqa", not_utf8_question))
            .naming(&["does not parse", "UTF-8"]),
        invalid("a gRPC message that does not parse")
            .grpc(GrpcCall::Raw(
                "/mplug2.v1.Inference/Caption",
                vec![0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 0x01],
            ))
            .naming(&["does not parse"]),
        invalid("malformed multipart (no closing boundary)")
            .rest(raw_call(
                "/v1/caption",
                "multipart/form-data; boundary=x",
                b"--x\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc".to_vec(),
            ))
            .naming(&["multipart"]),
        unsupported("Content-Type text/plain")
            .rest(raw_call("/v1/caption", "text/plain", b"hello".to_vec()))
            .naming(&["text/plain"]),
        unsupported("Content-Type application/xml")
            .rest(raw_call("/v1/vqa", "application/xml", b"<vqa/>".to_vec()))
            .naming(&["application/xml"]),
        unsupported("no Content-Type").rest(RestCall {
            path: "/v1/caption",
            content_type: None,
            headers: Vec::new(),
            body: b"{}".to_vec(),
        }),
        too_large("a body over --max-body-bytes")
            .rest(raw_call("/v1/caption", "application/json", oversized_body))
            .naming(&["--max-body-bytes", "400000"]),
        too_large("a gRPC message over --max-body-bytes")
            .grpc(caption(&img(padded(&png, 500_000))))
            .naming(&["--max-body-bytes", "400000"]),
        too_large("a gRPC message over twice --max-body-bytes (refused by its length prefix)")
            .grpc(caption(&img(padded(&png, 900_000))))
            .naming(&["--max-body-bytes", "400000"]),
        // Fields: types, names, values.
        invalid("a number where a text belongs")
            .rest(json_call(
                "/v1/vqa",
                with(&image, json!({ "question": 42 })),
            ))
            .naming(&["question"]),
        invalid("a number where an image belongs")
            .rest(json_call("/v1/caption", json!({ "image": 12345 })))
            .naming(&["image"]),
        invalid("a string where a number belongs")
            .rest(json_call(
                "/v1/caption",
                with(&image, json!({ "beam_size": "3" })),
            ))
            .naming(&["beam_size"]),
        invalid("a negative number")
            .rest(json_call(
                "/v1/caption",
                with(&image, json!({ "max_length": -1 })),
            ))
            .naming(&["max_length"]),
        invalid("texts as a string instead of a list")
            .rest(json_call(
                "/v1/match",
                with(&image, json!({ "texts": "a dog" })),
            ))
            .naming(&["texts"]),
        invalid("bad base64")
            .rest(json_call(
                "/v1/caption",
                json!({ "image": "%%%not base64%%%" }),
            ))
            .naming(&["base64"]),
        invalid("an unknown field")
            .rest(json_call(
                "/v1/caption",
                with(&image, json!({ "beams": 3 })),
            ))
            .naming(&["unknown field `beams`"]),
        invalid("an unknown embeddings input kind")
            .rest(json_call(
                "/v1/embeddings",
                json!({ "input": [{ "audio": "AAAA" }] }),
            ))
            .naming(&["give one of `image`, `video` or `frames`"]),
        invalid("an unknown encoding_format")
            .rest(json_call(
                "/v1/embeddings",
                json!({ "input": "a", "encoding_format": "int8" }),
            ))
            .naming(&["encoding_format", "int8"]),
        invalid("no media")
            .rest(json_call("/v1/vqa", question.clone()))
            .naming(&["give one of `image`, `video` or `frames`"]),
        invalid("no media message")
            .grpc(GrpcCall::Caption(pb::CaptionRequest {
                media: None,
                decoding: None,
                ..Default::default()
            }))
            .naming(&["media"]),
        invalid("two media at once")
            .rest(json_call(
                "/v1/caption",
                with(&image, json!({ "video": "AAAA" })),
            ))
            .naming(&["only one"]),
        invalid("beam_size 0")
            .rest(json_call(
                "/v1/caption",
                with(&image, json!({ "beam_size": 0 })),
            ))
            .grpc(GrpcCall::Caption(pb::CaptionRequest {
                media: Some(image.proto()),
                decoding: Some(pb::DecodeOptions {
                    beam_size: Some(0),
                    ..Default::default()
                }),
                ..Default::default()
            }))
            .naming(&["beam_size"]),
        invalid("beam_size over --max-beam-size")
            .rest(json_call(
                "/v1/caption",
                with(&image, json!({ "beam_size": 7 })),
            ))
            .grpc(GrpcCall::Caption(pb::CaptionRequest {
                media: Some(image.proto()),
                decoding: Some(pb::DecodeOptions {
                    beam_size: Some(7),
                    ..Default::default()
                }),
                ..Default::default()
            }))
            .naming(&["--max-beam-size", "7"]),
        invalid("max_length over --max-decode-length")
            .rest(json_call(
                "/v1/caption",
                with(&image, json!({ "max_length": 65 })),
            ))
            .naming(&["--max-decode-length", "65"]),
        invalid("min_length over max_length")
            .rest(json_call(
                "/v1/caption",
                with(&image, json!({ "min_length": 9, "max_length": 5 })),
            ))
            .naming(&["min_length", "9", "5"]),
        invalid("a malformed x-request-timeout-ms header")
            .rest(RestCall {
                headers: vec![("x-request-timeout-ms", "soon")],
                ..json_call("/v1/caption", with(&image, json!({})))
            })
            .naming(&["x-request-timeout-ms", "soon"]),
        // Media that does not decode.
        invalid("a truncated PNG")
            .rest(json_call(
                "/v1/caption",
                with(&img(truncated(&png, 200)), json!({})),
            ))
            .grpc(caption(&img(truncated(&png, 200))))
            .naming(&["image"]),
        invalid("a PNG with flipped pixel data")
            .rest(json_call(
                "/v1/caption",
                with(&img(flipped(&png, 100..400)), json!({})),
            ))
            .grpc(caption(&img(flipped(&png, 100..400))))
            .naming(&["image"]),
        invalid("a truncated JPEG")
            .rest(json_call(
                "/v1/caption",
                with(&img(truncated(&jpeg, 300)), json!({})),
            ))
            .grpc(caption(&img(truncated(&jpeg, 300))))
            .naming(&["image"]),
        unsupported("bytes that are no image format")
            .rest(json_call(
                "/v1/caption",
                with(&img(flipped(&png, 0..8)), json!({})),
            ))
            .grpc(caption(&img(flipped(&png, 0..8))))
            .naming(&["image"]),
        invalid("an empty image")
            .rest(json_call("/v1/caption", json!({ "image": "" })))
            .grpc(caption(&img(Vec::new())))
            .naming(&["image", "empty"]),
        // Images too large, checked from the header before decoding.
        too_large("a decompression bomb (PNG declaring 100000×100000)")
            .rest(json_call(
                "/v1/caption",
                with(&img(bomb.clone()), json!({})),
            ))
            .grpc(caption(&img(bomb)))
            .naming(&["--max-image-side", "100000"]),
        too_large("a pixel bomb within the side limit (PNG declaring 1000×1000)")
            .rest(json_call(
                "/v1/caption",
                with(&img(pixel_bomb.clone()), json!({})),
            ))
            .grpc(caption(&img(pixel_bomb)))
            .naming(&["--max-image-pixels", "1000000"]),
        too_large("a JPEG declaring 60000×60000")
            .rest(json_call(
                "/v1/caption",
                with(&img(huge_jpeg.clone()), json!({})),
            ))
            .grpc(caption(&img(huge_jpeg)))
            .naming(&["--max-image-side", "60000"]),
        too_large("an image over --max-image-bytes")
            .rest(json_call(
                "/v1/caption",
                with(&img(padded(&png, 120_000)), json!({})),
            ))
            .grpc(caption(&img(padded(&png, 120_000))))
            .naming(&["--max-image-bytes", "120000"]),
        // Frame lists.
        invalid("zero frames")
            .rest(json_call("/v1/caption", json!({ "frames": [] })))
            .grpc(caption(&frames(Vec::new())))
            .naming(&["frames", "empty"]),
        too_large("thousands of frames")
            .rest(json_call(
                "/v1/caption",
                with(&frames(thousands.clone()), json!({})),
            ))
            .grpc(caption(&frames(thousands)))
            .naming(&["--max-frames", "2000"]),
        invalid("a frame list holding an empty image")
            .rest(json_call(
                "/v1/caption",
                with(&frames(vec![png.clone(), Vec::new()]), json!({})),
            ))
            .grpc(caption(&frames(vec![png.clone(), Vec::new()])))
            .naming(&["frames", "empty"]),
        invalid("a frame list holding a truncated image")
            .rest(json_call(
                "/v1/caption",
                with(&frames(vec![png.clone(), truncated(&png, 100)]), json!({})),
            ))
            .grpc(caption(&frames(vec![png.clone(), truncated(&png, 100)])))
            .naming(&["image"]),
        // Videos.
        invalid("a truncated video")
            .rest(json_call(
                "/v1/caption",
                with(&vid(truncated(&video, 2000)), json!({})),
            ))
            .grpc(caption(&vid(truncated(&video, 2000))))
            .naming(&["video"]),
        unsupported("a PNG sent as a video")
            .rest(json_call("/v1/caption", with(&vid(png.clone()), json!({}))))
            .grpc(caption(&vid(png.clone())))
            .naming(&["video container"]),
        too_large("a video over --max-video-duration-s")
            .rest(json_call(
                "/v1/caption",
                with(&vid(video.clone()), json!({})),
            ))
            .grpc(caption(&vid(video.clone())))
            .naming(&["--max-video-duration-s", "2"]),
        too_large("a video over --max-video-bytes")
            .rest(json_call(
                "/v1/caption",
                with(&vid(padded(&video, 120_000)), json!({})),
            ))
            .grpc(caption(&vid(padded(&video, 120_000))))
            .naming(&["--max-video-bytes", "120000"]),
        // Texts.
        invalid("an empty question")
            .rest(json_call(
                "/v1/vqa",
                with(&image, json!({ "question": "" })),
            ))
            .grpc(vqa(&image, ""))
            .naming(&["question"]),
        invalid("a question of spaces")
            .rest(json_call(
                "/v1/vqa",
                with(&image, json!({ "question": "   " })),
            ))
            .grpc(vqa(&image, "   "))
            .naming(&["question", "empty"]),
        too_large("a question over --max-question-chars")
            .rest(json_call(
                "/v1/vqa",
                with(&image, json!({ "question": long_question })),
            ))
            .grpc(vqa(&image, &long_question))
            .naming(&["--max-question-chars", "40 characters"]),
        too_large("an embeddings text over --max-text-chars")
            .rest(json_call("/v1/embeddings", json!({ "input": long_text })))
            .grpc(GrpcCall::Embed(pb::EmbedRequest {
                inputs: vec![pb::EmbedInput {
                    kind: Some(pb::embed_input::Kind::Text(long_text.clone())),
                }],
                ..Default::default()
            }))
            .naming(&["--max-text-chars", "60 characters"]),
        invalid("no embeddings inputs")
            .rest(json_call("/v1/embeddings", json!({ "input": [] })))
            .grpc(GrpcCall::Embed(pb::EmbedRequest {
                inputs: vec![],
                ..Default::default()
            }))
            .naming(&["input", "empty"]),
        too_large("embeddings inputs over --max-inputs")
            .rest(json_call(
                "/v1/embeddings",
                json!({ "input": ["a", "b", "c", "d"] }),
            ))
            .grpc(GrpcCall::Embed(pb::EmbedRequest {
                inputs: ["a", "b", "c", "d"]
                    .map(|t| pb::EmbedInput {
                        kind: Some(pb::embed_input::Kind::Text(t.into())),
                    })
                    .to_vec(),
                ..Default::default()
            }))
            .naming(&["--max-inputs", "4 items"]),
        too_large("match texts over --max-texts")
            .rest(json_call(
                "/v1/match",
                with(&image, json!({ "texts": ["a", "b", "c"] })),
            ))
            .grpc(GrpcCall::Match(pb::MatchRequest {
                media: Some(image.proto()),
                texts: strings(&["a", "b", "c"]),
                ..Default::default()
            }))
            .naming(&["--max-texts", "3 items"]),
        too_large("classify labels over --max-labels")
            .rest(json_call(
                "/v1/classify",
                with(&image, json!({ "labels": ["a", "b", "c"] })),
            ))
            .grpc(GrpcCall::Classify(pb::ClassifyRequest {
                media: Some(image.proto()),
                labels: strings(&["a", "b", "c"]),
                ..Default::default()
            }))
            .naming(&["--max-labels", "3 items"]),
        invalid("no match texts")
            .rest(json_call("/v1/match", with(&image, json!({ "texts": [] }))))
            .grpc(GrpcCall::Match(pb::MatchRequest {
                media: Some(image.proto()),
                texts: vec![],
                ..Default::default()
            }))
            .naming(&["texts", "empty"]),
        invalid("an empty classify label")
            .rest(json_call(
                "/v1/classify",
                with(&image, json!({ "labels": ["a dog", ""] })),
            ))
            .grpc(GrpcCall::Classify(pb::ClassifyRequest {
                media: Some(image.proto()),
                labels: strings(&["a dog", ""]),
                ..Default::default()
            }))
            .naming(&["labels", "empty"]),
        // Tasks that do not exist.
        case(
            "an unknown REST task",
            404,
            "not_found",
            Code::Unimplemented,
        )
        .rest(json_call("/v1/translate", with(&image, json!({}))))
        .naming(&["no such route"]),
        case(
            "an unknown gRPC method",
            404,
            "not_found",
            Code::Unimplemented,
        )
        .grpc(GrpcCall::Raw("/mplug2.v1.Inference/Translate", Vec::new())),
    ]
}

async fn send_rest(rest: &Rest, call: &RestCall) -> (u16, Value) {
    let mut request = rest
        .client()
        .post(rest.url(call.path))
        .body(call.body.clone());
    if let Some(content_type) = call.content_type {
        request = request.header("content-type", content_type);
    }
    for (name, value) in &call.headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn send_grpc(
    client: &mut InferenceClient<Channel>,
    channel: &Channel,
    call: GrpcCall,
) -> Result<(), tonic::Status> {
    match call {
        GrpcCall::Caption(m) => client.caption(m).await.map(drop),
        GrpcCall::Vqa(m) => client.vqa(m).await.map(drop),
        GrpcCall::Embed(m) => client.embed(m).await.map(drop),
        GrpcCall::Match(m) => client.r#match(m).await.map(drop),
        GrpcCall::Classify(m) => client.classify(m).await.map(drop),
        GrpcCall::Raw(path, bytes) => grpc_raw::call(channel.clone(), path, bytes).await.map(drop),
    }
}

#[tokio::test]
async fn every_bad_request_gets_its_documented_error_and_good_ones_still_work() {
    let server = Server::ready(ServerOptions::args(&LIMITS)).await;
    // A connection per request: the server closes one whose body it refused unread.
    let (rest, goldens) = (Rest::fresh_connections(&server), Goldens::load());
    let mut client = server.grpc_client().await;
    let channel = server.channel().await;
    // Every limit set above is shown in /info and in the gRPC Info call.
    let (_, info) = rest.get("/info").await;
    let info: Value = serde_json::from_str(&info).expect("/info JSON");
    let grpc_limits = client
        .info(pb::InfoRequest {})
        .await
        .expect("Info")
        .into_inner()
        .limits
        .expect("limits");
    let grpc_limits = serde_json::json!({
        "max_body_bytes": grpc_limits.max_body_bytes,
        "max_image_bytes": grpc_limits.max_image_bytes,
        "max_image_pixels": grpc_limits.max_image_pixels,
        "max_image_side": grpc_limits.max_image_side,
        "max_frames": grpc_limits.max_frames,
        "max_video_bytes": grpc_limits.max_video_bytes,
        "max_video_duration_s": grpc_limits.max_video_duration_s,
        "max_text_chars": grpc_limits.max_text_chars,
        "max_question_chars": grpc_limits.max_question_chars,
        "max_inputs": grpc_limits.max_inputs,
        "max_texts": grpc_limits.max_texts,
        "max_labels": grpc_limits.max_labels,
        "max_beam_size": grpc_limits.max_beam_size,
    });
    for pair in LIMITS.chunks(2) {
        let name = pair[0].trim_start_matches("--").replace('-', "_");
        let value: u64 = pair[1].parse().unwrap();
        assert_eq!(info["limits"][&name], json!(value), "/info {name}");
        assert_eq!(grpc_limits[&name], json!(value), "gRPC Info {name}");
    }

    let good = goldens.caption_of("image_97x131");
    let good_media = goldens.media(&good.media);
    let good_json = good.rest_body(&good_media);

    let (mut rest_cases, mut grpc_cases) = (0u32, 0u32);
    for case in cases(&goldens) {
        if let Some(call) = &case.rest {
            let (status, body) = send_rest(&rest, call).await;
            assert_eq!(status, case.status, "REST `{}`: {status} {body}", case.name);
            assert_eq!(
                body["error"]["type"], case.kind,
                "REST `{}`: {body}",
                case.name
            );
            let message = body["error"]["message"].as_str().unwrap_or_default();
            for needle in &case.needles {
                assert!(
                    message.contains(needle.as_str()),
                    "REST `{}`: `{needle}` not in {message}",
                    case.name
                );
            }
            rest_cases += 1;
        }
        if let Some(call) = case.grpc {
            let status = send_grpc(&mut client, &channel, call)
                .await
                .expect_err(case.name);
            assert_eq!(status.code(), case.code, "gRPC `{}`: {status:?}", case.name);
            for needle in &case.needles {
                assert!(
                    status.message().contains(needle.as_str()),
                    "gRPC `{}`: `{needle}` not in {}",
                    case.name,
                    status.message()
                );
            }
            grpc_cases += 1;
        }
        // The server still answers a good request correctly, over both protocols in turn.
        if (rest_cases + grpc_cases).is_multiple_of(2) {
            let (status, body) = rest.post("/v1/caption", &good_json).await;
            assert_eq!(
                (status, &body["caption"]),
                (200, &json!(good.text)),
                "after `{}`",
                case.name
            );
        } else {
            let answer = client
                .caption(good.grpc_request(&good_media))
                .await
                .unwrap_or_else(|e| panic!("after `{}`: {e:?}", case.name));
            assert_eq!(
                answer.into_inner().caption,
                good.text,
                "after `{}`",
                case.name
            );
        }
    }
    println!(
        "bad-input cases: {rest_cases} over REST, {grpc_cases} over gRPC, {} in all",
        rest_cases + grpc_cases
    );
    assert!(
        rest_cases >= 40 && grpc_cases >= 25,
        "{rest_cases} REST, {grpc_cases} gRPC cases"
    );
}
