//! The `Info` method: the same `ServerInfo` as REST `/info`, as protobuf.

use std::{pin::Pin, sync::Arc};

use axum::{extract::State, response::Response};
use mplug2_proto::v1 as pb;
use tonic::{Status, server::Grpc, server::UnaryService};
use tonic_prost::ProstCodec;

use crate::{engine::ModelInfo, info::ServerInfo, serving::OpsState};

pub async fn handle(State(ops): State<Arc<OpsState>>, request: axum::extract::Request) -> Response {
    let mut grpc = Grpc::new(ProstCodec::<pb::InfoResponse, pb::InfoRequest>::default());
    grpc.unary(Info(ops), request)
        .await
        .map(axum::body::Body::new)
}

struct Info(Arc<OpsState>);

type Answer =
    Pin<Box<dyn Future<Output = Result<tonic::Response<pb::InfoResponse>, Status>> + Send>>;

impl UnaryService<pb::InfoRequest> for Info {
    type Response = pb::InfoResponse;
    type Future = Answer;

    fn call(&mut self, _request: tonic::Request<pb::InfoRequest>) -> Answer {
        let info = info_message(self.0.info());
        Box::pin(async move { Ok(tonic::Response::new(info)) })
    }
}

fn info_message(info: ServerInfo) -> pb::InfoResponse {
    let limits = info.limits;
    pb::InfoResponse {
        server_version: info.server_version.to_owned(),
        ready: info.ready,
        model: info
            .model
            .map(|model| model_message(model, &info.tasks, info.provider.as_deref())),
        models: info
            .models
            .into_iter()
            .map(|package| model_message(package.model, &package.tasks, Some(&package.provider)))
            .collect(),
        tasks: info.tasks,
        provider: info.provider.unwrap_or_default(),
        api_key_required: info.api_key_required,
        limits: Some(pb::Limits {
            max_body_bytes: limits.max_body_bytes as u64,
            max_image_bytes: limits.max_image_bytes as u64,
            max_image_pixels: limits.max_image_pixels,
            max_image_side: limits.max_image_side,
            max_video_bytes: limits.max_video_bytes as u64,
            max_video_side: limits.max_video_side,
            max_video_frames: limits.max_video_frames as u64,
            max_frames: limits.max_frames as u32,
            max_text_chars: limits.max_text_chars as u32,
            max_inputs: limits.max_inputs as u32,
            max_beam_size: limits.max_beam_size as u32,
            max_decode_length: limits.max_decode_length as u32,
            max_concurrent_requests: limits.max_concurrent_requests,
            request_timeout_ms: limits.request_timeout_ms,
            max_question_chars: limits.max_question_chars as u32,
            max_texts: limits.max_texts as u32,
            max_labels: limits.max_labels as u32,
            max_documents: limits.max_documents as u32,
            max_video_duration_s: limits.max_video_duration_s,
            max_queue_items: limits.max_queue_items,
            max_pending_requests: limits.max_pending_requests,
            max_concurrent_fetches: limits.max_concurrent_fetches,
        }),
        batching: Some(pb::Batching {
            max_batch_delay_ms: info.batching.max_batch_delay_ms,
            modules: info
                .batching
                .modules
                .into_iter()
                .map(|m| pb::ModuleBatching {
                    module: m.module.to_owned(),
                    max_batch_size: m.max_batch_size as u32,
                    max_batch_cost: m.max_batch_cost.unwrap_or(0),
                    cost_unit: m.cost_unit.to_owned(),
                })
                .collect(),
        }),
    }
}

fn model_message(model: ModelInfo, tasks: &[String], provider: Option<&str>) -> pb::ModelInfo {
    pb::ModelInfo {
        name: model.name,
        source_checkpoint: model.source_checkpoint,
        dtype: model.dtype,
        finetuned_for: model.finetuned_for.unwrap_or_default(),
        tasks: tasks.to_vec(),
        provider: provider.unwrap_or_default().to_owned(),
        weight_bytes: model.weight_bytes,
    }
}
