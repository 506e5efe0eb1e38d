//! Streamed answers: gRPC `CaptionStream` / `VqaStream` deltas add up to the golden answers
//! exactly (the last message `finished`), some answers arrive in several pieces, and a REST chat
//! stream whose client leaves has its decoding cancelled (`reason="cancelled"`).

use std::{
    io::{BufRead, BufReader},
    time::{Duration, Instant},
};

use futures::StreamExt;
use mplug2_e2e_tests::{
    Server, ServerOptions,
    goldens::Goldens,
    metrics::{Scraped, scrape},
    rest::Rest,
};
use mplug2_proto::v1 as pb;
use serde_json::json;

/// The deltas of a stream, checking that only the last one is `finished`.
async fn deltas(mut stream: tonic::Streaming<pb::TextDelta>) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut finished = false;
    while let Some(delta) = stream.next().await {
        let delta = delta.expect("stream message");
        assert!(!finished, "a message after the finished one");
        finished = delta.finished;
        pieces.push(delta.text);
    }
    assert!(finished, "the stream ended without a finished message");
    pieces
}

#[tokio::test]
async fn grpc_streams_add_up_to_every_golden_answer() {
    let server = Server::ready(ServerOptions::default()).await;
    let goldens = Goldens::load();
    let mut grpc = server.grpc_client().await;
    let mut pieces_of_answers = Vec::new();
    for golden in goldens.vqa() {
        let request = pb::VqaRequest {
            media: Some(goldens.media(&golden.media).proto()),
            question: golden.question.clone(),
            decoding: Some(pb::DecodeOptions {
                beam_size: Some(golden.params.beam_size),
                min_length: Some(golden.params.min_length),
                max_length: Some(golden.params.max_length),
            }),
            ..Default::default()
        };
        let pieces = deltas(grpc.vqa_stream(request).await.unwrap().into_inner()).await;
        assert_eq!(
            pieces.concat(),
            golden.answer,
            "{:?}: {pieces:?}",
            golden.question
        );
        pieces_of_answers.push(pieces.iter().filter(|p| !p.is_empty()).count());
    }
    assert!(
        pieces_of_answers.iter().any(|&n| n > 1),
        "some answer streams in several pieces: {pieces_of_answers:?}"
    );
    for golden in goldens.captions() {
        let request = golden.grpc_request(&goldens.media(&golden.media));
        let pieces = deltas(grpc.caption_stream(request).await.unwrap().into_inner()).await;
        assert_eq!(pieces.concat(), golden.text, "caption of {}", golden.media);
    }
    // A refusal is the call's status, before any message.
    let status = grpc
        .vqa_stream(pb::VqaRequest {
            media: Some(goldens.media("image_97x131").proto()),
            question: String::new(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
}

fn cancelled(scraped: &Scraped) -> f64 {
    scraped.value(
        "mplug2_dropped_items_total",
        &[("module", "decoder"), ("reason", "cancelled")],
    )
}

#[tokio::test]
async fn a_chat_stream_whose_client_leaves_stops_decoding() {
    const STEPS: u32 = 150;
    let max = STEPS.to_string();
    let server = Server::ready(ServerOptions::args(&["--max-decode-length", &max])).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let golden = &goldens.vqa()[7];
    let image = goldens.media(&golden.media).json_fields();
    let url = format!("data:image/png;base64,{}", image["image"].as_str().unwrap());
    let body = json!({
        "messages": [{ "role": "user", "content": [
            { "type": "image_url", "image_url": { "url": url } },
            { "type": "text", "text": golden.question } ] }],
        "temperature": 0.0, "min_tokens": STEPS, "max_tokens": STEPS, "stream": true,
    });
    let before = cancelled(&scrape(&rest).await);
    let address = server.http.trim_start_matches("http://").to_owned();
    let reader = std::thread::spawn(move || {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        let body = serde_json::to_vec(&body).unwrap();
        let head = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body).unwrap();
        // Read up to the first text chunk, then leave.
        let mut lines = BufReader::new(stream).lines();
        let first_text = lines.by_ref().map_while(Result::ok).find(|line| {
            line.starts_with("data: ")
                && line.contains("\"content\":\"")
                && !line.contains("\"content\":\"\"")
        });
        first_text.expect("a text chunk before the end")
    });
    let first = tokio::task::spawn_blocking(move || reader.join().unwrap())
        .await
        .unwrap();
    assert!(first.contains("chat.completion.chunk"), "{first}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if cancelled(&scrape(&rest).await) > before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the decoding was never cancelled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
