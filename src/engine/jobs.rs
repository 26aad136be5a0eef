//! Background jobs: engine work that takes seconds to minutes (builds, rebalances)
//! runs on one worker thread, a job at a time in the order submitted, while callers
//! read its progress and result, or cancel it. Finished jobs are kept (the latest
//! [`KEPT_FINISHED`]) so their results can be read; nothing survives a restart.
//!
//! ```
//! use geoalign::engine::jobs::{JobKind, JobState, Jobs};
//! let jobs = Jobs::new(4);
//! let id = jobs
//!     .submit(JobKind::Rebalance, "north", Box::new(|job| {
//!         job.progress("balance", 0.5, 0.1);
//!         Ok(serde_json::json!({"moved": 3}))
//!     }))
//!     .unwrap();
//! let status = jobs.wait(id).unwrap();
//! assert_eq!(status.state, JobState::Succeeded);
//! assert_eq!(status.result.unwrap()["moved"], 3);
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use serde::Serialize;

use super::AlignError;

/// Finished jobs kept for reading.
pub const KEPT_FINISHED: usize = 100;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Builds a new alignment.
    Build,
    /// Proposes a rebalance of an alignment.
    Rebalance,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for the worker.
    Queued,
    /// Running.
    Running,
    /// Finished with a result.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Cancelled before it finished.
    Cancelled,
}

impl JobState {
    /// Whether the job has finished (succeeded, failed or cancelled).
    pub fn finished(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed | JobState::Cancelled)
    }
}

/// A job as callers see it.
#[derive(Debug, Clone, Serialize)]
pub struct JobStatus {
    /// Job id.
    pub id: u64,
    /// What it does.
    pub kind: JobKind,
    /// The alignment it builds or rebalances.
    pub alignment: String,
    /// Where it is.
    pub state: JobState,
    /// The step it is in (`grow`, `balance`, `polish`), once running.
    pub phase: Option<String>,
    /// Fraction done, 0 to 1.
    pub progress: f64,
    /// Largest relative deviation from the balance target so far.
    pub max_deviation: Option<f64>,
    /// When it was submitted, started and finished (RFC 3339, UTC).
    pub submitted_at: String,
    /// When the worker took it.
    pub started_at: Option<String>,
    /// When it finished.
    pub finished_at: Option<String>,
    /// The result, once succeeded.
    pub result: Option<serde_json::Value>,
    /// Why it failed.
    #[serde(skip)]
    pub error: Option<Arc<AlignError>>,
    /// Whether a cancel was asked for (a running job stops at its next step).
    pub cancel_requested: bool,
}

/// The work of a job: runs on the worker, hears whether to go on from [`JobContext`].
pub type Work = Box<dyn FnOnce(&JobContext) -> Result<serde_json::Value, AlignError> + Send>;

/// Why a job was not taken or is not known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// The queue is full.
    #[error("{queued} jobs are waiting already (at most {limit}); try again when one has finished")]
    Busy {
        /// Jobs waiting.
        queued: usize,
        /// The most that may wait.
        limit: usize,
    },
    /// No such job (or it finished long ago and was dropped).
    #[error("job {0} not found")]
    NotFound(u64),
}

/// What a running job is handed: it reports progress and learns of a cancel.
pub struct JobContext {
    id: u64,
    shared: Arc<Shared>,
    cancel: Arc<AtomicBool>,
}

impl JobContext {
    /// Records where the job is; answers whether to go on (`false` once cancelled).
    pub fn progress(&self, phase: &str, done: f64, max_deviation: f64) -> bool {
        let mut table = self.shared.lock();
        if let Some(entry) = table.jobs.get_mut(&self.id) {
            let status = &mut entry.status;
            if status.phase.as_deref() != Some(phase) {
                status.phase = Some(phase.to_owned());
            }
            status.progress = done.clamp(0.0, 1.0);
            if max_deviation.is_finite() {
                status.max_deviation = Some(max_deviation);
            }
        }
        !self.cancelled()
    }

    /// Whether a cancel was asked for.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

struct Entry {
    status: JobStatus,
    cancel: Arc<AtomicBool>,
    work: Option<Work>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    jobs: BTreeMap<u64, Entry>,
    queue: VecDeque<u64>,
    worker: bool,
}

struct Shared {
    table: Mutex<Table>,
    changed: Condvar,
    max_queued: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The job queue and its worker.
#[derive(Clone)]
pub struct Jobs {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jobs({} known)", self.shared.lock().jobs.len())
    }
}

impl Jobs {
    /// A queue taking at most `max_queued` waiting jobs (besides the running one).
    pub fn new(max_queued: usize) -> Jobs {
        Jobs {
            shared: Arc::new(Shared {
                table: Mutex::new(Table::default()),
                changed: Condvar::new(),
                max_queued,
            }),
        }
    }

    /// Queues `work`; its id, or [`JobError::Busy`] when the queue is full.
    pub fn submit(&self, kind: JobKind, alignment: &str, work: Work) -> Result<u64, JobError> {
        let mut table = self.shared.lock();
        if table.queue.len() >= self.shared.max_queued {
            return Err(JobError::Busy {
                queued: table.queue.len(),
                limit: self.shared.max_queued,
            });
        }
        table.next_id += 1;
        let id = table.next_id;
        let status = JobStatus {
            id,
            kind,
            alignment: alignment.to_owned(),
            state: JobState::Queued,
            phase: None,
            progress: 0.0,
            max_deviation: None,
            submitted_at: now_rfc3339(),
            started_at: None,
            finished_at: None,
            result: None,
            error: None,
            cancel_requested: false,
        };
        let cancel = Arc::new(AtomicBool::new(false));
        table.jobs.insert(
            id,
            Entry {
                status,
                cancel,
                work: Some(work),
            },
        );
        table.queue.push_back(id);
        if !table.worker {
            table.worker = true;
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("geoalign-jobs".into())
                .spawn(move || work_loop(&shared));
            if let Err(e) = spawned {
                table.worker = false;
                tracing::error!(error = %e, "could not start the job worker");
            }
        }
        self.shared.changed.notify_all();
        Ok(id)
    }

    /// The status of job `id`.
    pub fn status(&self, id: u64) -> Result<JobStatus, JobError> {
        let table = self.shared.lock();
        table
            .jobs
            .get(&id)
            .map(|e| e.status.clone())
            .ok_or(JobError::NotFound(id))
    }

    /// Every known job, newest first.
    pub fn list(&self) -> Vec<JobStatus> {
        let table = self.shared.lock();
        table.jobs.values().rev().map(|e| e.status.clone()).collect()
    }

    /// Cancels job `id`: a queued job is cancelled at once, a running one stops at its
    /// next step (its state says `running` with `cancel_requested` until then); a
    /// finished job is forgotten. Its status.
    pub fn delete(&self, id: u64) -> Result<JobStatus, JobError> {
        let mut table = self.shared.lock();
        let queued = table.queue.iter().position(|&q| q == id);
        let entry = table.jobs.get_mut(&id).ok_or(JobError::NotFound(id))?;
        if entry.status.state.finished() {
            return table
                .jobs
                .remove(&id)
                .map(|e| e.status)
                .ok_or(JobError::NotFound(id));
        }
        entry.cancel.store(true, Ordering::Relaxed);
        entry.status.cancel_requested = true;
        if queued.is_some() {
            entry.status.state = JobState::Cancelled;
            entry.status.finished_at = Some(now_rfc3339());
            entry.work = None;
        }
        let status = entry.status.clone();
        if let Some(at) = queued {
            table.queue.remove(at);
            forget_old(&mut table);
        }
        self.shared.changed.notify_all();
        Ok(status)
    }

    /// Waits until job `id` has finished; its final status.
    pub fn wait(&self, id: u64) -> Result<JobStatus, JobError> {
        let mut table = self.shared.lock();
        loop {
            let entry = table.jobs.get(&id).ok_or(JobError::NotFound(id))?;
            if entry.status.state.finished() {
                return Ok(entry.status.clone());
            }
            table = self
                .shared
                .changed
                .wait(table)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The worker: takes the oldest queued job, runs it, records how it ended.
fn work_loop(shared: &Arc<Shared>) {
    loop {
        let (id, work, cancel) = {
            let mut table = shared.lock();
            let id = loop {
                match table.queue.pop_front() {
                    Some(id) => break id,
                    None => table = shared.changed.wait(table).unwrap_or_else(PoisonError::into_inner),
                }
            };
            let Some(entry) = table.jobs.get_mut(&id) else {
                continue;
            };
            let Some(work) = entry.work.take() else { continue };
            entry.status.state = JobState::Running;
            entry.status.started_at = Some(now_rfc3339());
            (id, work, entry.cancel.clone())
        };
        let context = JobContext {
            id,
            shared: shared.clone(),
            cancel: cancel.clone(),
        };
        let started = std::time::Instant::now();
        // A panic in one job fails that job, not the worker.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&context)))
            .unwrap_or_else(|_| Err(AlignError::Invalid("the job stopped on an internal error".into())));
        let mut table = shared.lock();
        if let Some(entry) = table.jobs.get_mut(&id) {
            let status = &mut entry.status;
            status.finished_at = Some(now_rfc3339());
            match outcome {
                Ok(result) => {
                    status.state = JobState::Succeeded;
                    status.progress = 1.0;
                    status.result = Some(result);
                }
                Err(AlignError::Build(crate::build::BuildError::Cancelled)) => {
                    status.state = JobState::Cancelled
                }
                Err(_) if cancel.load(Ordering::Relaxed) => status.state = JobState::Cancelled,
                Err(e) => {
                    status.state = JobState::Failed;
                    status.error = Some(Arc::new(e));
                }
            }
            tracing::info!(
                job = id,
                kind = ?status.kind,
                alignment = %status.alignment,
                state = ?status.state,
                ms = started.elapsed().as_millis() as u64,
                "job finished"
            );
        }
        forget_old(&mut table);
        shared.changed.notify_all();
    }
}

/// Drops the oldest finished jobs beyond [`KEPT_FINISHED`].
fn forget_old(table: &mut Table) {
    let finished: Vec<u64> = table
        .jobs
        .iter()
        .filter(|(_, e)| e.status.state.finished())
        .map(|(&id, _)| id)
        .collect();
    for id in finished.iter().take(finished.len().saturating_sub(KEPT_FINISHED)) {
        table.jobs.remove(id);
    }
}

/// The current time as RFC 3339 UTC (seconds).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_queued_job_cancels_at_once_and_a_running_one_at_its_next_step() {
        let jobs = Jobs::new(4);
        let (started_tx, started_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let first = jobs
            .submit(
                JobKind::Build,
                "a",
                Box::new(move |job| {
                    started_tx.send(()).unwrap();
                    go_rx.recv().unwrap();
                    // The step after the cancel: told to stop.
                    assert!(!job.progress("grow", 0.5, 0.2));
                    Err(AlignError::Build(crate::build::BuildError::Cancelled))
                }),
            )
            .unwrap();
        let second = jobs
            .submit(JobKind::Rebalance, "b", Box::new(|_| Ok(serde_json::json!(1))))
            .unwrap();
        started_rx.recv().unwrap();
        assert_eq!(jobs.status(first).unwrap().state, JobState::Running);
        assert_eq!(jobs.status(second).unwrap().state, JobState::Queued);
        let cancelled = jobs.delete(second).unwrap();
        assert_eq!(cancelled.state, JobState::Cancelled);
        let asked = jobs.delete(first).unwrap();
        assert_eq!((asked.state, asked.cancel_requested), (JobState::Running, true));
        go_tx.send(()).unwrap();
        let done = jobs.wait(first).unwrap();
        assert_eq!(done.state, JobState::Cancelled);
        assert_eq!(done.phase.as_deref(), Some("grow"));
        // Deleting a finished job forgets it.
        assert_eq!(jobs.delete(first).unwrap().state, JobState::Cancelled);
        assert_eq!(jobs.status(first).unwrap_err(), JobError::NotFound(first));
        assert_eq!(jobs.delete(99).unwrap_err(), JobError::NotFound(99));
        // The cancelled queued job never ran, and the worker goes on with new ones.
        let third = jobs
            .submit(JobKind::Rebalance, "c", Box::new(|_| Ok(serde_json::json!(3))))
            .unwrap();
        assert_eq!(jobs.wait(third).unwrap().result, Some(serde_json::json!(3)));
        assert_eq!(jobs.status(second).unwrap().result, None);
    }

    #[test]
    fn a_full_queue_refuses_and_a_failing_job_keeps_its_error() {
        let jobs = Jobs::new(1);
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel();
        let first = jobs
            .submit(
                JobKind::Build,
                "a",
                Box::new(move |_| {
                    started_tx.send(()).unwrap();
                    go_rx.recv().unwrap();
                    Err(AlignError::Invalid("no good".into()))
                }),
            )
            .unwrap();
        started_rx.recv().unwrap();
        jobs.submit(JobKind::Build, "b", Box::new(|_| Ok(serde_json::json!(2))))
            .unwrap();
        let refused = jobs.submit(JobKind::Build, "c", Box::new(|_| Ok(serde_json::json!(3))));
        assert_eq!(refused, Err(JobError::Busy { queued: 1, limit: 1 }));
        go_tx.send(()).unwrap();
        let failed = jobs.wait(first).unwrap();
        assert_eq!(failed.state, JobState::Failed);
        assert_eq!(
            failed.error.unwrap().to_string(),
            AlignError::Invalid("no good".into()).to_string()
        );
        assert_eq!(jobs.list().len(), 2);
    }
}
