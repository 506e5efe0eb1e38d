//! mplug2-serve: REST and gRPC inference for mPLUG-2 on per-module dynamic batchers.

pub mod admission;
pub mod config;
pub mod error;
pub mod health;
pub mod metrics;
pub mod scheduler;
pub mod shutdown;
