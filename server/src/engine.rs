//! The loaded model behind the module batchers. Placeholder until the model crate's task
//! pipelines land on main: without it the server never becomes ready.

use std::time::Instant;

use crate::{
    error::ApiError,
    info::ModelInfo,
    request::{CaptionRequest, ClassifyRequest, EmbedRequest, MatchRequest, VqaRequest},
};

pub struct Engine {
    info: ModelInfo,
}

fn not_integrated() -> ApiError {
    ApiError::Unavailable("the model crate is not integrated yet".into())
}

impl Engine {
    pub fn model_info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn task_names(&self) -> Vec<String> {
        Vec::new()
    }

    pub fn provider_name(&self) -> &str {
        "cpu"
    }

    pub async fn vqa(&self, _request: VqaRequest, _deadline: Instant) -> Result<String, ApiError> {
        Err(not_integrated())
    }

    pub async fn caption(
        &self,
        _request: CaptionRequest,
        _deadline: Instant,
    ) -> Result<String, ApiError> {
        Err(not_integrated())
    }

    pub async fn embed(
        &self,
        _request: EmbedRequest,
        _deadline: Instant,
    ) -> Result<Vec<Vec<f32>>, ApiError> {
        Err(not_integrated())
    }

    pub async fn match_texts(
        &self,
        _request: MatchRequest,
        _deadline: Instant,
    ) -> Result<Vec<f32>, ApiError> {
        Err(not_integrated())
    }

    pub async fn classify(
        &self,
        _request: ClassifyRequest,
        _deadline: Instant,
    ) -> Result<Vec<(String, f32)>, ApiError> {
        Err(not_integrated())
    }
}
