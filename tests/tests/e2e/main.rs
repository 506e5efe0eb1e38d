//! End-to-end tests, one binary: each module starts the real `mplug2-serve` and talks to it as
//! clients do. One binary rather than one per file keeps CI's link time and disk use small.

mod auth;
mod bad_input;
mod batching;
mod cancellation;
mod crash_restart;
mod deadline;
mod decoder_isolation;
mod deploy_metrics;
mod errors;
mod exact_bounds;
mod failure_isolation;
mod grpc_goldens;
mod health;
mod https_media_url;
mod key_rotation;
mod l0_media_url;
mod metrics;
mod openai_surface;
mod overload;
mod rest_goldens;
mod several_models;
mod shutdown;
mod stopped_media;
mod streaming;
mod vision_cache;
