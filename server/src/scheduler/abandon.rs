//! A running batch whose every caller is gone or past its deadline is abandoned: a runner that
//! can stop part-way (ONNX Runtime checks a terminate flag between graph nodes) registers how,
//! and the batcher's watch calls it. A batch with one caller still waiting runs to its end: one
//! run holds all its items, so no item can leave it alone.

use std::{
    sync::{
        Condvar, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

/// How often a running batch's callers are looked at.
const WATCH_EVERY: Duration = Duration::from_millis(5);

type Hook = Box<dyn Fn() + Send + Sync>;

/// One batch run's abandonment: fired at most once.
#[derive(Default)]
pub struct Abandon {
    fired: AtomicBool,
    hook: Mutex<Option<Hook>>,
}

impl Abandon {
    /// How to stop the run: called once if the batch is abandoned (at once if it already is).
    pub fn on_abandon(&self, hook: impl Fn() + Send + Sync + 'static) {
        let mut slot = self.hook.lock().unwrap_or_else(|p| p.into_inner());
        if self.fired.load(Ordering::SeqCst) {
            hook();
        } else {
            *slot = Some(Box::new(hook));
        }
    }

    pub fn is_abandoned(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    fn fire(&self) {
        let slot = self.hook.lock().unwrap_or_else(|p| p.into_inner());
        self.fired.store(true, Ordering::SeqCst);
        if let Some(hook) = slot.as_ref() {
            hook();
        }
    }
}

/// Runs `run` while a scoped thread looks every `WATCH_EVERY` at whether `all_gone` holds, and
/// if so, abandons the run. The watch ends with the run.
pub fn watched<T>(
    abandon: &Abandon,
    all_gone: impl Fn() -> bool + Sync,
    run: impl FnOnce() -> T,
) -> T {
    let done = (Mutex::new(false), Condvar::new());
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let (lock, wake) = &done;
            let mut finished = lock.lock().unwrap_or_else(|p| p.into_inner());
            while !*finished {
                if all_gone() {
                    abandon.fire();
                    return;
                }
                finished = wake
                    .wait_timeout(finished, WATCH_EVERY)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        });
        // Ends the watch even if `run` panics (the batcher catches the panic outside).
        struct EndWatch<'a>(&'a (Mutex<bool>, Condvar));
        impl Drop for EndWatch<'_> {
            fn drop(&mut self) {
                *self.0.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
                self.0.1.notify_all();
            }
        }
        let _end = EndWatch(&done);
        run()
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, atomic::AtomicUsize};

    use super::*;

    #[test]
    fn a_run_is_abandoned_once_its_callers_are_gone_and_not_before() {
        // Never gone: the run ends by itself, the hook is never called.
        let abandon = Abandon::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        abandon.on_abandon(move || {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(watched(&abandon, || false, || 7), 7);
        assert!(!abandon.is_abandoned());
        assert_eq!(calls.load(Ordering::SeqCst), 0);

        // Gone part-way: the hook stops the run, which would otherwise wait a minute.
        let gone = AtomicBool::new(false);
        let stop = Arc::new(AtomicBool::new(false));
        let abandon = Abandon::default();
        let stopper = Arc::clone(&stop);
        abandon.on_abandon(move || stopper.store(true, Ordering::SeqCst));
        let started = std::time::Instant::now();
        let stopped = watched(
            &abandon,
            || gone.load(Ordering::SeqCst),
            || {
                gone.store(true, Ordering::SeqCst);
                while !stop.load(Ordering::SeqCst) {
                    assert!(
                        started.elapsed() < Duration::from_secs(60),
                        "never abandoned"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                "stopped"
            },
        );
        assert_eq!(stopped, "stopped");
        assert!(abandon.is_abandoned());

        // A hook registered after the abandonment is called at once.
        let late = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&late);
        abandon.on_abandon(move || flag.store(true, Ordering::SeqCst));
        assert!(late.load(Ordering::SeqCst));
    }
}
