//! The intake bound: how many task requests may be received or served at once, over both
//! protocols. It is checked before a body is read, so that many clients uploading at once cannot
//! hold more than `--max-pending-requests` × `--max-body-bytes` of bodies; beyond it a request is
//! refused at once (429 / RESOURCE_EXHAUSTED with Retry-After). Admission (`admission.rs`) then
//! bounds the requests that run.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{
    error::ApiError,
    request::{Protocol, Route},
    service::Inference,
};

pub struct Intake {
    slots: Arc<Semaphore>,
    limit: u32,
    retry_after_s: u64,
}

impl Intake {
    pub fn new(limit: u32, retry_after_s: u64) -> Intake {
        Intake {
            slots: Arc::new(Semaphore::new(limit as usize)),
            limit,
            retry_after_s,
        }
    }

    /// A slot held while the request is received and served.
    fn enter(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| ApiError::Overloaded {
                message: format!(
                    "{limit} requests are being received or served, the limit \
                     (--max-pending-requests) is {limit}",
                    limit = self.limit
                ),
                retry_after_s: self.retry_after_s,
            })
    }
}

/// Middleware of the REST task routes.
pub async fn rest(State(app): State<Arc<Inference>>, request: Request, next: Next) -> Response {
    let route = rest_route(request.uri().path());
    match app.intake().enter() {
        Ok(_slot) => next.run(request).await,
        Err(error) => {
            count_refusal(&app, route, Protocol::Http);
            error.into_response()
        }
    }
}

/// Middleware of the gRPC router: it bounds the task methods of `mplug2.v1.Inference`; health,
/// reflection and `Info` pass.
pub async fn grpc(State(app): State<Arc<Inference>>, request: Request, next: Next) -> Response {
    let Some(route) = grpc_route(request.uri().path()) else {
        return next.run(request).await;
    };
    match app.intake().enter() {
        Ok(_slot) => next.run(request).await,
        Err(error) => {
            count_refusal(&app, Some(route), Protocol::Grpc);
            tonic::Status::from(error)
                .into_http::<axum::body::Body>()
                .into_response()
        }
    }
}

fn count_refusal(app: &Inference, route: Option<Route>, protocol: Protocol) {
    if let Some(route) = route {
        app.metrics()
            .requests_total
            .with_label_values(&[route.name(), protocol.name(), "overloaded"])
            .inc();
    }
}

fn rest_route(path: &str) -> Option<Route> {
    Some(match path {
        "/v1/vqa" => Route::Vqa,
        "/v1/caption" => Route::Caption,
        "/v1/embeddings" => Route::Embeddings,
        "/v1/match" => Route::Match,
        "/v1/classify" => Route::Classify,
        _ => return None,
    })
}

fn grpc_route(path: &str) -> Option<Route> {
    Some(match path.strip_prefix("/mplug2.v1.Inference/")? {
        "Vqa" => Route::Vqa,
        "Caption" => Route::Caption,
        "Embed" => Route::Embeddings,
        "Match" => Route::Match,
        "Classify" => Route::Classify,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_beyond_the_limit_and_frees_slots() {
        let intake = Intake::new(2, 5);
        let first = intake.enter().unwrap();
        let _second = intake.enter().unwrap();
        let error = intake.enter().unwrap_err();
        assert_eq!(error.type_name(), "overloaded");
        assert!(error.to_string().contains("--max-pending-requests) is 2"));
        drop(first);
        assert!(intake.enter().is_ok());
    }

    #[test]
    fn only_task_methods_are_bounded() {
        assert_eq!(
            grpc_route("/mplug2.v1.Inference/Caption"),
            Some(Route::Caption)
        );
        assert_eq!(grpc_route("/mplug2.v1.Inference/Info"), None);
        assert_eq!(grpc_route("/grpc.health.v1.Health/Check"), None);
        assert_eq!(rest_route("/v1/match"), Some(Route::Match));
    }
}
