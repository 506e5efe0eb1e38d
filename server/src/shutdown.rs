//! Shutdown signals: SIGTERM or Ctrl-C start a drain; a watch channel tells the listeners when to
//! close once the drain is over.

use tokio::sync::watch;

/// Resolves on the first SIGTERM or Ctrl-C.
pub async fn signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

/// Tells every listener to stop accepting connections and finish the open ones.
#[derive(Clone)]
pub struct CloseListeners(watch::Receiver<bool>);

pub fn close_listeners_channel() -> (watch::Sender<bool>, CloseListeners) {
    let (sender, receiver) = watch::channel(false);
    (sender, CloseListeners(receiver))
}

impl CloseListeners {
    /// Resolves once the listeners must close (or the sender is gone).
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|close| *close).await;
    }
}
