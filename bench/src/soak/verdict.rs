//! The soak's verdict, after warm-up: resident memory flat, p99 latency not drifting, and no
//! failed request apart from the cancelled and the short-deadline ones that expired.

use std::time::Duration;

use mplug2_bench::window::percentile;
use serde::Serialize;

/// The bounds held (stated in docs/RELIABILITY.md).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Bounds {
    /// The first part of the run left out of the memory and p99 checks.
    pub warmup_fraction: f64,
    /// Last RSS ≤ first post-warm-up RSS × `rss_factor` + `rss_slack_bytes`.
    pub rss_factor: f64,
    pub rss_slack_bytes: u64,
    /// p99 of the last third ≤ p99 of the first third × `p99_factor` + `p99_slack_ms` (the
    /// slack keeps a few slow answers of a short run from failing it).
    pub p99_factor: f64,
    pub p99_slack_ms: f64,
}

pub const BOUNDS: Bounds = Bounds {
    warmup_fraction: 0.2,
    rss_factor: 1.05,
    rss_slack_bytes: 64 << 20,
    p99_factor: 1.5,
    p99_slack_ms: 50.0,
};

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub memory: Check,
    pub p99: Check,
    pub failures: Check,
    pub passed: bool,
}

/// What the verdict reads of a run.
pub struct Run<'a> {
    pub duration_s: f64,
    /// (seconds since the load began, resident bytes) at the end of every window.
    pub rss: &'a [(f64, u64)],
    /// (seconds since the load began, latency) of every successful normal request.
    pub latencies: &'a [(f64, Duration)],
    /// Normal requests that failed, short-deadline requests that failed otherwise than by their
    /// deadline, and requests still unanswered when the run ended.
    pub failed: usize,
    pub unanswered: usize,
    pub first_error: Option<&'a str>,
}

const MIB: f64 = 1024.0 * 1024.0;

pub fn judge(run: &Run, bounds: &Bounds) -> Verdict {
    let warm = run.duration_s * bounds.warmup_fraction;
    let memory = memory(run, bounds, warm);
    let p99 = p99(run, bounds, warm);
    let failures = Check {
        passed: run.failed == 0 && run.unanswered == 0,
        detail: format!(
            "{} failed, {} unanswered{}",
            run.failed,
            run.unanswered,
            run.first_error
                .map_or(String::new(), |e| format!("; first: {e}"))
        ),
    };
    Verdict {
        passed: memory.passed && p99.passed && failures.passed,
        memory,
        p99,
        failures,
    }
}

fn memory(run: &Run, bounds: &Bounds, warm: f64) -> Check {
    let mut after = run.rss.iter().filter(|(t, _)| *t > warm);
    let (Some(&(_, first)), Some(&(_, last))) = (after.next(), run.rss.last()) else {
        return Check {
            passed: false,
            detail: "no memory sample after warm-up".into(),
        };
    };
    let bound = first as f64 * bounds.rss_factor + bounds.rss_slack_bytes as f64;
    Check {
        passed: last as f64 <= bound,
        detail: format!(
            "RSS {:.1} MiB after warm-up, {:.1} MiB at the end (bound {:.1} MiB)",
            first as f64 / MIB,
            last as f64 / MIB,
            bound / MIB
        ),
    }
}

fn p99(run: &Run, bounds: &Bounds, warm: f64) -> Check {
    let third = (run.duration_s - warm) / 3.0;
    let p99_between = |from: f64, to: f64| {
        let mut latencies: Vec<Duration> = run
            .latencies
            .iter()
            .filter(|(t, _)| *t >= from && *t < to)
            .map(|(_, l)| *l)
            .collect();
        latencies.sort();
        (
            latencies.len(),
            percentile(&latencies, 99.0).as_secs_f64() * 1e3,
        )
    };
    let (first_n, first) = p99_between(warm, warm + third);
    let (last_n, last) = p99_between(warm + 2.0 * third, f64::INFINITY);
    if first_n == 0 || last_n == 0 {
        return Check {
            passed: false,
            detail: format!("too few answers to compare ({first_n} and {last_n})"),
        };
    }
    let bound = first * bounds.p99_factor + bounds.p99_slack_ms;
    Check {
        passed: last <= bound,
        detail: format!(
            "p99 {first:.0} ms in the first third after warm-up ({first_n} answers), \
             {last:.0} ms in the last ({last_n} answers; bound {bound:.0} ms)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<'a>(rss: &'a [(f64, u64)], latencies: &'a [(f64, Duration)]) -> Run<'a> {
        Run {
            duration_s: 100.0,
            rss,
            latencies,
            failed: 0,
            unanswered: 0,
            first_error: None,
        }
    }

    fn steady(ms: u64) -> Vec<(f64, Duration)> {
        (0..1000)
            .map(|i| (i as f64 / 10.0, Duration::from_millis(ms)))
            .collect()
    }

    const MB: u64 = 1 << 20;

    #[test]
    fn a_flat_run_passes() {
        let rss = [(10.0, 900 * MB), (30.0, 500 * MB), (100.0, 560 * MB)];
        let latencies = steady(100);
        let verdict = judge(&run(&rss, &latencies), &BOUNDS);
        assert!(verdict.passed, "{verdict:?}");
    }

    #[test]
    fn memory_growth_beyond_the_bound_fails() {
        // 500 MiB × 1.05 + 64 MiB = 589 MiB; the warm-up sample is not the reference.
        let rss = [(10.0, 100 * MB), (30.0, 500 * MB), (100.0, 600 * MB)];
        let latencies = steady(100);
        let verdict = judge(&run(&rss, &latencies), &BOUNDS);
        assert!(!verdict.memory.passed && !verdict.passed, "{verdict:?}");
        assert!(verdict.p99.passed);
    }

    #[test]
    fn p99_drift_fails() {
        let rss = [(30.0, 500 * MB), (100.0, 500 * MB)];
        let mut latencies = steady(100);
        // The last third (t ≥ 73.3 s) answers in 300 ms: above 100 × 1.5 + 50.
        for (t, l) in &mut latencies {
            if *t >= 74.0 {
                *l = Duration::from_millis(300);
            }
        }
        let verdict = judge(&run(&rss, &latencies), &BOUNDS);
        assert!(!verdict.p99.passed, "{verdict:?}");
        assert!(verdict.memory.passed);
    }

    #[test]
    fn a_failed_or_unanswered_request_fails() {
        let rss = [(30.0, 500 * MB), (100.0, 500 * MB)];
        let latencies = steady(100);
        let mut failed = run(&rss, &latencies);
        failed.failed = 1;
        failed.first_error = Some("500: boom");
        let verdict = judge(&failed, &BOUNDS);
        assert!(!verdict.passed && verdict.failures.detail.contains("500: boom"));
        let mut unanswered = run(&rss, &latencies);
        unanswered.unanswered = 1;
        assert!(!judge(&unanswered, &BOUNDS).passed);
    }

    #[test]
    fn no_sample_after_warm_up_fails() {
        let verdict = judge(&run(&[(10.0, MB)], &[]), &BOUNDS);
        assert!(!verdict.memory.passed && !verdict.p99.passed);
    }
}
