//! A dynamic batcher for one module: a dedicated OS thread that owns the module's queue and runs
//! its ONNX Runtime session, so ORT never blocks the async runtime. Callers send an item with a
//! oneshot and await the reply. A batch closes when it reaches the size limit or the cost budget,
//! at once when nothing more is expected for the module (work-conserving), or else after the
//! batch delay. Items whose caller is gone or whose deadline passed are dropped before a batch
//! forms. The queue is bounded: a full one refuses new items at once. A failed (or panicking)
//! batch of several items is run again split in halves, so that one bad item fails alone. A
//! runner that can stop part-way has its running batch abandoned once every caller of it is gone
//! or past its deadline (`abandon`).

use std::{
    collections::VecDeque,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::mpsc,
    time::{Duration, Instant},
};

use tokio::sync::oneshot;

use crate::memory_trim::Busy;

use super::{
    abandon::{Abandon, watched},
    arrivals::Arrivals,
    handle::{BatcherHandle, ScheduleError},
    module_metrics::ModuleMetrics,
    pending::{Pending, drop_dead},
    plan::{BatchLimits, ItemShape},
};

/// One module's batched computation, run on the batcher's thread.
pub trait BatchRunner: Send + 'static {
    type Input: Send + 'static;
    type Output: Send + 'static;
    type Error: Clone + Send + From<BatchFailure> + 'static;

    /// Items share a batch only within one group (vision: the frame count).
    fn group(&self, _input: &Self::Input) -> u64 {
        0
    }

    /// The item's cost in the module's budget unit.
    fn cost(&self, _input: &Self::Input) -> u64 {
        1
    }

    /// Runs one batch; one output per input, in order. The inputs are lent, not given, so that a
    /// failed batch can be run again in parts.
    fn run(&mut self, inputs: &[Self::Input]) -> Result<Vec<Self::Output>, Self::Error>;

    /// Whether `run_abandonable` can stop a run part-way: the batcher then watches the callers
    /// of each running batch.
    fn stops_part_way(&self) -> bool {
        false
    }

    /// `run`, stopping early (with an error) once `abandon` fires.
    fn run_abandonable(
        &mut self,
        inputs: &[Self::Input],
        _abandon: &Abandon,
    ) -> Result<Vec<Self::Output>, Self::Error> {
        self.run(inputs)
    }
}

/// A batch the batcher itself gave up on: `run` panicked or answered a wrong count.
#[derive(Debug, Clone)]
pub struct BatchFailure(pub String);

/// How long one item waited in the queue and how long its batch ran.
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemTiming {
    pub queued: Duration,
    pub compute: Duration,
}

type Reply<R> =
    Result<(<R as BatchRunner>::Output, ItemTiming), ScheduleError<<R as BatchRunner>::Error>>;

pub struct Job<R: BatchRunner> {
    input: R::Input,
    deadline: Instant,
    enqueued: Instant,
    reply: oneshot::Sender<Reply<R>>,
}

struct Queued<R: BatchRunner> {
    job: Job<R>,
    shape: ItemShape,
}

impl<R: BatchRunner> Pending for Queued<R> {
    fn deadline(&self) -> Instant {
        self.job.deadline
    }

    fn is_cancelled(&self) -> bool {
        self.job.reply.is_closed()
    }

    fn expire(self) {
        let _ = self.job.reply.send(Err(ScheduleError::DeadlinePassed));
    }
}

/// The handle callers use.
pub type Batcher<R> = BatcherHandle<Job<R>>;

/// How one batcher batches.
#[derive(Debug, Clone, Copy)]
pub struct BatcherSettings {
    pub limits: BatchLimits,
    pub max_delay: Duration,
    /// Most items waiting in the queue; more are refused at once.
    pub max_queued: usize,
}

impl<R: BatchRunner> Batcher<R> {
    /// Starts the module's thread. It ends when the last handle is dropped.
    pub fn spawn(
        name: &'static str,
        runner: R,
        settings: BatcherSettings,
        metrics: ModuleMetrics,
    ) -> std::io::Result<Batcher<R>> {
        let queue_depth = metrics.queue_depth.clone();
        BatcherHandle::start(
            name,
            queue_depth,
            settings.max_queued,
            move |receiver, arrivals| {
                let worker = Worker {
                    runner,
                    receiver,
                    queue: VecDeque::new(),
                    settings,
                    arrivals,
                    metrics,
                };
                worker.serve()
            },
        )
    }

    /// Queues one item and waits for its output. Dropping the future withdraws the item if its
    /// batch has not started. A full queue refuses the item at once.
    pub async fn submit(&self, input: R::Input, deadline: Instant) -> Reply<R> {
        let (reply, answer) = oneshot::channel();
        self.send(Job {
            input,
            deadline,
            enqueued: Instant::now(),
            reply,
        })?;
        answer.await.unwrap_or(Err(ScheduleError::Stopped))
    }
}

struct Worker<R: BatchRunner> {
    runner: R,
    receiver: mpsc::Receiver<Job<R>>,
    queue: VecDeque<Queued<R>>,
    settings: BatcherSettings,
    arrivals: Arrivals,
    metrics: ModuleMetrics,
}

impl<R: BatchRunner> Worker<R> {
    fn serve(mut self) {
        let mut busy: Option<Busy> = None;
        loop {
            if self.queue.is_empty() {
                // Idle until the next item: the last batcher to get here lets memory be trimmed.
                drop(busy.take());
                match self.receiver.recv() {
                    Ok(job) => self.push(job),
                    Err(mpsc::RecvError) => return,
                }
                busy = Some(Busy::begin());
            }
            while let Ok(job) = self.receiver.try_recv() {
                self.push(job);
            }
            drop_dead(&mut self.queue, Instant::now(), &self.metrics);
            let plan = self
                .settings
                .limits
                .plan(self.queue.iter().map(|q| q.shape));
            if plan.indices.is_empty() {
                continue;
            }
            if !plan.full && self.arrivals.expected() > 0 {
                let oldest = self
                    .queue
                    .front()
                    .map_or_else(Instant::now, |q| q.job.enqueued);
                let close_at = oldest + self.settings.max_delay;
                let now = Instant::now();
                if close_at > now {
                    // More is coming: wait for it, but never past the batch delay.
                    if let Ok(job) = self.receiver.recv_timeout(close_at - now) {
                        self.push(job);
                        continue;
                    }
                }
            }
            let batch = take(&mut self.queue, &plan.indices);
            self.run(batch);
        }
    }

    fn push(&mut self, job: Job<R>) {
        let shape = ItemShape {
            group: self.runner.group(&job.input),
            cost: self.runner.cost(&job.input),
        };
        self.queue.push_back(Queued { job, shape });
    }

    fn run(&mut self, batch: Vec<Job<R>>) {
        let started = Instant::now();
        self.metrics.queue_depth.release(batch.len());
        let mut inputs = Vec::with_capacity(batch.len());
        let mut waiting = Vec::with_capacity(batch.len());
        for job in batch {
            self.metrics.queued(started - job.enqueued);
            inputs.push(job.input);
            waiting.push(Waiting {
                reply: Some(job.reply),
                deadline: job.deadline,
                queued: started - job.enqueued,
                compute: Duration::ZERO,
            });
        }
        self.run_part(&inputs, &mut waiting);
    }

    /// Runs a batch (or part of one) and answers its items; a failure of several items is run
    /// again as two halves, each answered on its own, until a failing part is one item.
    fn run_part(&mut self, inputs: &[R::Input], waiting: &mut [Waiting<R>]) {
        let started = Instant::now();
        let (outcome, abandoned) = self.execute(inputs, waiting);
        let took = started.elapsed();
        for item in waiting.iter_mut() {
            item.compute += took;
        }
        match outcome {
            // Stopped because nobody waits for it: each item is dropped, never run again.
            Err(_) if abandoned => {
                let now = Instant::now();
                for item in waiting.iter_mut() {
                    item.drop_abandoned(now, &self.metrics);
                }
            }
            Ok(outputs) => {
                for (item, output) in waiting.iter_mut().zip(outputs) {
                    item.answer(Ok(output));
                }
            }
            Err(_) if inputs.len() > 1 => {
                tracing::warn!(
                    items = inputs.len(),
                    "a batch failed; running it again in halves to isolate the bad item"
                );
                self.metrics.split();
                let half = inputs.len() / 2;
                let (first, second) = waiting.split_at_mut(half);
                self.run_part(&inputs[..half], first);
                self.run_part(&inputs[half..], second);
            }
            Err(error) => {
                for item in waiting.iter_mut() {
                    item.answer(Err(error.clone()));
                }
            }
        }
    }

    /// One run of the module, with its panics and miscounts turned into errors, and whether it
    /// was abandoned.
    fn execute(
        &mut self,
        inputs: &[R::Input],
        waiting: &[Waiting<R>],
    ) -> (Result<Vec<R::Output>, R::Error>, bool) {
        let count = inputs.len();
        let started = Instant::now();
        let abandon = Abandon::default();
        let runner = &mut self.runner;
        let result = if runner.stops_part_way() {
            let all_gone = || {
                let now = Instant::now();
                waiting.iter().all(|item| item.is_gone(now))
            };
            watched(&abandon, all_gone, || {
                catch_unwind(AssertUnwindSafe(|| {
                    runner.run_abandonable(inputs, &abandon)
                }))
            })
        } else {
            catch_unwind(AssertUnwindSafe(|| runner.run(inputs)))
        };
        self.metrics.executed(count, started.elapsed());
        (Self::checked(result, count), abandon.is_abandoned())
    }

    fn checked(
        result: std::thread::Result<Result<Vec<R::Output>, R::Error>>,
        count: usize,
    ) -> Result<Vec<R::Output>, R::Error> {
        match result {
            Ok(Ok(outputs)) if outputs.len() == count => Ok(outputs),
            Ok(Ok(outputs)) => Err(R::Error::from(BatchFailure(format!(
                "the module answered {} outputs for {count} inputs",
                outputs.len()
            )))),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(R::Error::from(BatchFailure("the module panicked".into()))),
        }
    }
}

/// An item of a running batch, until it is answered.
struct Waiting<R: BatchRunner> {
    reply: Option<oneshot::Sender<Reply<R>>>,
    deadline: Instant,
    queued: Duration,
    compute: Duration,
}

impl<R: BatchRunner> Waiting<R> {
    /// Nobody waits for its answer any more: its caller left or its deadline passed.
    fn is_gone(&self, now: Instant) -> bool {
        now >= self.deadline || self.reply.as_ref().is_none_or(|reply| reply.is_closed())
    }

    /// Answers an item of an abandoned batch as `drop_dead` answers a queued one.
    fn drop_abandoned(&mut self, now: Instant, metrics: &ModuleMetrics) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        if now >= self.deadline {
            metrics.dropped_expired();
            let _ = reply.send(Err(ScheduleError::DeadlinePassed));
        } else {
            metrics.dropped_cancelled();
        }
    }

    fn answer(&mut self, outcome: Result<R::Output, R::Error>) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        let timing = ItemTiming {
            queued: self.queued,
            compute: self.compute,
        };
        let _ = reply.send(
            outcome
                .map(|output| (output, timing))
                .map_err(ScheduleError::Failed),
        );
    }
}

/// Removes the planned items (ascending indices) from the queue, in order.
fn take<R: BatchRunner>(queue: &mut VecDeque<Queued<R>>, indices: &[usize]) -> Vec<Job<R>> {
    let mut batch = Vec::with_capacity(indices.len());
    for (removed, &index) in indices.iter().enumerate() {
        if let Some(queued) = queue.remove(index - removed) {
            batch.push(queued.job);
        }
    }
    batch
}
