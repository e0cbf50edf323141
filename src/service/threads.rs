//! The service's own engine threads ([`super::EngineCalls::Threads`]): long-lived threads that
//! take engine calls from one queue and run them to the end.
//!
//! Why not the runtime's threads or tokio's blocking pool: engine work on the runtime threads
//! interleaves with the decoding and encoding of every other request, and on two cores the
//! engine's tables (document frequencies, index) then move between both cores' caches; the
//! blocking pool wakes a parked thread per call. A few dedicated threads keep the engine's
//! working set where it runs and, while calls are queued, take the next one without sleeping.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::engine::Engine;

/// One engine call, with its own way of answering.
pub(super) type Job = Box<dyn FnOnce(&Engine) + Send>;

/// Handle to the engine threads; they end when it is dropped (after the calls queued before).
#[derive(Debug)]
pub(super) struct EngineThreads {
    jobs: crossbeam_channel::Sender<Job>,
    threads: usize,
}

impl EngineThreads {
    /// Start `threads` threads over `engine`; `None` when not one could be started.
    pub(super) fn start(engine: &Engine, threads: usize) -> Option<Self> {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        let mut started = 0;
        for n in 0..threads {
            let queue = queue.clone();
            let engine = engine.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("neardup-engine-{n}"))
                .spawn(move || {
                    while let Ok(job) = queue.recv() {
                        // A call that panics answers nothing (its caller sees the answer
                        // channel closed); the thread goes on with the next one.
                        if catch_unwind(AssertUnwindSafe(|| job(&engine))).is_err() {
                            tracing::error!("an engine call panicked");
                        }
                    }
                });
            match spawned {
                Ok(_) => started += 1,
                Err(err) => tracing::warn!(error = %err, "could not start an engine thread"),
            }
        }
        (started > 0).then_some(EngineThreads {
            jobs,
            threads: started,
        })
    }

    /// Queue a call; false when no thread is left to run it.
    pub(super) fn submit(&self, job: Job) -> bool {
        self.jobs.send(job).is_ok()
    }

    /// Threads started.
    pub(super) fn threads(&self) -> usize {
        self.threads
    }
}
