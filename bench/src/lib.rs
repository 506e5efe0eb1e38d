//! What the bench binaries share: one request of a task over REST or gRPC, the server's own
//! figures (metrics, resident memory) and load windows with their percentiles.

#[path = "suite/call.rs"]
pub mod call;
pub mod host;
#[path = "suite/probe.rs"]
pub mod probe;
#[path = "suite/window.rs"]
pub mod window;
