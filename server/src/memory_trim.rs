//! Returns the allocator's free memory to the system once every module batcher is idle.
//!
//! glibc keeps freed blocks below the mmap threshold inside its arenas. After a burst of large
//! batches a batcher's arena is mostly free but fragmented, so neither glibc's heap-top trim nor
//! ONNX Runtime's arena shrinkage gives it back (base-random fp32 after the benchmark suite's
//! load points: 2.19 GB resident, 0.45 GB of it free inside one glibc arena). `malloc_trim(0)`
//! releases the free pages of every arena. It runs on its own thread once every batcher has been
//! idle for a quiet period — never while a batch runs, and never in the short gaps between one
//! request's modules or between back-to-back requests, where it would hold the arenas' locks
//! against the request path — once per idle spell.
//!
//! The busy count is process-wide, as the allocator is.

use std::{
    sync::{
        OnceLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

static BUSY: AtomicUsize = AtomicUsize::new(0);
/// Times any batcher started work: a change during the quiet period means it was not quiet.
static STARTS: AtomicU64 = AtomicU64::new(0);
static IDLE: OnceLock<mpsc::SyncSender<()>> = OnceLock::new();

/// Starts the trimming thread, which trims once every batcher has been idle for `quiet` (once
/// per process; later calls do nothing). Without it, or with a zero period, nothing is trimmed.
pub fn start(quiet: Duration) -> std::io::Result<()> {
    if quiet.is_zero() || !supported() || IDLE.get().is_some() {
        return Ok(());
    }
    // One slot: the moments the last batcher goes idle collapse into one look.
    let (sender, receiver) = mpsc::sync_channel(1);
    if IDLE.set(sender).is_err() {
        return Ok(());
    }
    std::thread::Builder::new()
        .name("memory-trim".to_owned())
        .spawn(move || {
            while receiver.recv().is_ok() {
                // A look asked for meanwhile stays in the slot (never drained, so none is lost):
                // at worst it costs one more quiet period and a trim of an already trimmed heap.
                if quiet_for(quiet) {
                    let started = Instant::now();
                    let released = trim();
                    tracing::debug!(released, elapsed = ?started.elapsed(), "idle memory trim");
                }
            }
        })?;
    Ok(())
}

/// Whether every batcher stays idle for `quiet` from now: false as soon as one is busy at the
/// end (its going idle asks again); a spell that was broken and is idle again waits anew.
fn quiet_for(quiet: Duration) -> bool {
    loop {
        let seen = STARTS.load(Ordering::SeqCst);
        std::thread::sleep(quiet);
        if BUSY.load(Ordering::SeqCst) != 0 {
            return false;
        }
        if STARTS.load(Ordering::SeqCst) == seen {
            return true;
        }
    }
}

/// A batcher at work: held from taking an item until its queue is empty again.
#[derive(Debug)]
pub struct Busy(());

impl Busy {
    pub fn begin() -> Busy {
        STARTS.fetch_add(1, Ordering::SeqCst);
        BUSY.fetch_add(1, Ordering::SeqCst);
        Busy(())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if BUSY.fetch_sub(1, Ordering::SeqCst) == 1
            && let Some(idle) = IDLE.get()
        {
            // A full slot already asks for a look.
            let _ = idle.try_send(());
        }
    }
}

fn supported() -> bool {
    cfg!(all(target_os = "linux", target_env = "gnu"))
}

/// Whether memory was returned to the system.
fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes each arena's lock itself; it is safe from any thread.
    return unsafe { libc::malloc_trim(0) } == 1;
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_count_while_held() {
        let first = Busy::begin();
        let second = Busy::begin();
        // Other tests' batchers may be busy alongside: only these two are known.
        assert!(BUSY.load(Ordering::SeqCst) >= 2);
        drop(first);
        drop(second);
    }

    #[test]
    fn a_batcher_busy_through_the_quiet_period_stops_the_trim() {
        // Held across the whole period, whatever other tests' batchers do.
        let busy = Busy::begin();
        assert!(!quiet_for(Duration::from_millis(20)));
        drop(busy);
    }

    /// Resident bytes of this process (`/proc/self/statm`, resident pages).
    fn resident_bytes() -> usize {
        let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
        let pages: usize = statm
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .expect("resident pages");
        pages * 4096
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_trim_returns_the_free_pages_a_fragmented_heap_keeps() {
        // 256 MiB in 4 KiB blocks (below any mmap threshold), then all freed but every 64th: the
        // survivors pin the heap's top, so glibc keeps the free pages until a trim.
        const BLOCK: usize = 4096;
        let blocks: Vec<Vec<u8>> = (0..65_536).map(|i| vec![i as u8 | 1; BLOCK]).collect();
        let kept: Vec<Vec<u8>> = blocks
            .into_iter()
            .enumerate()
            .filter_map(|(i, block)| (i % 64 == 0).then_some(block))
            .collect();
        let before = resident_bytes();
        assert!(trim(), "malloc_trim released nothing");
        let after = resident_bytes();
        assert!(
            before.saturating_sub(after) > 128 << 20,
            "resident {before} -> {after} bytes: the free pages were not returned"
        );
        assert!(
            kept.iter()
                .all(|block| block[0] & 1 == 1 && block.len() == BLOCK)
        );
    }
}
