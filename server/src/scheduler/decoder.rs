//! The step-level decoder batcher (continuous batching). One thread owns a `DecodeBatch`: between
//! two decoder steps, requests whose beam search ended leave, requests whose caller left or whose
//! deadline passed are removed, and waiting requests join (their cross K/V computed together, once
//! per request; the vision part's taken from the cross K/V cache when the same embeddings were
//! projected before). Every active request's beams take part in every step; a step that fails
//! fails only the request it failed for (`decoder_step.rs`).

use std::{
    collections::{HashMap, VecDeque},
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, mpsc},
    time::{Duration, Instant},
};

use mplug2_model::{
    ModelError,
    decode::{CrossKv, DecodeBatch, DecodeParams},
    modules::{Decoder, Embeddings},
    tasks::Memory,
};
use tokio::sync::oneshot;

use super::{
    arrivals::Arrivals,
    batcher::ItemTiming,
    decoder_step::{SharedError, internal, model_internal, step_isolated},
    handle::{BatcherHandle, ScheduleError},
    module_metrics::ModuleMetrics,
    pending::{Pending, drop_dead},
};
use crate::{cache::CrossKvCache, memory_trim::Busy};

/// Where the stable token prefix of a request's decoding goes as it grows (streaming).
pub type Progress = tokio::sync::mpsc::UnboundedSender<Vec<i64>>;

type Reply = Result<(Vec<Vec<i64>>, ItemTiming), ScheduleError<SharedError>>;

/// Limits of the decoder batch: requests per step and, optionally, beams per step.
#[derive(Debug, Clone, Copy)]
pub struct DecoderSettings {
    pub max_requests: usize,
    pub max_beams: Option<u64>,
    /// While the decoder is idle and more requests are expected, how long the first one waits
    /// for company before step 0.
    pub max_delay: Duration,
    /// Most requests waiting to join the steps; more are refused at once.
    pub max_queued: usize,
}

pub struct DecoderJob {
    memory: Memory,
    params: DecodeParams,
    deadline: Instant,
    enqueued: Instant,
    reply: oneshot::Sender<Reply>,
    progress: Option<Progress>,
}

impl Pending for DecoderJob {
    fn deadline(&self) -> Instant {
        self.deadline
    }

    fn is_cancelled(&self) -> bool {
        self.reply.is_closed()
    }

    fn expire(self) {
        let _ = self.reply.send(Err(ScheduleError::DeadlinePassed));
    }
}

/// A request taking part in the steps.
struct Member {
    deadline: Instant,
    queued: Duration,
    compute: Duration,
    reply: oneshot::Sender<Reply>,
    /// Where its stable prefix goes as it grows (a streamed request), and how long it was.
    progress: Option<(Progress, usize)>,
}

pub type DecoderBatcher = BatcherHandle<DecoderJob>;

impl DecoderBatcher {
    pub fn spawn(
        decoder: Arc<Decoder>,
        settings: DecoderSettings,
        cross_cache: CrossKvCache,
        metrics: ModuleMetrics,
    ) -> std::io::Result<DecoderBatcher> {
        let queue_depth = metrics.queue_depth.clone();
        let max_queued = settings.max_queued;
        BatcherHandle::start(
            "decoder",
            queue_depth,
            max_queued,
            move |receiver, arrivals| {
                let worker = Worker {
                    decoder,
                    settings,
                    receiver,
                    waiting: VecDeque::new(),
                    batch: DecodeBatch::new(),
                    members: HashMap::new(),
                    next_id: 0,
                    cross_cache,
                    arrivals,
                    metrics,
                };
                worker.serve()
            },
        )
    }

    /// Decodes one memory to the end: the results' tokens (best first), leading BOS included.
    /// With `progress`, each step that lengthens the stable prefix sends it there.
    pub async fn decode(
        &self,
        memory: Memory,
        params: DecodeParams,
        deadline: Instant,
        progress: Option<Progress>,
    ) -> Reply {
        let (reply, answer) = oneshot::channel();
        self.send(DecoderJob {
            memory,
            params,
            deadline,
            enqueued: Instant::now(),
            reply,
            progress,
        })?;
        answer.await.unwrap_or(Err(ScheduleError::Stopped))
    }
}

struct Worker {
    decoder: Arc<Decoder>,
    settings: DecoderSettings,
    receiver: mpsc::Receiver<DecoderJob>,
    waiting: VecDeque<DecoderJob>,
    batch: DecodeBatch,
    members: HashMap<u64, Member>,
    next_id: u64,
    cross_cache: CrossKvCache,
    arrivals: Arrivals,
    metrics: ModuleMetrics,
}

impl Worker {
    fn serve(mut self) {
        let mut busy: Option<Busy> = None;
        loop {
            if self.batch.is_empty() && self.waiting.is_empty() {
                // Idle until the next request: the last batcher to get here lets memory be trimmed.
                drop(busy.take());
                match self.receiver.recv() {
                    Ok(job) => self.waiting.push_back(job),
                    Err(mpsc::RecvError) => return,
                }
                busy = Some(Busy::begin());
                self.wait_for_company();
            }
            while let Ok(job) = self.receiver.try_recv() {
                self.waiting.push_back(job);
            }
            let now = Instant::now();
            drop_dead(&mut self.waiting, now, &self.metrics);
            self.drop_dead_members(now);
            self.admit();
            if !self.batch.is_empty() {
                self.step();
            }
        }
    }

    /// An idle decoder with more requests about to arrive lets the first one wait, at most the
    /// batch delay, so that they start at step 0 together.
    fn wait_for_company(&mut self) {
        let Some(first) = self.waiting.front() else {
            return;
        };
        let close_at = first.enqueued + self.settings.max_delay;
        while self.arrivals.expected() > 0 && self.waiting.len() < self.settings.max_requests {
            let now = Instant::now();
            if now >= close_at {
                return;
            }
            match self.receiver.recv_timeout(close_at - now) {
                Ok(job) => self.waiting.push_back(job),
                Err(_) => return,
            }
        }
    }

    fn drop_dead_members(&mut self, now: Instant) {
        let dead: Vec<u64> = self
            .members
            .iter()
            .filter(|(_, member)| member.reply.is_closed() || member.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            self.batch.remove(id);
            if let Some(member) = self.members.remove(&id) {
                if member.deadline <= now {
                    self.metrics.dropped_expired();
                    let _ = member.reply.send(Err(ScheduleError::DeadlinePassed));
                } else {
                    self.metrics.dropped_cancelled();
                }
            }
        }
    }

    /// Moves waiting requests into the batch while it has room, computing their cross K/V in
    /// one call.
    fn admit(&mut self) {
        let mut beams = self.active_beams();
        let mut joining = Vec::new();
        while let Some(job) = self.waiting.front() {
            let room = self.batch.len() + joining.len() < self.settings.max_requests;
            let fits = self.settings.max_beams.is_none_or(|max| {
                beams + job.params.rows() as u64 <= max
                    || self.batch.is_empty() && joining.is_empty()
            });
            if !room || !fits {
                break;
            }
            beams += job.params.rows() as u64;
            joining.extend(self.waiting.pop_front());
        }
        if joining.is_empty() {
            return;
        }
        let started = Instant::now();
        self.metrics.queue_depth.release(joining.len());
        let crosses = catch_unwind(AssertUnwindSafe(|| self.cross_kv(&joining)));
        let took = started.elapsed();
        self.metrics.projected(took);
        let crosses = match crosses {
            Ok(Ok(crosses)) if crosses.len() == joining.len() => crosses,
            outcome => {
                let error = match outcome {
                    Ok(Err(error)) => Arc::new(error),
                    _ => internal("the decoder's cross K/V failed"),
                };
                for job in joining {
                    let _ = job
                        .reply
                        .send(Err(ScheduleError::Failed(Arc::clone(&error))));
                }
                return;
            }
        };
        for (job, cross) in joining.into_iter().zip(crosses) {
            let id = self.next_id;
            self.next_id += 1;
            let queued = started - job.enqueued;
            self.metrics.queued(queued);
            self.batch.add(id, self.decoder.start(cross, job.params));
            self.members.insert(
                id,
                Member {
                    deadline: job.deadline,
                    queued,
                    compute: took,
                    reply: job.reply,
                    progress: job.progress.map(|progress| (progress, 0)),
                },
            );
        }
        // The joining requests' memories are gone now; so are entries only they kept alive.
        self.cross_cache.forget_dead();
    }

    /// Each joining request's cross K/V: the vision part from the cache or projected (once per
    /// distinct embeddings, in one call), the question part (VQA) projected in one call, joined.
    fn cross_kv(&mut self, jobs: &[DecoderJob]) -> Result<Vec<Arc<CrossKv>>, ModelError> {
        let mut vision: Vec<Option<Arc<CrossKv>>> = jobs
            .iter()
            .map(|job| self.cross_cache.get(&job.memory.vision))
            .collect();
        let mut missing: Vec<&Arc<Embeddings>> = Vec::new();
        for (job, found) in jobs.iter().zip(&vision) {
            let embeddings = &job.memory.vision;
            if found.is_none() && !missing.iter().any(|m| Arc::ptr_eq(m, embeddings)) {
                missing.push(embeddings);
            }
        }
        let views: Vec<_> = missing.iter().map(|m| m.view()).collect();
        let projected = self.decoder.cross_kv(&views)?;
        for (embeddings, cross) in missing.iter().zip(projected) {
            self.cross_cache.insert(embeddings, Arc::clone(&cross));
            for (job, slot) in jobs.iter().zip(vision.iter_mut()) {
                if slot.is_none() && Arc::ptr_eq(&job.memory.vision, embeddings) {
                    *slot = Some(Arc::clone(&cross));
                }
            }
        }
        let questions: Vec<_> = jobs
            .iter()
            .filter_map(|job| job.memory.question.as_ref().map(|q| q.view()))
            .collect();
        let mut questions = self.decoder.cross_kv(&questions)?.into_iter();
        jobs.iter()
            .zip(vision)
            .map(|(job, vision)| {
                let vision =
                    vision.ok_or_else(|| model_internal("a vision cross K/V is missing"))?;
                if job.memory.question.is_none() {
                    return Ok(vision);
                }
                let question = questions
                    .next()
                    .ok_or_else(|| model_internal("a question cross K/V is missing"))?;
                vision
                    .concat(&question)
                    .map(Arc::new)
                    .ok_or_else(|| model_internal("vision and question cross K/V differ in shape"))
            })
            .collect()
    }

    fn active_beams(&self) -> u64 {
        self.batch
            .ids()
            .filter_map(|id| self.batch.get(id))
            .map(|s| s.rows() as u64)
            .sum()
    }

    /// One step for every member; a failure fails only the requests it belongs to
    /// (`decoder_step.rs`), the others go on.
    fn step(&mut self) {
        let started = Instant::now();
        let failed = step_isolated(&self.decoder, &mut self.batch, &self.metrics);
        let took = started.elapsed();
        for member in self.members.values_mut() {
            member.compute += took;
        }
        for (id, error) in failed {
            self.batch.remove(id);
            if let Some(member) = self.members.remove(&id) {
                let _ = member.reply.send(Err(ScheduleError::Failed(error)));
            }
        }
        self.report_progress();
        for (id, tokens) in self.batch.take_finished() {
            if let Some(member) = self.members.remove(&id) {
                let timing = ItemTiming {
                    queued: member.queued,
                    compute: member.compute,
                };
                let _ = member.reply.send(Ok((tokens, timing)));
            }
        }
    }
}

impl Worker {
    /// Sends each streamed member's stable prefix when a step lengthened it.
    fn report_progress(&mut self) {
        for (id, member) in &mut self.members {
            let Some((progress, sent)) = &mut member.progress else {
                continue;
            };
            let Some(sequence) = self.batch.get(*id) else {
                continue;
            };
            let stable = sequence.stable_prefix();
            if stable.len() > *sent {
                *sent = stable.len();
                // A receiver gone means the request is going too: the next sweep drops it.
                let _ = progress.send(stable.to_vec());
            }
        }
    }
}
