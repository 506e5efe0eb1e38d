//! Serving a router on a listener, the same for the REST, gRPC and admin addresses.

use tokio::net::TcpListener;

use crate::shutdown::CloseListeners;

/// Serves until told to close, then finishes the open connections.
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
