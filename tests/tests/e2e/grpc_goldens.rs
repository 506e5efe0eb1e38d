//! Every gRPC method answers what the goldens say, and the standard health and reflection
//! services are served on the same port.

use mplug2_e2e_tests::{
    Server, ServerOptions, frames_20_video,
    goldens::{DecodeParams, Goldens, assert_close, in_label_order},
    media::TestMedia,
};
use mplug2_proto::v1 as pb;
use tokio_stream::StreamExt;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

fn decoding(params: &DecodeParams) -> Option<pb::DecodeOptions> {
    Some(pb::DecodeOptions {
        beam_size: Some(params.beam_size),
        max_length: Some(params.max_length),
        min_length: Some(params.min_length),
    })
}

#[tokio::test]
async fn generation_methods_equal_the_goldens() {
    let server = Server::ready(ServerOptions::default()).await;
    let goldens = Goldens::load();
    let mut client = server.grpc_client().await;
    for golden in goldens.captions() {
        let request = pb::CaptionRequest {
            media: Some(goldens.media(&golden.media).proto()),
            decoding: decoding(&golden.params),
            ..Default::default()
        };
        let caption = client
            .caption(request)
            .await
            .expect("Caption")
            .into_inner()
            .caption;
        assert_eq!(
            caption, golden.text,
            "caption of {} with {:?}",
            golden.media, golden.params
        );
    }
    for golden in goldens.vqa() {
        let request = pb::VqaRequest {
            media: Some(goldens.media(&golden.media).proto()),
            question: golden.question.clone(),
            decoding: decoding(&golden.params),
            ..Default::default()
        };
        let answer = client.vqa(request).await.expect("Vqa").into_inner().answer;
        assert_eq!(
            answer, golden.answer,
            "answer for {} / {:?}",
            golden.media, golden.question
        );
    }
    let golden = goldens
        .captions()
        .into_iter()
        .find(|c| c.media == "frames_20" && c.params.beam_size == 5)
        .unwrap();
    let request = pb::CaptionRequest {
        media: Some(TestMedia::Video(frames_20_video()).proto()),
        decoding: None,
        ..Default::default()
    };
    assert_eq!(
        client
            .caption(request)
            .await
            .expect("Caption of a video")
            .into_inner()
            .caption,
        golden.text
    );
}

#[tokio::test]
async fn retrieval_methods_equal_the_goldens() {
    let server = Server::ready(ServerOptions::default()).await;
    let goldens = Goldens::load();
    let mut client = server.grpc_client().await;
    let texts = goldens.text_embeddings();
    let media = goldens.media_embeddings();
    let mut inputs: Vec<pb::EmbedInput> = texts
        .iter()
        .map(|(text, _)| pb::EmbedInput {
            kind: Some(pb::embed_input::Kind::Text(text.clone())),
        })
        .collect();
    inputs.extend(
        media
            .iter()
            .map(|(name, _)| goldens.media(name).embed_input()),
    );
    let answer = client
        .embed(pb::EmbedRequest {
            inputs,
            ..Default::default()
        })
        .await
        .expect("Embed")
        .into_inner();
    assert_eq!(answer.model, "mplug2-demo");
    assert_eq!(answer.embeddings.len(), texts.len() + media.len());
    for (index, (embedding, (name, expected))) in answer
        .embeddings
        .iter()
        .zip(texts.iter().chain(&media))
        .enumerate()
    {
        assert_eq!(embedding.index as usize, index);
        assert_close(&format!("embedding of {name}"), &embedding.values, expected);
    }
    for golden in goldens.matches() {
        let request = pb::MatchRequest {
            media: Some(goldens.media(&golden.media).proto()),
            texts: golden.texts.clone(),
            ..Default::default()
        };
        let scores = client
            .r#match(request)
            .await
            .expect("Match")
            .into_inner()
            .scores;
        assert_close(
            &format!("match scores of {}", golden.media),
            &scores,
            &golden.scores,
        );
    }
    for golden in goldens.classifications() {
        let request = pb::ClassifyRequest {
            media: Some(goldens.media(&golden.media).proto()),
            labels: golden.texts.clone(),
            ..Default::default()
        };
        let ranked = client
            .classify(request)
            .await
            .expect("Classify")
            .into_inner()
            .labels;
        assert!(
            ranked.windows(2).all(|w| w[0].score >= w[1].score),
            "not best first"
        );
        let ranked: Vec<(String, f32)> = ranked.into_iter().map(|l| (l.label, l.score)).collect();
        let by_label = in_label_order(&golden.texts, &ranked);
        assert_close(
            &format!("classify scores of {}", golden.media),
            &by_label,
            &golden.scores,
        );
    }
}

#[tokio::test]
async fn info_health_and_reflection_are_served() {
    let server = Server::ready(ServerOptions::args(&["--max-batch-size", "3"])).await;
    let mut client = server.grpc_client().await;
    let info = client
        .info(pb::InfoRequest {})
        .await
        .expect("Info")
        .into_inner();
    assert_eq!(info.model.unwrap().name, "mplug2-demo");
    assert_eq!(info.provider, "cpu");
    assert!(info.ready);
    assert_eq!(info.tasks.len(), 7);
    assert_eq!(info.limits.unwrap().max_concurrent_requests, 64);
    assert!(
        info.batching
            .unwrap()
            .modules
            .iter()
            .all(|m| m.max_batch_size == 3)
    );

    let mut health = HealthClient::new(server.channel().await);
    for service in ["", "mplug2.v1.Inference"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("Check")
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "service {service:?}");
    }

    let mut reflection = ServerReflectionClient::new(server.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::once(request))
        .await
        .expect("reflection")
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        answers.next().await.unwrap().unwrap().message_response
    else {
        panic!("not a service list");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in ["mplug2.v1.Inference", "grpc.health.v1.Health"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
}
