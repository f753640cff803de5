//! The commit pipeline: one thread applies commits in arrival order, another makes them durable.
//!
//! Callers prepare their commit (encoding records and events, on their own thread) and hand it
//! to the *applier*, which applies the commits waiting for it, in arrival order, as one sled
//! batch (each checked against the state those before it leave; sled seals and writes its log
//! buffer twice for every batch, so one batch per commit cost more than the commits). Under
//! [`Durability::Flush`] the applier hands what it applied to the *flusher* whenever no other
//! commit waits to be applied; the flusher flushes sled once for everything handed to it while
//! its previous flush ran (group commit) and then answers all of it. The applier keeps applying
//! meanwhile, so applying and flushing overlap. Under [`Durability::Periodic`] the applier
//! answers as soon as the commit is applied.
//!
//! Two dedicated threads replace a commit lock contended by every writer and a blocking-pool
//! hop per commit: measured with 16 writers, most of the CPU time of the old path went to
//! waking and switching threads rather than to sled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tasklane_core::store::{CommitReceipt, StoreError, StoreResult};
use tokio::sync::oneshot;

use crate::store::{Inner, Prepared};
use crate::Durability;

/// The answer to one commit.
type Reply = oneshot::Sender<StoreResult<CommitReceipt>>;

/// A commit waiting to be applied.
struct Job {
    prepared: Prepared,
    reply: Reply,
}

/// An applied commit waiting for its flush.
struct Applied {
    receipt: CommitReceipt,
    /// The last seq applied when this commit was: visible once the flush covers it.
    through_seq: u64,
    reply: Reply,
}

/// The two threads and the way to them. Dropping it (with the last handle of the store) lets
/// the threads finish the commits they hold and waits for them.
pub(crate) struct CommitPipeline {
    jobs: Mutex<Option<Sender<Job>>>,
    threads: Vec<JoinHandle<()>>,
}

impl CommitPipeline {
    /// Starts the threads for `inner`.
    pub(crate) fn start(inner: Arc<Inner>) -> std::io::Result<CommitPipeline> {
        let (jobs, job_queue) = mpsc::channel::<Job>();
        let mut threads = Vec::with_capacity(2);
        let flushing = Arc::new(AtomicBool::new(false));
        let flushes = match inner.durability() {
            Durability::Flush => {
                let (applied, applied_queue) = mpsc::channel::<Vec<Applied>>();
                let flusher = Arc::clone(&inner);
                let flushing = Arc::clone(&flushing);
                threads.push(
                    std::thread::Builder::new()
                        .name("tasklane-sled-flush".into())
                        .spawn(move || flush_loop(&flusher, applied_queue, &flushing))?,
                );
                Some(applied)
            }
            Durability::Periodic { .. } => None,
        };
        threads.push(
            std::thread::Builder::new()
                .name("tasklane-sled-apply".into())
                .spawn(move || apply_loop(&inner, job_queue, flushes, &flushing))?,
        );
        Ok(CommitPipeline {
            jobs: Mutex::new(Some(jobs)),
            threads,
        })
    }

    /// Applies `prepared` and waits until it is as durable as configured. A commit handed over
    /// completes even when the caller stops waiting.
    pub(crate) async fn commit(&self, prepared: Prepared) -> StoreResult<CommitReceipt> {
        let (reply, answer) = oneshot::channel();
        let sent = match &*self.jobs.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(jobs) => jobs.send(Job { prepared, reply }).is_ok(),
            None => false,
        };
        if !sent {
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

impl Drop for CommitPipeline {
    fn drop(&mut self) {
        // Closing the queue ends the applier once it is empty, which closes the flusher's.
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        for thread in self.threads.drain(..) {
            // A thread that panicked has answered nothing more; its callers saw `stopped`.
            let _ = thread.join();
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the store's commit thread has stopped".to_owned())
}

/// The most applied commits handed to the flusher at once.
const MAX_GROUP: usize = 256;

/// The most commits applied as one batch.
const MAX_BATCH: usize = 64;

/// While a flush runs, the applier waits this long at a time for more commits to join its batch.
const GATHER_STEP: Duration = Duration::from_micros(50);

fn apply_loop(
    inner: &Inner,
    jobs: Receiver<Job>,
    flushes: Option<Sender<Vec<Applied>>>,
    flushing: &AtomicBool,
) {
    let mut group: Vec<Applied> = Vec::new();
    loop {
        // Hand the applied commits to the flusher when no other commit is waiting to be applied:
        // one flush then covers every commit in flight.
        let first = match jobs.try_recv() {
            Ok(job) => job,
            Err(mpsc::TryRecvError::Empty) => {
                if let Some(flushes) = &flushes {
                    hand_over(flushes, &mut group);
                }
                match jobs.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            }
            Err(mpsc::TryRecvError::Disconnected) => break,
        };
        // Every commit already waiting joins this batch, and while a flush runs (so that these
        // commits wait for the next one anyway) those arriving meanwhile.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(mpsc::TryRecvError::Empty) if flushing.load(Ordering::SeqCst) => {
                    match jobs.recv_timeout(GATHER_STEP) {
                        Ok(job) => batch.push(job),
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                }
                Err(_) => break,
            }
        }
        let prepared: Vec<&Prepared> = batch.iter().map(|job| &job.prepared).collect();
        let results = inner.apply_commits(&prepared);
        for (job, result) in batch.into_iter().zip(results) {
            match (result, &flushes) {
                (Ok((receipt, through_seq)), Some(flushes)) => {
                    group.push(Applied {
                        receipt,
                        through_seq,
                        reply: job.reply,
                    });
                    if group.len() >= MAX_GROUP {
                        hand_over(flushes, &mut group);
                    }
                }
                (Ok((receipt, _)), None) => {
                    let _ = job.reply.send(Ok(receipt));
                }
                (Err(e), _) => {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
    }
    if let Some(flushes) = &flushes {
        hand_over(flushes, &mut group);
    }
}

fn hand_over(flushes: &Sender<Vec<Applied>>, group: &mut Vec<Applied>) {
    if group.is_empty() {
        return;
    }
    if let Err(mpsc::SendError(group)) = flushes.send(std::mem::take(group)) {
        for applied in group {
            let _ = applied.reply.send(Err(StoreError::Unavailable(
                "the commit was applied but the flush thread has stopped (its durability is unknown)"
                    .to_owned(),
            )));
        }
    }
}

fn flush_loop(inner: &Inner, applied: Receiver<Vec<Applied>>, flushing: &AtomicBool) {
    while let Ok(mut group) = applied.recv() {
        // Everything queued was applied before this flush starts, so the flush covers it.
        for more in applied.try_iter() {
            group.extend(more);
        }
        flushing.store(true, Ordering::SeqCst);
        let flushed = inner.flush_applied();
        flushing.store(false, Ordering::SeqCst);
        match flushed {
            Ok(_) => {
                let through = group.iter().map(|a| a.through_seq).max().unwrap_or(0);
                inner.make_visible(through);
                for a in group {
                    let _ = a.reply.send(Ok(a.receipt));
                }
            }
            Err(e) => {
                for a in group {
                    let _ = a.reply.send(Err(StoreError::Unavailable(format!(
                        "the commit was applied but flushing it failed (its durability is unknown): {e}"
                    ))));
                }
            }
        }
    }
}
