//! mplug2-serve: REST and gRPC inference for mPLUG-2 on per-module dynamic batchers.
//!
//! Where things go (docs/server.md has the map):
//! - a new **task**: a slice in `tasks/` and one line of `tasks::for_each_task`; its gRPC
//!   messages and method in `proto/`. The routes, metric labels and OpenAPI paths follow.
//! - a new **limit**: its flag in `config/limits.rs` (resolved into `limits::Limits` once), its
//!   flag name in `limits::Limit::flag`, its check in one place (the model crate's
//!   `MediaLimits::check` or `DecodeParams::with_overrides`, or `limits::RequestLimits`).
//! - a new **module**: a row of `module_table::MODULE_TABLE`, its runner in `engine/runners.rs`,
//!   its batcher slot in `engine/batchers.rs`.

pub mod app;
pub mod cache;
pub mod config;
pub mod engine;
pub mod error;
pub mod form;
pub mod gateway;
pub mod grpc;
pub mod health;
pub mod http;
pub mod info;
pub mod keys;
pub mod limits;
pub mod media_url;
pub mod memory_trim;
pub mod metrics;
pub mod module_table;
pub mod net;
pub mod scheduler;
pub mod serving;
pub mod shutdown;
pub mod tasks;
