//! Start-up and shutdown: listen at once (live, not ready), load and warm the model in the
//! background (then ready), and on SIGTERM or Ctrl-C drain: readiness false, new requests
//! refused with 503 while in-flight ones finish within the grace period, then close.

use std::{sync::Arc, time::Duration};

use tokio::net::TcpListener;

use crate::{
    config::Config,
    engine::{self, LoadSettings},
    gateway::{Gateway, GatewaySettings},
    grpc,
    health::Health,
    http, info,
    keys::{self, ApiKeys},
    media_url::MediaUrls,
    metrics::Metrics,
    net::serve,
    serving::{OpsState, SchemaSettings, TaskState},
    shutdown::{self, close_listeners_channel},
    tasks,
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot register metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("cannot build gRPC reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error(transparent)]
    ApiKey(#[from] crate::keys::KeyFileError),
    #[error(transparent)]
    CaFile(#[from] crate::media_url::CaFileError),
    #[error("cannot load the model: {0}")]
    Load(String),
    #[error("{protocol} server failed: {source}")]
    Serve {
        protocol: &'static str,
        source: std::io::Error,
    },
}

pub async fn run(config: Config) -> Result<(), StartError> {
    let config = Arc::new(config);
    let api_keys = match config.serving.api_key.clone() {
        Some(key) => Some(vec![key]),
        None => config.protection.keys_from_file()?,
    }
    .map(|keys| Arc::new(ApiKeys::new(keys)));
    // Installed before anything slow: from here on SIGHUP reloads the keys, never ends the process.
    let reloaded = api_keys
        .as_ref()
        .zip(config.protection.api_key_file.clone())
        .map(|(keys, path)| (Arc::clone(keys), path));
    tokio::spawn(keys::reload_on_change(reloaded));
    let metrics = Metrics::new()?;
    let trim_after = Duration::from_millis(config.runtime.idle_trim_after_ms);
    if let Err(error) = crate::memory_trim::start(trim_after) {
        // Only memory after a load is at stake: serve without it.
        tracing::warn!(%error, "cannot start the idle memory trim");
    }
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health = Arc::new(Health::new(reporter, metrics.ready.clone()).await);
    let limits = config.limits.resolve();
    let settings = info::Settings::new(&config, api_keys.is_some());
    let gateway = Arc::new(Gateway::new(
        GatewaySettings {
            api_keys,
            request_timeout: config.serving.request_timeout(),
            retry_after_s: config.serving.retry_after_s,
            max_concurrent_requests: config.serving.max_concurrent_requests,
            max_pending_requests: config.protection.max_pending_requests,
            limits: limits.request.clone(),
        },
        Arc::clone(&health),
        metrics.clone(),
    ));
    let tasks = Arc::new(TaskState {
        gateway: Arc::clone(&gateway),
        max_body_bytes: limits.max_body_bytes,
        media_urls: MediaUrls::new(
            &config.media_urls,
            &limits.media,
            config.serving.retry_after_s,
            &metrics,
        )?,
    });
    let ops = Arc::new(OpsState {
        gateway: Arc::clone(&gateway),
        health: Arc::clone(&health),
        metrics: metrics.clone(),
        settings,
        schema: SchemaSettings {
            limits: limits.request.clone(),
            decode: limits.decode,
            media_urls: config.media_urls.media_urls,
        },
    });

    let http_listener = bind(config.http_addr).await?;
    let grpc_listener = bind(config.grpc_addr).await?;
    let admin_listener = match config.protection.admin_addr {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let (close_sender, close) = close_listeners_channel();
    let mut admin_server = match admin_listener {
        Some(listener) => tokio::spawn(serve(
            listener,
            http::admin_router(Arc::clone(&ops)),
            close.clone(),
        )),
        None => tokio::spawn(std::future::pending()),
    };
    let grpc_router = grpc::router(Arc::clone(&tasks), Arc::clone(&ops), health_service)?;
    // Health and metrics stay on the API address unless --admin-addr takes them.
    let http_router = http::router(tasks, ops, config.protection.admin_addr.is_none());
    let mut http_server = tokio::spawn(serve(http_listener, http_router, close.clone()));
    let mut grpc_server = tokio::spawn(serve(grpc_listener, grpc_router, close));
    let mut loading = tokio::spawn(load(
        Arc::clone(&config),
        Arc::clone(&gateway),
        Arc::clone(&health),
        metrics,
        limits,
    ));

    let mut loaded = false;
    loop {
        tokio::select! {
            () = shutdown::signal() => break,
            result = &mut loading, if !loaded => {
                result.map_err(|e| StartError::Load(e.to_string()))??;
                loaded = true;
            }
            result = &mut http_server => return Err(served("HTTP", result)),
            result = &mut grpc_server => return Err(served("gRPC", result)),
            result = &mut admin_server => return Err(served("admin HTTP", result)),
        }
    }

    health.start_draining().await;
    let grace = config.serving.shutdown_grace_period();
    let admission = gateway.admission();
    tracing::info!(
        in_flight = admission.in_flight(),
        grace_s = grace.as_secs(),
        "draining"
    );
    if admission.drained(grace).await {
        tracing::info!("every in-flight request finished");
    } else {
        tracing::warn!(
            in_flight = admission.in_flight(),
            "grace period over; closing anyway"
        );
    }
    let _ = close_sender.send(true);
    // Connections left only get quick answers now; do not wait on a stuck one for long.
    let closing = async {
        let _ = http_server.await;
        let _ = grpc_server.await;
        if config.protection.admin_addr.is_some() {
            let _ = admin_server.await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), closing).await;
    tracing::info!("stopped");
    Ok(())
}

async fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    tracing::info!(addr = %listener.local_addr().unwrap_or(addr), "listening");
    Ok(listener)
}

fn served(
    protocol: &'static str,
    result: Result<std::io::Result<()>, tokio::task::JoinError>,
) -> StartError {
    let source = match result {
        Ok(Ok(())) => std::io::Error::other("stopped unexpectedly"),
        Ok(Err(error)) => error,
        Err(error) => std::io::Error::other(error.to_string()),
    };
    StartError::Serve { protocol, source }
}

/// Loads and warms every package off the async runtime, then marks the server ready.
async fn load(
    config: Arc<Config>,
    gateway: Arc<Gateway>,
    health: Arc<Health>,
    metrics: Metrics,
    limits: crate::limits::Limits,
) -> Result<(), StartError> {
    let started = std::time::Instant::now();
    let loading = metrics.clone();
    let models = tokio::task::spawn_blocking(move || {
        let dirs = config.models.dirs();
        let settings = LoadSettings {
            model_dirs: &dirs,
            default_model: config.models.default_model.as_deref(),
            max_model_bytes: config.models.max_model_bytes,
            runtime: config.runtime.resolve(),
            media: limits.media,
            decode: limits.decode,
            warmup_runs: config.serving.warmup_runs,
            batching: &config.batching,
            max_queue_items: config.protection.max_queue_items,
            cache: &config.cache,
        };
        engine::load(settings, &loading)
    })
    .await
    .map_err(|error| StartError::Load(error.to_string()))?
    .map_err(|error| StartError::Load(error.to_string()))?;
    let (task_names, generating) = tasks::names();
    for engine in models.all() {
        let info = engine.info();
        metrics.expose_model(&info.name, &task_names, &generating);
        tracing::info!(
            model = info.name,
            dtype = info.dtype,
            weight_bytes = info.weight_bytes,
            provider = engine.provider_name(),
            tasks = ?engine.task_names(),
            "package ready"
        );
    }
    tracing::info!(
        packages = models.all().len(),
        seconds = started.elapsed().as_secs_f64(),
        "every package loaded and warmed; ready"
    );
    gateway.set_models(Arc::new(models));
    health.set_warmed().await;
    Ok(())
}
