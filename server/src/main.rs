use std::{io::IsTerminal, process::ExitCode, time::Duration};

use clap::Parser;
use mplug2_server::{
    app,
    config::{Config, LogFormat},
};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    fixed_mmap_threshold();
    let config = Config::parse();
    init_logging(config.serving.log_format);
    tracing::info!(?config, "starting");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(app::run(config));
    // A model still loading must not hold the exit.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "mplug2-serve failed");
            ExitCode::FAILURE
        }
    }
}

/// glibc raises its mmap threshold (up to 32 MiB) each time a large block is freed, after which
/// blocks of that size come from the heap and are never returned: the per-step decoder tensors
/// and batch buffers then keep resident memory at its peak. A fixed 1 MiB threshold returns them
/// (resident memory after a burst of base-shape captions: 2.65 → 2.06 GB). `MALLOC_MMAP_THRESHOLD_`
/// in the environment still wins.
fn fixed_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no allocation is in flight (one thread).
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,ort=warn"));
    // Colours only on a terminal: log files and collectors get plain text.
    let colour = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
