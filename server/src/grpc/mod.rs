//! gRPC (tonic): `mplug2.v1.Inference` over the same shared layer as REST, plus
//! `grpc.health.v1.Health` and server reflection on the same port. Served through axum rather
//! than tonic's transport so that deadlines end as DEADLINE_EXCEEDED from the shared layer
//! (tonic's own timeout layer would answer CANCELLED).

mod call;
mod convert;
mod refusals;
mod service;

use std::sync::Arc;

use mplug2_proto::v1::inference_server::InferenceServer;
use tokio::net::TcpListener;
use tonic_health::pb::health_server::{Health, HealthServer};

use crate::{intake, service::Inference, shutdown::CloseListeners};

pub use service::GrpcInference;

/// The gRPC routes as an axum router.
pub fn router(
    inference: Arc<Inference>,
    health: HealthServer<impl Health>,
) -> Result<axum::Router, tonic_reflection::server::Error> {
    // Twice the body limit: a message up to the limit passes, one a little over gets the
    // contract's INVALID_ARGUMENT from the shared layer, and a far larger one is refused by tonic
    // from its length prefix before it is buffered (OUT_OF_RANGE, rewritten by `refusals`).
    let max_message = inference.config().limits.max_body_bytes.saturating_mul(2);
    let intake = axum::middleware::from_fn_with_state(Arc::clone(&inference), intake::grpc);
    let refusals =
        axum::middleware::from_fn_with_state(Arc::clone(&inference), refusals::to_error_table);
    let inference =
        InferenceServer::new(GrpcInference::new(inference)).max_decoding_message_size(max_message);
    // Both reflection versions: older grpcurl and other tools still ask v1alpha.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(mplug2_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let routes = tonic::service::Routes::builder()
        .add_service(inference)
        .add_service(health)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .clone()
        .routes();
    Ok(routes.into_axum_router().layer(refusals).layer(intake))
}

/// Serves until told to close, then finishes the open calls.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    close: CloseListeners,
) -> std::io::Result<()> {
    // TCP_NODELAY: without it Nagle's algorithm holds a small answer's last write (an HTTP/2
    // trailer, say) until the client's delayed ACK, ~40 ms later.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(close.wait())
        .await
}
