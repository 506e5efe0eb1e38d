//! REST (axum): one route per task slice of the registry, health, metrics, info and the OpenAPI
//! docs. Handlers are thin: read the body, hand it to the gateway, shape the answer.

mod call;
mod docs;
mod models;
mod ops;
pub mod parse;
mod stream;
mod task;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};

pub use call::REQUEST_ID_HEADER;

use crate::{
    serving::{OpsState, TaskState},
    tasks::{TaskSlice, TaskVisitor, for_each_task},
};

/// The API address: the task routes, `/info`, the docs, and `/health/*` and `/metrics` unless
/// `--admin-addr` serves them.
pub fn router(tasks: Arc<TaskState>, ops: Arc<OpsState>, with_operator_routes: bool) -> Router {
    let body_limit = tasks.max_body_bytes;
    struct Routes(Router<Arc<TaskState>>);
    impl TaskVisitor for Routes {
        fn visit<T: TaskSlice>(&mut self) {
            let mut routes = std::mem::take(&mut self.0);
            for path in std::iter::once(T::REST_PATH).chain(T::REST_ALIASES.iter().copied()) {
                routes = routes.route(path, post(task::handle::<T>));
            }
            self.0 = routes;
        }
    }
    let mut routes = Routes(Router::new());
    for_each_task(&mut routes);
    let info = Router::new()
        .route("/info", get(ops::info))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{id}", get(models::one))
        .merge(docs::routes());
    let info = if with_operator_routes {
        info.merge(operator_routes())
    } else {
        info
    };
    Router::new()
        .merge(routes.0.with_state(tasks))
        .merge(info.with_state(ops))
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
}

/// The `--admin-addr` address: health, metrics and info, never behind the API key.
pub fn admin_router(ops: Arc<OpsState>) -> Router {
    operator_routes()
        .route("/info", get(ops::info))
        .fallback(ops::not_found)
        .with_state(ops)
}

fn operator_routes() -> Router<Arc<OpsState>> {
    Router::new()
        .route("/health/live", get(ops::live))
        .route("/health/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
}
