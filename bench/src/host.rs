//! The machine a run measures and when, for its report, and the server binary it runs.

/// CPU model, cores and memory, from /proc.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let avx2 = cpuinfo.contains(" avx2");
    let avx512 = cpuinfo.contains("avx512f");
    format!("{model}, {cores} cores, {memory:.0} GiB, AVX2: {avx2}, AVX-512: {avx512}")
}

pub fn date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The server binary a bench runs: `server_bin` relative to the workspace, by default its release
/// build; `missing` says how to make it when it is not there.
pub fn server_binary(
    server_bin: Option<&std::path::Path>,
    missing: &str,
) -> Result<std::path::PathBuf, String> {
    let binary = mplug2_e2e_tests::workspace_root()
        .join(server_bin.unwrap_or("target/release/mplug2-serve".as_ref()));
    if binary.exists() {
        Ok(binary)
    } else {
        Err(format!("{} not found: {missing}", binary.display()))
    }
}
