//! The `mplug2.v1.Inference` methods: convert, call the shared layer, convert back.

use std::sync::Arc;

use mplug2_proto::v1::{self as pb, inference_server};
use prost::Message;
use tonic::{Request, Response, Status};

use super::{call, convert};
use crate::{
    error::ApiError,
    info::ServerInfo,
    media_url::MediaUrls,
    service::{Call, Inference},
};

pub struct GrpcInference {
    inference: Arc<Inference>,
}

impl GrpcInference {
    pub fn new(inference: Arc<Inference>) -> GrpcInference {
        GrpcInference { inference }
    }

    /// The message converted, after the size check and the header checks; run by the shared
    /// layer after authentication.
    fn parse<M: Message, R>(
        &self,
        header: Result<(), ApiError>,
        message: M,
        convert: impl FnOnce(M) -> Result<R, ApiError>,
    ) -> std::future::Ready<Result<R, ApiError>> {
        let limit = self.inference.config().limits.max_body_bytes;
        let parsed = header.and_then(|()| {
            let size = message.encoded_len();
            if size > limit {
                return Err(ApiError::PayloadTooLarge(format!(
                    "the message is {size} bytes, over the limit of {limit} (--max-body-bytes)"
                )));
            }
            convert(message)
        });
        std::future::ready(parsed)
    }

    /// As `parse`, for messages whose media may be a URL that the conversion fetches.
    async fn parse_media<M: Message, R, F: Future<Output = Result<R, ApiError>>>(
        &self,
        header: Result<(), ApiError>,
        message: M,
        convert: impl FnOnce(M, MediaUrls) -> F,
    ) -> Result<R, ApiError> {
        let message = self.parse(header, message, Ok).await?;
        let config = self.inference.config();
        convert(message, MediaUrls::new(&config.media_urls, &config.limits)).await
    }
}

#[tonic::async_trait]
impl inference_server::Inference for GrpcInference {
    async fn vqa(
        &self,
        request: Request<pb::VqaRequest>,
    ) -> Result<Response<pb::VqaResponse>, Status> {
        let (call, header) = call::from_metadata(request.metadata());
        let parsed = self.parse_media(header, request.into_inner(), convert::vqa);
        let answer = self
            .inference
            .vqa(&call, parsed)
            .await
            .map_err(|error| failed(error, &call))?;
        Ok(respond(&call, pb::VqaResponse { answer }))
    }

    async fn caption(
        &self,
        request: Request<pb::CaptionRequest>,
    ) -> Result<Response<pb::CaptionResponse>, Status> {
        let (call, header) = call::from_metadata(request.metadata());
        let parsed = self.parse_media(header, request.into_inner(), convert::caption);
        let caption = self
            .inference
            .caption(&call, parsed)
            .await
            .map_err(|error| failed(error, &call))?;
        Ok(respond(&call, pb::CaptionResponse { caption }))
    }

    async fn embed(
        &self,
        request: Request<pb::EmbedRequest>,
    ) -> Result<Response<pb::EmbedResponse>, Status> {
        let (call, header) = call::from_metadata(request.metadata());
        let parsed = self.parse(header, request.into_inner(), convert::embed);
        let vectors = self
            .inference
            .embed(&call, parsed)
            .await
            .map_err(|error| failed(error, &call))?;
        let embeddings = vectors
            .into_iter()
            .enumerate()
            .map(|(index, values)| pb::Embedding {
                index: index as u32,
                values,
            })
            .collect();
        let model = self
            .inference
            .engine()
            .map(|engine| engine.model_info().name.clone())
            .unwrap_or_default();
        Ok(respond(&call, pb::EmbedResponse { embeddings, model }))
    }

    async fn r#match(
        &self,
        request: Request<pb::MatchRequest>,
    ) -> Result<Response<pb::MatchResponse>, Status> {
        let (call, header) = call::from_metadata(request.metadata());
        let parsed = self.parse_media(header, request.into_inner(), convert::match_texts);
        let scores = self
            .inference
            .match_texts(&call, parsed)
            .await
            .map_err(|error| failed(error, &call))?;
        Ok(respond(&call, pb::MatchResponse { scores }))
    }

    async fn classify(
        &self,
        request: Request<pb::ClassifyRequest>,
    ) -> Result<Response<pb::ClassifyResponse>, Status> {
        let (call, header) = call::from_metadata(request.metadata());
        let parsed = self.parse_media(header, request.into_inner(), convert::classify);
        let labels = self
            .inference
            .classify(&call, parsed)
            .await
            .map_err(|error| failed(error, &call))?;
        let labels = labels
            .into_iter()
            .map(|(label, score)| pb::LabelScore { label, score })
            .collect();
        Ok(respond(&call, pb::ClassifyResponse { labels }))
    }

    async fn info(
        &self,
        _request: Request<pb::InfoRequest>,
    ) -> Result<Response<pb::InfoResponse>, Status> {
        Ok(Response::new(info_message(ServerInfo::collect(
            &self.inference,
        ))))
    }
}

/// The answer, with the request id in the `x-request-id` metadata as on REST.
fn respond<T>(call: &Call, message: T) -> Response<T> {
    let mut response = Response::new(message);
    if let Ok(id) = call.request_id.parse() {
        response.metadata_mut().insert("x-request-id", id);
    }
    response
}

/// The error's status, with the request id in the `x-request-id` metadata.
fn failed(error: ApiError, call: &Call) -> Status {
    let mut status = Status::from(error);
    if let Ok(id) = call.request_id.parse() {
        status.metadata_mut().insert("x-request-id", id);
    }
    status
}

fn info_message(info: ServerInfo) -> pb::InfoResponse {
    let limits = info.limits;
    pb::InfoResponse {
        server_version: info.server_version.to_owned(),
        ready: info.ready,
        model: info.model.map(|model| pb::ModelInfo {
            name: model.name,
            source_checkpoint: model.source_checkpoint,
            dtype: model.dtype,
            finetuned_for: model.finetuned_for.unwrap_or_default(),
        }),
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
            max_video_duration_s: limits.max_video_duration_s,
            max_queue_items: limits.max_queue_items,
            max_pending_requests: limits.max_pending_requests,
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
