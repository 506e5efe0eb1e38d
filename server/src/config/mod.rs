//! Command line and environment configuration. Every flag is also an environment variable (its
//! name in upper snake case); the doc comments below are the `--help` text.

mod batching;
mod cache;
mod limits;
mod media_urls;
mod models;
mod protection;
mod runtime;
mod secret;

use std::{net::SocketAddr, time::Duration};

use clap::{Parser, ValueEnum};

pub use batching::{BatchingArgs, ModuleBatching};
pub use cache::CacheArgs;
pub use limits::LimitsArgs;
pub use media_urls::MediaUrlArgs;
pub use models::ModelArgs;
pub use protection::{KeyFileError, ProtectionArgs};
pub use runtime::{OptimizationLevel, Provider, RuntimeArgs};
pub use secret::Secret;

/// mplug2-serve: online inference for mPLUG-2 over REST and gRPC, with one dynamic batcher per
/// model module shared by every task.
#[derive(Parser, Debug, Clone)]
#[command(name = "mplug2-serve", version, about, long_about = None)]
pub struct Config {
    #[command(flatten)]
    pub models: ModelArgs,

    /// Address of the REST API, /metrics, /health/* and /docs.
    #[arg(long, env = "HTTP_ADDR", default_value = "0.0.0.0:8080")]
    pub http_addr: SocketAddr,

    /// Address of the gRPC API (mplug2.v1.Inference, grpc.health.v1, server reflection).
    #[arg(long, env = "GRPC_ADDR", default_value = "0.0.0.0:50051")]
    pub grpc_addr: SocketAddr,

    #[command(flatten)]
    pub batching: BatchingArgs,

    #[command(flatten)]
    pub limits: LimitsArgs,

    #[command(flatten)]
    pub serving: ServingArgs,

    #[command(flatten)]
    pub protection: ProtectionArgs,

    #[command(flatten)]
    pub runtime: RuntimeArgs,

    #[command(flatten)]
    pub cache: CacheArgs,

    #[command(flatten)]
    pub media_urls: MediaUrlArgs,
}

/// Admission, deadlines, shutdown, authentication and logging.
#[derive(clap::Args, Debug, Clone)]
pub struct ServingArgs {
    /// Requests allowed in flight at once, over both protocols. Beyond it a request is refused at
    /// once with 429 / RESOURCE_EXHAUSTED and a Retry-After header, instead of queueing without
    /// bound: a low value is good back-pressure for a load balancer.
    #[arg(long, env = "MAX_CONCURRENT_REQUESTS", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_requests: u32,

    /// Longest time a request may take, queueing included (504 / DEADLINE_EXCEEDED after it).
    /// Clients may ask for less with the `x-request-timeout-ms` header or a gRPC deadline.
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_ms: u64,

    /// Seconds given to in-flight requests to finish after SIGTERM or Ctrl-C, while new ones are
    /// refused with 503 / UNAVAILABLE. The process exits when they are done or this has passed.
    #[arg(long, env = "SHUTDOWN_GRACE_PERIOD_S", default_value_t = 30)]
    pub shutdown_grace_period_s: u64,

    /// Value of the `Retry-After` header (seconds) sent with 429 answers.
    #[arg(long, env = "RETRY_AFTER_S", default_value_t = 1)]
    pub retry_after_s: u64,

    /// If set, task routes and gRPC methods need `Authorization: Bearer <key>` (or the `x-api-key`
    /// header / metadata). Health, metrics, info and docs stay open.
    #[arg(long, env = "API_KEY", hide_env_values = true)]
    pub api_key: Option<Secret>,

    /// How many times every graph runs at start-up before the server reports ready.
    #[arg(long, env = "WARMUP_RUNS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub warmup_runs: u32,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl ServingArgs {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn shutdown_grace_period(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_period_s)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Config::command().debug_assert();
    }

    #[test]
    fn no_flags_serves_the_demo_package() {
        let config = Config::try_parse_from(["mplug2-serve"]).unwrap();
        assert_eq!(config.models.dirs(), vec![PathBuf::from("models/demo")]);
        assert_eq!(config.http_addr.port(), 8080);
        assert_eq!(config.grpc_addr.port(), 50051);
    }

    /// The README's flag table lists every flag with its env var and default.
    #[test]
    fn the_readme_lists_every_flag() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
        for arg in Config::command().get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let env = arg
                .get_env()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default();
            let default = match arg.get_default_values() {
                [] => "–".to_owned(),
                values => format!(
                    "`{}`",
                    values
                        .iter()
                        .map(|v| v.to_string_lossy())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            };
            let row = format!("| `--{long}` | `{env}` | {default} |");
            assert!(
                readme.contains(&row),
                "README.md lacks the row starting {row}"
            );
        }
    }

    #[test]
    fn every_flag_has_an_env_var_in_upper_snake_case() {
        let command = Config::command();
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let expected = long.replace('-', "_").to_uppercase();
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            assert_eq!(env.as_deref(), Some(expected.as_str()), "--{long}");
            assert!(arg.get_help().is_some(), "--{long} has no help text");
        }
    }
}
