//! mplug2-serve: REST and gRPC inference for mPLUG-2 on per-module dynamic batchers.

pub mod admission;
pub mod app;
pub mod cache;
pub mod config;
pub mod engine;
pub mod error;
pub mod grpc;
pub mod health;
pub mod http;
pub mod info;
pub mod intake;
pub mod media_url;
pub mod metrics;
pub mod request;
pub mod scheduler;
pub mod service;
pub mod shutdown;
