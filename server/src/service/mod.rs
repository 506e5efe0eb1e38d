//! The shared layer between the protocols and the model: authentication, admission, deadlines,
//! validation, metrics and error mapping happen here once for REST and gRPC alike.

mod call;
mod validate;

use std::{
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

pub use call::{Call, client_request_id, presented_key};
use validate::Validator;

use crate::{
    admission::Admission,
    config::{Config, Secret},
    engine::Engine,
    error::ApiError,
    health::Health,
    intake::Intake,
    metrics::Metrics,
    request::{CaptionRequest, ClassifyRequest, EmbedRequest, MatchRequest, Route, VqaRequest},
};

/// A request as the protocol layer reads it: a body still to parse (REST) or a converted
/// message (gRPC).
pub trait Parsed<R>: Future<Output = Result<R, ApiError>> {}

impl<R, F: Future<Output = Result<R, ApiError>>> Parsed<R> for F {}

pub struct Inference {
    config: Arc<Config>,
    api_key: Option<Secret>,
    admission: Admission,
    intake: Intake,
    health: Arc<Health>,
    metrics: Metrics,
    engine: OnceLock<Arc<Engine>>,
}

impl Inference {
    /// `api_key`: from --api-key or --api-key-file (read by the caller), if either is set.
    pub fn new(
        config: Arc<Config>,
        api_key: Option<Secret>,
        health: Arc<Health>,
        metrics: Metrics,
    ) -> Inference {
        let serving = &config.serving;
        let admission = Admission::new(
            serving.max_concurrent_requests,
            serving.retry_after_s,
            Arc::clone(&health),
            metrics.inflight_requests.clone(),
        );
        let intake = Intake::new(
            config.protection.max_pending_requests,
            serving.retry_after_s,
        );
        Inference {
            api_key,
            admission,
            intake,
            config,
            health,
            metrics,
            engine: OnceLock::new(),
        }
    }

    /// Installs the loaded, warmed model; requests are served from here on.
    pub fn set_engine(&self, engine: Arc<Engine>) {
        let _ = self.engine.set(engine);
    }

    pub fn engine(&self) -> Option<&Arc<Engine>> {
        self.engine.get()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn admission(&self) -> &Admission {
        &self.admission
    }

    pub fn intake(&self) -> &Intake {
        &self.intake
    }

    pub fn api_key_required(&self) -> bool {
        self.api_key.is_some()
    }

    pub async fn vqa(
        &self,
        call: &Call,
        request: impl Parsed<VqaRequest>,
    ) -> Result<String, ApiError> {
        self.run(
            Route::Vqa,
            call,
            request,
            |engine, request, deadline| async move {
                self.validator().vqa(&request)?;
                engine
                    .vqa(request, deadline)
                    .await
                    .map_err(|error| ApiError::from_model(error, &call.request_id))
            },
        )
        .await
    }

    pub async fn caption(
        &self,
        call: &Call,
        request: impl Parsed<CaptionRequest>,
    ) -> Result<String, ApiError> {
        self.run(
            Route::Caption,
            call,
            request,
            |engine, request, deadline| async move {
                self.validator().caption(&request)?;
                engine
                    .caption(request, deadline)
                    .await
                    .map_err(|error| ApiError::from_model(error, &call.request_id))
            },
        )
        .await
    }

    pub async fn embed(
        &self,
        call: &Call,
        request: impl Parsed<EmbedRequest>,
    ) -> Result<Vec<Vec<f32>>, ApiError> {
        self.run(
            Route::Embeddings,
            call,
            request,
            |engine, request, deadline| async move {
                self.validator().embed(&request)?;
                engine
                    .embed(request, deadline)
                    .await
                    .map_err(|error| ApiError::from_model(error, &call.request_id))
            },
        )
        .await
    }

    pub async fn match_texts(
        &self,
        call: &Call,
        request: impl Parsed<MatchRequest>,
    ) -> Result<Vec<f32>, ApiError> {
        self.run(
            Route::Match,
            call,
            request,
            |engine, request, deadline| async move {
                self.validator().match_texts(&request)?;
                engine
                    .match_texts(request, deadline)
                    .await
                    .map_err(|error| ApiError::from_model(error, &call.request_id))
            },
        )
        .await
    }

    pub async fn classify(
        &self,
        call: &Call,
        request: impl Parsed<ClassifyRequest>,
    ) -> Result<Vec<(String, f32)>, ApiError> {
        self.run(
            Route::Classify,
            call,
            request,
            |engine, request, deadline| async move {
                self.validator().classify(&request)?;
                engine
                    .classify(request, deadline)
                    .await
                    .map_err(|error| ApiError::from_model(error, &call.request_id))
            },
        )
        .await
    }

    fn validator(&self) -> Validator<'_> {
        Validator {
            limits: &self.config.limits,
        }
    }

    /// Checks the key, reads the request, admits it, runs it within its deadline, and records
    /// the outcome. The body is read only for an authorised caller, and before admission so that
    /// a slow upload holds no slot.
    async fn run<'a, R, T, F, Fut>(
        &'a self,
        route: Route,
        call: &Call,
        request: impl Parsed<R>,
        work: F,
    ) -> Result<T, ApiError>
    where
        F: FnOnce(&'a Arc<Engine>, R, Instant) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let started = Instant::now();
        let outcome = async {
            self.authorize(call)?;
            let request = request.await?;
            let _permit = self.admission.admit()?;
            let engine = self
                .engine
                .get()
                .ok_or_else(|| ApiError::Unavailable("the model is not loaded yet".into()))?;
            let budget = self.budget(call);
            let deadline = started + budget;
            match tokio::time::timeout_at(deadline.into(), work(engine, request, deadline)).await {
                Ok(result) => result,
                Err(_) => Err(ApiError::Timeout(format!(
                    "the request took longer than its deadline of {} ms",
                    budget.as_millis()
                ))),
            }
        }
        .await
        .map_err(|error| error.with_retry_after(self.config.serving.retry_after_s));
        let code = match &outcome {
            Ok(_) => "ok",
            Err(error) => error.type_name(),
        };
        self.metrics
            .requests_total
            .with_label_values(&[route.name(), call.protocol.name(), code])
            .inc();
        match &outcome {
            Ok(_) => self
                .metrics
                .request_duration_seconds
                .with_label_values(&[route.name()])
                .observe(started.elapsed().as_secs_f64()),
            Err(ApiError::Internal { request_id }) => {
                tracing::error!(request_id, task = route.name(), "request failed")
            }
            Err(error) => {
                tracing::debug!(request_id = call.request_id, task = route.name(), %error, "request refused")
            }
        }
        outcome
    }

    fn authorize(&self, call: &Call) -> Result<(), ApiError> {
        let Some(expected) = &self.api_key else {
            return Ok(());
        };
        match call.api_key.as_deref() {
            Some(given) if constant_time_eq(given.as_bytes(), expected.expose().as_bytes()) => {
                Ok(())
            }
            Some(_) => Err(ApiError::Unauthorized("the API key is wrong".into())),
            None => Err(ApiError::Unauthorized(
                "an API key is required: send `Authorization: Bearer <key>` or `x-api-key: <key>`"
                    .into(),
            )),
        }
    }

    /// The server's request timeout, shortened by the client's own when smaller.
    fn budget(&self, call: &Call) -> Duration {
        let server = self.config.serving.request_timeout();
        call.timeout.map_or(server, |client| client.min(server))
    }
}

/// Compares keys without leaking where they differ through timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
