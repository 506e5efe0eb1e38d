//! One `mplug2-serve` process on free loopback ports, stopped (SIGKILL) when dropped unless the
//! test stopped it with SIGTERM and collected its exit status. A crash test kills it and starts
//! it again with the same flags on the same ports (`crash`, `respawn`).

use std::{
    ffi::OsString,
    fs::File,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Mutex, OnceLock},
    time::{Duration, Instant},
};

use mplug2_proto::v1::inference_client::InferenceClient;
use tonic::transport::Channel;

use crate::{demo_package, workspace_root};

/// An HTTP/2 client without tonic's client-side timeout layer.
pub type BlindChannel = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    tonic::body::Body,
>;

/// How long a test waits for the server to come up before failing.
pub const START_BOUND: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    pub model_dir: Option<PathBuf>,
    /// The `mplug2-serve` to run; default: built from this workspace by `binary()`.
    pub binary: Option<PathBuf>,
    /// How long to wait for the server to come up (default `START_BOUND`).
    pub start_bound: Option<Duration>,
    /// Extra flags, e.g. `["--max-batch-size", "1"]`.
    pub args: Vec<String>,
}

/// Media URLs on, fetched from `localhost` (a loopback address), as the media URL tests need.
pub const LOOPBACK_MEDIA_URLS: [&str; 6] = [
    "--media-urls",
    "true",
    "--media-url-allowed-hosts",
    "localhost",
    "--media-url-allow-private-addresses",
    "true",
];

impl ServerOptions {
    pub fn args(args: &[&str]) -> ServerOptions {
        ServerOptions {
            args: args.iter().map(|a| a.to_string()).collect(),
            ..ServerOptions::default()
        }
    }
}

pub struct Server {
    child: Mutex<Option<Child>>,
    pub http: String,
    pub grpc: String,
    /// The `--admin-addr` base URL, when started by `ready_with_admin`.
    pub admin: Option<String>,
    log: PathBuf,
    start_bound: Duration,
    /// The binary and its arguments, to start it again after a crash.
    binary: PathBuf,
    args: Vec<OsString>,
    dir: TempDir,
}

impl Server {
    /// Starts the server and returns once it answers `/health/live` (it may still be warming).
    pub async fn start(options: ServerOptions) -> Server {
        Server::launch(options, false).await
    }

    /// Starts the server with health, metrics and info on a separate `--admin-addr` port, and
    /// waits until it is ready.
    pub async fn ready_with_admin(options: ServerOptions) -> Server {
        let server = Server::launch(options, true).await;
        server.wait_ready().await;
        server
    }

    async fn launch(options: ServerOptions, admin: bool) -> Server {
        let server = Server::spawn(options, admin);
        server.wait_for("/health/live").await;
        server
    }

    /// Runs a server that must refuse to start: its exit status and log, within the start bound.
    pub async fn refused(options: ServerOptions) -> (ExitStatus, String) {
        let server = Server::spawn(options, false);
        let status = server.exit_status(server.start_bound).await;
        (status, server.log())
    }

    fn spawn(options: ServerOptions, admin: bool) -> Server {
        let dir = TempDir::new();
        let log = dir.path().join("server.log");
        let (http_port, grpc_port) = (free_port(), free_port());
        let model_dir = options.model_dir.unwrap_or_else(demo_package);
        let admin_port = admin.then(free_port);
        let admin_args = admin_port
            .map(|port| vec!["--admin-addr".to_owned(), format!("127.0.0.1:{port}")])
            .unwrap_or_default();
        let mut args: Vec<OsString> = vec!["--model-dir".into(), model_dir.into()];
        args.extend(
            [
                "--http-addr".to_owned(),
                format!("127.0.0.1:{http_port}"),
                "--grpc-addr".to_owned(),
                format!("127.0.0.1:{grpc_port}"),
            ]
            .into_iter()
            .chain(admin_args)
            .chain(options.args)
            .map(OsString::from),
        );
        let binary = options.binary.unwrap_or_else(binary);
        let child = launch(&binary, &args, dir.path(), &log);
        Server {
            child: Mutex::new(Some(child)),
            http: format!("http://127.0.0.1:{http_port}"),
            grpc: format!("http://127.0.0.1:{grpc_port}"),
            admin: admin_port.map(|port| format!("http://127.0.0.1:{port}")),
            log,
            start_bound: options.start_bound.unwrap_or(START_BOUND),
            binary,
            args,
            dir,
        }
    }

    /// Kills the process with SIGKILL, as a crash, and reaps it.
    pub fn crash(&self) {
        let mut child = self.child.lock().expect("child lock");
        let mut process = child.take().expect("server running");
        process.kill().expect("SIGKILL");
        process.wait().expect("reap");
    }

    /// Starts the binary again with the same flags and ports after `crash`, its log appended to
    /// the same file; returns at once (the caller polls readiness).
    pub fn respawn(&self) {
        let mut child = self.child.lock().expect("child lock");
        assert!(child.is_none(), "respawn of a running server");
        *child = Some(launch(&self.binary, &self.args, self.dir.path(), &self.log));
    }

    /// Starts the server with default flags and waits until it is ready.
    pub async fn ready(options: ServerOptions) -> Server {
        let server = Server::start(options).await;
        server.wait_ready().await;
        server
    }

    /// Polls `/health/ready` until it answers 200, within the start bound.
    pub async fn wait_ready(&self) {
        self.wait_for("/health/ready").await;
    }

    async fn wait_for(&self, path: &str) {
        let client = crate::http_client::http_client();
        let deadline = Instant::now() + self.start_bound;
        let base = self.admin.as_ref().unwrap_or(&self.http);
        loop {
            if let Ok(response) = client.get(format!("{base}{path}")).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{path} not 200 within {:?}; log:\n{}",
                self.start_bound,
                self.log()
            );
            self.assert_running();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn assert_running(&self) {
        let mut child = self.child.lock().expect("child lock");
        if let Some(process) = child.as_mut() {
            let exited = process.try_wait().expect("wait");
            assert!(
                exited.is_none(),
                "mplug2-serve exited ({exited:?}); log:\n{}",
                self.log()
            );
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child
            .lock()
            .expect("child lock")
            .as_ref()
            .map(Child::id)
            .expect("server running")
    }

    /// Sends SIGTERM (a graceful shutdown).
    pub fn terminate(&self) {
        // SAFETY: sending a signal to our own child process.
        let sent = unsafe { libc::kill(self.pid() as i32, libc::SIGTERM) };
        assert_eq!(sent, 0, "cannot signal the server");
    }

    /// Waits for the process to exit, within `bound`.
    pub async fn exit_status(&self, bound: Duration) -> ExitStatus {
        let mut child = self
            .child
            .lock()
            .expect("child lock")
            .take()
            .expect("server running");
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                panic!(
                    "mplug2-serve did not exit within {bound:?}; log:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.http)
    }

    pub async fn grpc_client(&self) -> InferenceClient<Channel> {
        InferenceClient::connect(self.grpc.clone())
            .await
            .expect("gRPC connect")
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(256 << 20)
    }

    /// A gRPC client that only sends its deadline (`grpc-timeout`) and does not enforce it
    /// itself, so that tests see the status the server answers when a deadline passes.
    pub fn deadline_blind_client(&self) -> InferenceClient<BlindChannel> {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .http2_only(true)
                .build(connector);
        InferenceClient::with_origin(client, self.grpc.parse().expect("uri"))
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.grpc.clone())
            .expect("uri")
            .connect()
            .await
            .expect("gRPC connect")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.get_mut().ok().and_then(Option::take) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn launch(binary: &Path, args: &[OsString], dir: &Path, log: &Path) -> Child {
    let appending = || File::options().create(true).append(true).open(log);
    Command::new(binary)
        .current_dir(dir)
        .env("ORT_DYLIB_PATH", ort_library())
        .env("RUST_LOG", "info,mplug2_server=debug")
        .env_remove("API_KEY")
        .env_remove("API_KEY_FILE")
        .env_remove("ADMIN_ADDR")
        .args(args)
        .stdout(Stdio::from(appending().expect("log file")))
        .stderr(Stdio::from(appending().expect("log file")))
        .spawn()
        .expect("cannot start mplug2-serve")
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Builds `mplug2-serve` once per test binary (with cargo, as the tests run) and returns its path;
/// `MPLUG2_SERVE_BIN` names a prebuilt one instead.
pub fn binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Ok(path) = std::env::var("MPLUG2_SERVE_BIN") {
                return PathBuf::from(path);
            }
            // `--workspace` resolves features as a workspace build does, so the dependencies built
            // for `cargo test --workspace` are reused instead of rebuilt for the server alone.
            escargot::CargoBuild::new()
                .arg("--workspace")
                .bin("mplug2-serve")
                .manifest_path(workspace_root().join("Cargo.toml"))
                .run()
                .expect("cannot build mplug2-serve")
                .path()
                .to_path_buf()
        })
        .clone()
}

/// `ORT_DYLIB_PATH`, else the library `scripts/fetch-ort.sh` puts in `.ort/`.
pub fn ort_library() -> PathBuf {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        return PathBuf::from(path);
    }
    let fetched =
        workspace_root().join(".ort/onnxruntime-1.32.0/onnxruntime/capi/libonnxruntime.so.1.32.0");
    assert!(
        fetched.exists(),
        "ONNX Runtime not found: set ORT_DYLIB_PATH or run scripts/fetch-ort.sh (make test does both)"
    );
    fetched
}

/// A temporary directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "mplug2-e2e-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for TempDir {
    fn default() -> Self {
        TempDir::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
