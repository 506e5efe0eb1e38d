//! The shared layer between the protocols and the model: the intake bound, authentication,
//! admission, deadlines, validation, metrics and error mapping happen here once for every task
//! over REST and gRPC alike.

mod admission;
mod call;
mod intake;
mod stream;

use std::{
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

pub use admission::{Admission, Permit};
pub use call::{Call, Protocol, client_request_id, presented_key};
pub use intake::{Intake, IntakeSlot};
pub use stream::Piece;

use crate::{
    engine::{Engine, Models, Progress, Work},
    error::ApiError,
    health::Health,
    keys::ApiKeys,
    limits::RequestLimits,
    metrics::Metrics,
    tasks::TaskSlice,
};

/// What the gateway is told at start-up.
pub struct GatewaySettings {
    /// `None`: no key is required.
    pub api_keys: Option<Arc<ApiKeys>>,
    pub request_timeout: Duration,
    pub retry_after_s: u64,
    pub max_concurrent_requests: u32,
    pub max_pending_requests: u32,
    pub limits: RequestLimits,
}

/// A task's answer and where its time went.
pub struct Answered<A> {
    pub answer: A,
    pub timing: Timing,
}

/// A request's times (the `x-queue-time`, `x-compute-time` and `x-total-time` headers).
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// Waiting in module queues, summed over the request's items.
    pub queue: Duration,
    /// In module runs and media preprocessing, summed over the request's items.
    pub compute: Duration,
    /// From the request's arrival to its answer.
    pub total: Duration,
}

pub struct Gateway {
    api_keys: Option<Arc<ApiKeys>>,
    request_timeout: Duration,
    retry_after_s: u64,
    limits: RequestLimits,
    admission: Admission,
    intake: Intake,
    metrics: Metrics,
    models: OnceLock<Arc<Models>>,
}

/// A parsed request and the package it names, if any.
pub struct Routed<R> {
    pub model: Option<String>,
    pub request: R,
}

impl Gateway {
    pub fn new(settings: GatewaySettings, health: Arc<Health>, metrics: Metrics) -> Gateway {
        let admission = Admission::new(
            settings.max_concurrent_requests,
            settings.retry_after_s,
            health,
            metrics.inflight_requests.clone(),
        );
        Gateway {
            api_keys: settings.api_keys,
            request_timeout: settings.request_timeout,
            retry_after_s: settings.retry_after_s,
            limits: settings.limits,
            admission,
            intake: Intake::new(settings.max_pending_requests, settings.retry_after_s),
            metrics,
            models: OnceLock::new(),
        }
    }

    /// Installs the loaded, warmed packages; requests are served from here on.
    pub fn set_models(&self, models: Arc<Models>) {
        let _ = self.models.set(models);
    }

    /// The packages, once loaded.
    pub fn models(&self) -> Option<&Arc<Models>> {
        self.models.get()
    }

    pub fn admission(&self) -> &Admission {
        &self.admission
    }

    pub fn api_key_required(&self) -> bool {
        self.api_keys.is_some()
    }

    /// A slot of the intake bound, taken before a body is read (`--max-pending-requests`).
    pub fn receive(&self) -> Result<IntakeSlot, ApiError> {
        self.intake.enter()
    }

    /// Runs one request of task `T` to its answer (`admit`, then `Admitted::run`).
    pub async fn run<T: TaskSlice>(
        self: &Arc<Self>,
        call: &Call,
        slot: Result<IntakeSlot, ApiError>,
        request: impl Future<Output = Result<Routed<T::Request>, ApiError>>,
    ) -> Result<Answered<T::Answer>, ApiError> {
        self.admit::<T>(call, slot, request).await?.run().await
    }

    /// Takes one request of task `T` up to the work: holds its intake slot, checks the key,
    /// reads the request (only for an authorised caller, and before admission so that a slow
    /// upload holds no admission slot), admits it and picks the package that answers it. A
    /// refusal is recorded here.
    pub async fn admit<T: TaskSlice>(
        self: &Arc<Self>,
        call: &Call,
        slot: Result<IntakeSlot, ApiError>,
        request: impl Future<Output = Result<Routed<T::Request>, ApiError>>,
    ) -> Result<Admitted<T>, ApiError> {
        let started = call.arrived;
        let mut named = None;
        let admitted = async {
            let slot = slot?;
            self.authorize(call)?;
            let Routed { model, request } = request.await?;
            named = model.clone();
            let permit = self.admission.admit()?;
            let models = self
                .models
                .get()
                .ok_or_else(|| ApiError::Unavailable("the model is not loaded yet".into()))?;
            let engine = models
                .select(model.as_deref(), &T::tasks(&request))
                .map(Arc::clone)
                .map_err(ApiError::from)?;
            Ok(Admitted {
                gateway: Arc::clone(self),
                call: call.clone(),
                started,
                budget: self.budget(call),
                work: Work::new(self.deadline(call)),
                request,
                engine,
                _slot: slot,
                _permit: permit,
            })
        }
        .await;
        admitted.map_err(|error: ApiError| {
            let error = error.with_retry_after(self.retry_after_s);
            // A name no package has is not a label: series stay bounded.
            let model = named
                .filter(|name| self.models.get().is_some_and(|m| m.serves_model(name)))
                .unwrap_or_default();
            self.record::<()>(T::NAME, &model, call, started, &Err(error.clone()));
            error
        })
    }

    fn record<A>(
        &self,
        task: &'static str,
        model: &str,
        call: &Call,
        started: Instant,
        outcome: &Result<A, ApiError>,
    ) {
        let code = match outcome {
            Ok(_) => "ok",
            Err(error) => error.type_name(),
        };
        self.metrics
            .requests_total
            .with_label_values(&[task, call.protocol.name(), code, model])
            .inc();
        match outcome {
            Ok(_) => self
                .metrics
                .request_duration_seconds
                .with_label_values(&[task, model])
                .observe(started.elapsed().as_secs_f64()),
            Err(ApiError::Internal { request_id }) => {
                tracing::error!(request_id, task, model, "request failed")
            }
            Err(error) => {
                tracing::debug!(request_id = call.request_id, task, %error, "request refused")
            }
        }
    }

    fn authorize(&self, call: &Call) -> Result<(), ApiError> {
        let Some(keys) = &self.api_keys else {
            return Ok(());
        };
        match call.api_key.as_deref() {
            Some(given) if keys.allows(given) => Ok(()),
            Some(_) => Err(ApiError::Unauthorized("the API key is wrong".into())),
            None => Err(ApiError::Unauthorized(
                "an API key is required: send `Authorization: Bearer <key>` or `x-api-key: <key>`"
                    .into(),
            )),
        }
    }

    /// When the call's time is up: from its arrival, its budget. Reading the request (a media
    /// URL fetch included) and running it both count.
    pub fn deadline(&self, call: &Call) -> Instant {
        call.arrived + self.budget(call)
    }

    /// The server's request timeout, shortened by the client's own when smaller.
    fn budget(&self, call: &Call) -> Duration {
        call.timeout.map_or(self.request_timeout, |client| {
            client.min(self.request_timeout)
        })
    }
}

/// A request past intake, key, parsing and admission; it holds its slots until it has run.
pub struct Admitted<T: TaskSlice> {
    gateway: Arc<Gateway>,
    call: Call,
    started: Instant,
    budget: Duration,
    work: Work,
    request: T::Request,
    engine: Arc<Engine>,
    _slot: IntakeSlot,
    _permit: Permit,
}

impl<T: TaskSlice> Admitted<T> {
    pub fn request(&self) -> &T::Request {
        &self.request
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Sends the stable token prefix of the request's decoding to `progress` as it grows.
    pub fn with_progress(mut self, progress: Progress) -> Admitted<T> {
        self.work.progress = Some(progress);
        self
    }

    /// Validates and runs the request within its deadline, and records the outcome.
    pub async fn run(self) -> Result<Answered<T::Answer>, ApiError> {
        let Admitted {
            gateway,
            call,
            started,
            budget,
            work,
            request,
            engine,
            ..
        } = self;
        let running = async {
            T::validate(&request, &gateway.limits)?;
            T::run(&engine, request, &work)
                .await
                .map_err(|error| ApiError::from_model(error, &call.request_id))
        };
        let outcome = tokio::time::timeout_at(work.deadline.into(), running).await;
        let timing = work.timing();
        engine.log_timing(T::NAME, &timing);
        let outcome = match outcome {
            // A deadline found passed inside (a queue, the media decoding) names the budget too.
            Ok(Err(ApiError::Timeout(detail))) => Err(ApiError::Timeout(format!(
                "the request took longer than its deadline of {} ms: {detail}",
                budget.as_millis()
            ))),
            Ok(result) => result.map(|answer| Answered {
                answer,
                timing: Timing {
                    queue: timing.queued(),
                    compute: timing.compute(),
                    total: started.elapsed(),
                },
            }),
            Err(_) => Err(ApiError::Timeout(format!(
                "the request took longer than its deadline of {} ms",
                budget.as_millis()
            ))),
        }
        .map_err(|error| error.with_retry_after(gateway.retry_after_s));
        gateway.record(T::NAME, &engine.info().name, &call, started, &outcome);
        outcome
    }
}
