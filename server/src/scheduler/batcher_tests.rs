//! Behaviour of the generic batcher with a small in-memory runner (the module runners over ONNX
//! Runtime are covered by the end-to-end tests).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use tokio::{sync::mpsc as tokio_mpsc, task::JoinHandle};

use super::*;
use crate::metrics::Metrics;

/// Squares numbers. Items of different parity never share a batch. Records each batch; when
/// gated, tells `started` that a batch began and holds it until `gate` lets it go.
struct Squarer {
    batches: Arc<Mutex<Vec<Vec<u64>>>>,
    started: tokio_mpsc::UnboundedSender<()>,
    gate: Option<mpsc::Receiver<()>>,
}

impl BatchRunner for Squarer {
    type Input = u64;
    type Output = u64;
    type Error = String;

    fn group(&self, input: &u64) -> u64 {
        input % 2
    }

    fn run(&mut self, inputs: &[u64]) -> Result<Vec<u64>, String> {
        let _ = self.started.send(());
        if let Some(gate) = &self.gate {
            let _ = gate.recv();
        }
        self.batches.lock().unwrap().push(inputs.to_vec());
        if inputs.contains(&13) {
            return Err("13 is unlucky".into());
        }
        assert!(!inputs.contains(&99), "99 makes the module panic");
        Ok(inputs.iter().map(|x| x * x).collect())
    }
}

/// A submitted item's eventual output.
type Pending = JoinHandle<Result<(u64, ItemTiming), ScheduleError<String>>>;

impl From<BatchFailure> for String {
    fn from(failure: BatchFailure) -> String {
        failure.0
    }
}

struct Setup {
    batcher: Arc<Batcher<Squarer>>,
    batches: Arc<Mutex<Vec<Vec<u64>>>>,
    started: tokio_mpsc::UnboundedReceiver<()>,
    open: mpsc::Sender<()>,
    metrics: Metrics,
}

fn setup(max_size: usize, max_delay: Duration, gated: bool) -> Setup {
    let metrics = Metrics::new().unwrap();
    let batches = Arc::new(Mutex::new(Vec::new()));
    let (started_tx, started) = tokio_mpsc::unbounded_channel();
    let (open, gate) = mpsc::channel();
    let runner = Squarer {
        batches: Arc::clone(&batches),
        started: started_tx,
        gate: gated.then_some(gate),
    };
    let settings = BatcherSettings {
        limits: BatchLimits {
            max_size,
            max_cost: None,
            cost_rule: CostRule::Sum,
        },
        max_delay,
        max_queued: 5,
    };
    let batcher = Batcher::spawn(
        "test",
        runner,
        settings,
        ModuleMetrics::new(&metrics, "test", "m"),
    )
    .unwrap();
    Setup {
        batcher: Arc::new(batcher),
        batches,
        started,
        open,
        metrics,
    }
}

impl Setup {
    fn submit(&self, x: u64, deadline: Instant) -> Pending {
        let batcher = Arc::clone(&self.batcher);
        tokio::spawn(async move { batcher.submit(x, deadline).await })
    }

    async fn queued(&self, items: i64) {
        let depth = self.metrics.queue_depth.with_label_values(&["test", "m"]);
        while depth.get() != items {
            tokio::task::yield_now().await;
        }
    }

    /// Starts a batch holding `x` and returns once the module is busy running it.
    async fn occupy(&mut self, x: u64) -> Pending {
        let handle = self.submit(x, far());
        self.started.recv().await.unwrap();
        handle
    }

    fn batches(&self) -> Vec<Vec<u64>> {
        self.batches.lock().unwrap().clone()
    }
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(600)
}

async fn outputs(handles: Vec<Pending>) -> Vec<u64> {
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap().unwrap().0);
    }
    outputs
}

#[tokio::test]
async fn items_queued_while_the_module_runs_form_one_batch() {
    let mut s = setup(8, Duration::ZERO, true);
    let first = s.occupy(2).await;
    let rest: Vec<_> = [4, 6, 8].into_iter().map(|x| s.submit(x, far())).collect();
    s.queued(3).await;
    s.open.send(()).unwrap();
    s.open.send(()).unwrap();
    assert_eq!(outputs(vec![first]).await, vec![4]);
    assert_eq!(outputs(rest).await, vec![16, 36, 64]);
    assert_eq!(s.batches(), vec![vec![2], vec![4, 6, 8]]);
    let executions = s
        .metrics
        .module_executions_total
        .with_label_values(&["test", "m"])
        .get();
    let items = s
        .metrics
        .module_items_total
        .with_label_values(&["test", "m"])
        .get();
    assert_eq!((executions, items), (2, 4));
}

#[tokio::test]
async fn batches_keep_to_one_group_and_the_size_limit() {
    let mut s = setup(2, Duration::ZERO, true);
    let blocker = s.occupy(100).await;
    let handles: Vec<_> = [1, 2, 3, 5, 4]
        .into_iter()
        .map(|x| s.submit(x, far()))
        .collect();
    s.queued(5).await;
    for _ in 0..4 {
        s.open.send(()).unwrap();
    }
    assert_eq!(outputs(vec![blocker]).await, vec![10_000]);
    assert_eq!(outputs(handles).await, vec![1, 4, 9, 25, 16]);
    // Odd and even are different groups; at most two per batch; the oldest item's group first.
    assert_eq!(
        s.batches(),
        vec![vec![100], vec![1, 3], vec![2, 4], vec![5]]
    );
}

#[tokio::test]
async fn an_idle_module_with_nothing_expected_does_not_wait_for_the_delay() {
    let s = setup(8, Duration::from_secs(3600), false);
    let answer = tokio::time::timeout(Duration::from_secs(60), s.batcher.submit(3, far())).await;
    assert_eq!(
        answer
            .expect("the batcher held a lone item for its batch delay")
            .unwrap()
            .0,
        9
    );
}

#[tokio::test]
async fn waits_within_the_delay_for_an_expected_arrival() {
    let s = setup(2, Duration::from_secs(3600), false);
    let expected = s.batcher.expect();
    let first = s.submit(2, far());
    s.queued(1).await;
    // The expected item arrives before the expectation ends: `queued` sees the queue's
    // reservation, which may come before the batcher's thread has taken the first item, and an
    // expectation ended first would let that item run alone.
    let second = s.submit(4, far());
    expected.arrive();
    assert_eq!(outputs(vec![first, second]).await, vec![4, 16]);
    assert_eq!(s.batches(), vec![vec![2, 4]]);
}

#[tokio::test]
async fn stops_waiting_when_the_delay_passes() {
    let s = setup(8, Duration::from_millis(20), false);
    let _never_arrives = s.batcher.expect();
    assert_eq!(s.batcher.submit(3, far()).await.unwrap().0, 9);
    assert_eq!(s.batches(), vec![vec![3]]);
}

#[tokio::test]
async fn items_past_their_deadline_or_without_caller_are_dropped_before_running() {
    let mut s = setup(8, Duration::ZERO, true);
    let blocker = s.occupy(2).await;
    let expired = s.submit(4, Instant::now());
    let abandoned = s.submit(6, far());
    let kept = s.submit(8, far());
    s.queued(3).await;
    abandoned.abort();
    assert!(abandoned.await.unwrap_err().is_cancelled());
    s.open.send(()).unwrap();
    s.open.send(()).unwrap();
    assert!(matches!(
        expired.await.unwrap(),
        Err(ScheduleError::DeadlinePassed)
    ));
    assert_eq!(outputs(vec![blocker, kept]).await, vec![4, 64]);
    assert_eq!(s.batches(), vec![vec![2], vec![8]]);
    let dropped = |reason| {
        s.metrics
            .dropped_items_total
            .with_label_values(&["test", reason, "m"])
            .get()
    };
    assert_eq!((dropped("deadline"), dropped("cancelled")), (1, 1));
    s.queued(0).await;
}

#[tokio::test]
async fn a_failed_batch_is_split_until_only_the_bad_item_fails() {
    let mut s = setup(8, Duration::ZERO, true);
    let blocker = s.occupy(2).await;
    let handles: Vec<_> = [1, 13, 15, 17]
        .into_iter()
        .map(|x| s.submit(x, far()))
        .collect();
    s.queued(4).await;
    // The blocker, the batch, its halves, and the failing half's halves.
    for _ in 0..6 {
        s.open.send(()).unwrap();
    }
    assert_eq!(outputs(vec![blocker]).await, vec![4]);
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(match handle.await.unwrap() {
            Ok((output, _)) => Ok(output),
            Err(ScheduleError::Failed(error)) => Err(error),
            Err(other) => panic!("{other:?}"),
        });
    }
    assert_eq!(
        answers,
        vec![Ok(1), Err("13 is unlucky".to_owned()), Ok(225), Ok(289)]
    );
    assert_eq!(
        s.batches(),
        vec![
            vec![2],
            vec![1, 13, 15, 17],
            vec![1, 13],
            vec![1],
            vec![13],
            vec![15, 17]
        ]
    );
    let splits = s
        .metrics
        .batch_splits_total
        .with_label_values(&["test", "m"]);
    assert_eq!(splits.get(), 2);
}

#[tokio::test]
async fn a_panicking_batch_fails_only_the_item_that_panics_and_the_module_keeps_serving() {
    let mut s = setup(8, Duration::ZERO, true);
    let blocker = s.occupy(2).await;
    let handles: Vec<_> = [1, 99].into_iter().map(|x| s.submit(x, far())).collect();
    s.queued(2).await;
    // The blocker, the batch, and its two halves.
    for _ in 0..4 {
        s.open.send(()).unwrap();
    }
    blocker.await.unwrap().unwrap();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    assert_eq!(answers[0].as_ref().unwrap().0, 1);
    assert!(
        matches!(&answers[1], Err(ScheduleError::Failed(e)) if e == "the module panicked"),
        "{:?}",
        answers[1]
    );
    s.open.send(()).unwrap();
    assert_eq!(outputs(vec![s.submit(3, far())]).await, vec![9]);
}

#[tokio::test]
async fn a_full_queue_refuses_new_items_at_once() {
    let mut s = setup(8, Duration::ZERO, true);
    let blocker = s.occupy(2).await;
    let queued: Vec<_> = [4, 6, 8, 10, 12]
        .into_iter()
        .map(|x| s.submit(x, far()))
        .collect();
    s.queued(5).await;
    assert!(matches!(
        s.batcher.submit(14, far()).await,
        Err(ScheduleError::QueueFull { limit: 5 })
    ));
    s.open.send(()).unwrap();
    s.open.send(()).unwrap();
    assert_eq!(outputs(vec![blocker]).await, vec![4]);
    assert_eq!(outputs(queued).await, vec![16, 36, 64, 100, 144]);
}

/// Many senders at once (a barrier) while the module is busy: exactly `max_queued` (5) of them
/// are queued and answered, every other one is refused at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_senders_never_overshoot_the_queue_bound() {
    const SENDERS: usize = 32;
    let mut s = setup(8, Duration::ZERO, true);
    let blocker = s.occupy(2).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(SENDERS));
    let tried = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..SENDERS as u64)
        .map(|x| {
            let (batcher, barrier, tried) = (
                Arc::clone(&s.batcher),
                Arc::clone(&barrier),
                Arc::clone(&tried),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                let answer = batcher.submit(2 * x, far());
                tokio::pin!(answer);
                // The first poll queues the item or refuses it; only then count the try.
                tokio::select! {
                    biased;
                    refused = &mut answer => {
                        tried.fetch_add(1, Ordering::SeqCst);
                        refused
                    }
                    () = std::future::ready(()) => {
                        tried.fetch_add(1, Ordering::SeqCst);
                        answer.await
                    }
                }
            })
        })
        .collect();
    while tried.load(Ordering::SeqCst) < SENDERS {
        tokio::task::yield_now().await;
    }
    let depth = s.metrics.queue_depth.with_label_values(&["test", "m"]);
    assert_eq!(depth.get(), 5);
    s.open.send(()).unwrap();
    s.open.send(()).unwrap();
    assert_eq!(outputs(vec![blocker]).await, vec![4]);
    let (mut answered, mut refused) = (0, 0);
    for sender in senders {
        match sender.await.unwrap() {
            Ok(_) => answered += 1,
            Err(ScheduleError::QueueFull { limit: 5 }) => refused += 1,
            Err(other) => panic!("neither answered nor refused: {other:?}"),
        }
    }
    assert_eq!((answered, refused), (5, SENDERS - 5));
}

/// Runs until its batch is abandoned (or a minute passes): a runner that can stop part-way.
struct Stoppable {
    started: tokio_mpsc::UnboundedSender<()>,
    runs: Arc<AtomicUsize>,
}

impl BatchRunner for Stoppable {
    type Input = u64;
    type Output = u64;
    type Error = String;

    fn run(&mut self, _inputs: &[u64]) -> Result<Vec<u64>, String> {
        unreachable!("a runner that stops part-way is run through run_abandonable")
    }

    fn stops_part_way(&self) -> bool {
        true
    }

    fn run_abandonable(&mut self, inputs: &[u64], abandon: &Abandon) -> Result<Vec<u64>, String> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopper = Arc::clone(&stop);
        abandon.on_abandon(move || stopper.store(true, Ordering::SeqCst));
        let _ = self.started.send(());
        let bound = Instant::now() + Duration::from_secs(60);
        while Instant::now() < bound {
            if stop.load(Ordering::SeqCst) {
                return Err("terminated".into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(inputs.to_vec())
    }
}

#[tokio::test]
async fn a_running_batch_nobody_waits_for_is_abandoned_not_split() {
    let metrics = Metrics::new().unwrap();
    let (started_tx, mut started) = tokio_mpsc::unbounded_channel();
    let runs = Arc::new(AtomicUsize::new(0));
    let runner = Stoppable {
        started: started_tx,
        runs: Arc::clone(&runs),
    };
    let settings = BatcherSettings {
        limits: BatchLimits {
            max_size: 8,
            max_cost: None,
            cost_rule: CostRule::Sum,
        },
        max_delay: Duration::ZERO,
        max_queued: 64,
    };
    let batcher = Arc::new(
        Batcher::spawn(
            "test",
            runner,
            settings,
            ModuleMetrics::new(&metrics, "test", "m"),
        )
        .unwrap(),
    );
    let dropped = |reason| {
        metrics
            .dropped_items_total
            .with_label_values(&["test", reason, "m"])
            .get()
    };

    // Both callers of a running batch leave: the run stops, each item counts as cancelled.
    let (first, second) = {
        let (a, b) = (Arc::clone(&batcher), Arc::clone(&batcher));
        (
            tokio::spawn(async move { a.submit(1, far()).await }),
            tokio::spawn(async move { b.submit(3, far()).await }),
        )
    };
    started.recv().await.unwrap();
    first.abort();
    second.abort();
    // Awaiting an aborted task drops its future, and with it the item's reply channel.
    assert!(first.await.unwrap_err().is_cancelled());
    assert!(second.await.unwrap_err().is_cancelled());
    let bound = Instant::now() + Duration::from_secs(60);
    while dropped("cancelled") < 2 {
        assert!(Instant::now() < bound, "never saw: two cancelled items");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    // A running item whose deadline passes: answered so once its run stops.
    let deadline = Instant::now() + Duration::from_secs(2);
    let expiring = {
        let batcher = Arc::clone(&batcher);
        tokio::spawn(async move { batcher.submit(5, deadline).await })
    };
    started.recv().await.unwrap();
    assert!(matches!(
        expiring.await.unwrap(),
        Err(ScheduleError::DeadlinePassed)
    ));
    assert_eq!((dropped("cancelled"), dropped("deadline")), (2, 1));
    // Abandoned runs are never run again in parts.
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    let splits = metrics
        .batch_splits_total
        .with_label_values(&["test", "m"])
        .get();
    assert_eq!(splits, 0);
}
