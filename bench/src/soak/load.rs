//! The soak's load: a short closed loop to measure capacity, then open-loop Poisson arrivals
//! drawn from the mix, every answer logged with its item, behaviour and outcome.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use rand::Rng;

use super::mix::{Arrival, Behaviour, Mix};

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Any other answer or a transport error: the message.
    Failed(String),
    /// Dropped by the client before its answer.
    Cancelled,
    /// A short-deadline request answered with a deadline error.
    Expired,
}

#[derive(Debug, Clone)]
pub struct Done {
    pub at: Instant,
    pub latency: Duration,
    pub item: usize,
    pub behaviour: Behaviour,
    pub outcome: Outcome,
}

#[derive(Default)]
pub struct Log {
    pub offered: AtomicUsize,
    done: Mutex<Vec<Done>>,
}

impl Log {
    fn push(&self, done: Done) {
        if let Ok(mut all) = self.done.lock() {
            all.push(done);
        }
    }

    /// The requests answered (or given up) in `[from, to)`.
    pub fn between(&self, from: Instant, to: Instant) -> Vec<Done> {
        self.done
            .lock()
            .map(|d| {
                d.iter()
                    .filter(|d| d.at >= from && d.at < to)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn all(&self) -> Vec<Done> {
        self.done.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

/// A deadline error as the server answers it (504, DEADLINE_EXCEEDED) or as tonic reports a
/// deadline it enforced itself.
fn is_deadline_error(message: &str) -> bool {
    message.starts_with("504")
        || message.starts_with("DeadlineExceeded")
        || message.contains("Timeout expired")
}

/// Sends one arrival and logs what became of it.
async fn send(mix: &Mix, arrival: Arrival, log: &Log) {
    let mut call = mix.items[arrival.item].call.clone();
    let sent = Instant::now();
    let outcome = match arrival.behaviour {
        Behaviour::Normal => call
            .send()
            .await
            .map_or_else(Outcome::Failed, |()| Outcome::Ok),
        // Dropping the future drops the connection's request: the server sees the client go.
        Behaviour::Cancel => match tokio::time::timeout(arrival.after, call.send()).await {
            Ok(result) => result.map_or_else(Outcome::Failed, |()| Outcome::Ok),
            Err(_) => Outcome::Cancelled,
        },
        Behaviour::ShortDeadline => match call.send_within(Some(arrival.after)).await {
            Ok(()) => Outcome::Ok,
            Err(message) if is_deadline_error(&message) => Outcome::Expired,
            Err(message) => Outcome::Failed(message),
        },
    };
    log.push(Done {
        at: Instant::now(),
        latency: sent.elapsed(),
        item: arrival.item,
        behaviour: arrival.behaviour,
        outcome,
    });
}

/// Requests per second the server answers with `clients` closed-loop clients sending normal
/// requests of the mix, over `span` after a warm-up of a quarter of it.
pub async fn capacity(mix: Arc<Mix>, clients: usize, span: Duration) -> f64 {
    let log = Arc::new(Log::default());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (mix, log, stop) = (Arc::clone(&mix), Arc::clone(&log), Arc::clone(&stop));
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let item = mix.pick(&mut rand::rng());
                    let arrival = Arrival {
                        item,
                        behaviour: Behaviour::Normal,
                        after: Duration::ZERO,
                    };
                    send(&mix, arrival, &log).await;
                }
            })
        })
        .collect();
    let warm = Instant::now() + span / 4;
    tokio::time::sleep_until((warm + span).into()).await;
    let answered = log
        .between(warm, warm + span)
        .iter()
        .filter(|d| d.outcome == Outcome::Ok)
        .count();
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        let _ = worker.await;
    }
    answered as f64 / span.as_secs_f64()
}

/// Poisson arrivals at `rate` per second until `until`; returns the requests' tasks (still
/// running when it returns).
pub async fn open_loop(
    mix: Arc<Mix>,
    rate: f64,
    until: Instant,
    log: Arc<Log>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut in_flight = Vec::new();
    let mut next = Instant::now();
    while next < until {
        tokio::time::sleep_until(next.into()).await;
        let arrival = mix.arrival(&mut rand::rng());
        let (mix, log) = (Arc::clone(&mix), Arc::clone(&log));
        log.offered.fetch_add(1, Ordering::SeqCst);
        in_flight.push(tokio::spawn(async move { send(&mix, arrival, &log).await }));
        in_flight.retain(|task| !task.is_finished());
        let uniform: f64 = rand::rng().random_range(f64::EPSILON..1.0);
        next += Duration::from_secs_f64(-uniform.ln() / rate.max(1e-3));
    }
    in_flight
}

#[cfg(test)]
mod tests {
    #[test]
    fn deadline_errors_are_told_from_others() {
        assert!(super::is_deadline_error("504 Gateway Timeout: {}"));
        assert!(super::is_deadline_error("DeadlineExceeded: deadline"));
        assert!(super::is_deadline_error("Cancelled: Timeout expired"));
        assert!(!super::is_deadline_error("500 Internal Server Error: {}"));
        assert!(!super::is_deadline_error("Internal: boom"));
    }
}
