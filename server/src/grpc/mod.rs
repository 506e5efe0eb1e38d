//! gRPC: `mplug2.v1.Inference` with one unary method per task slice of the registry plus `Info`,
//! and `grpc.health.v1.Health` and server reflection on the same port. The methods are axum
//! routes over tonic's codec (no generated service trait), so a new task is a registry line; and
//! deadlines end as DEADLINE_EXCEEDED from the gateway (tonic's own timeout layer would answer
//! CANCELLED).

mod call;
mod info;
mod refusals;
mod stream;
mod task;

use std::sync::Arc;

use axum::routing::post;
use tonic_health::pb::health_server::{Health, HealthServer};

use crate::{
    serving::{OpsState, TaskState},
    tasks::{TaskSlice, TaskVisitor, for_each_task},
};

/// The path prefix of `mplug2.v1.Inference`'s methods.
const SERVICE: &str = "/mplug2.v1.Inference/";

/// The gRPC routes as an axum router.
pub fn router(
    tasks: Arc<TaskState>,
    ops: Arc<OpsState>,
    health: HealthServer<impl Health>,
) -> Result<axum::Router, tonic_reflection::server::Error> {
    let max_body_bytes = tasks.max_body_bytes;
    struct Methods(axum::Router<Arc<TaskState>>);
    impl TaskVisitor for Methods {
        fn visit<T: TaskSlice>(&mut self) {
            let mut methods = std::mem::take(&mut self.0);
            if let Some(method) = T::GRPC_METHOD {
                methods = methods.route(&format!("{SERVICE}{method}"), post(task::handle::<T>));
            }
            if let Some(method) = T::GRPC_STREAM_METHOD {
                methods = methods.route(&format!("{SERVICE}{method}"), post(stream::handle::<T>));
            }
            self.0 = methods;
        }
    }
    let mut methods = Methods(axum::Router::new());
    for_each_task(&mut methods);
    let info = axum::Router::new()
        .route(&format!("{SERVICE}Info"), post(info::handle))
        .with_state(ops);
    // Both reflection versions: older grpcurl and other tools still ask v1alpha.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(mplug2_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let routes = tonic::service::Routes::builder()
        .add_service(health)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .clone()
        .routes();
    let refusals = axum::middleware::from_fn(move |request, next| {
        refusals::to_error_table(max_body_bytes, request, next)
    });
    Ok(routes
        .into_axum_router()
        .merge(methods.0.with_state(tasks))
        .merge(info)
        .layer(refusals))
}
