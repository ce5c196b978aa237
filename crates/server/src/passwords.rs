//! Argon2id off the async workers, on a small fixed set of threads that each keep one
//! block of working memory. However many sign-ins arrive at once, at most `workers` hashes
//! run and at most `queue` wait; the rest wait up to `wait` for a place and are then told
//! the server is busy. Memory stays at one Argon2 block per worker.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::domain::user::PasswordMemory;

type Job = Box<dyn FnOnce(&mut PasswordMemory) + Send>;

/// Every password worker is busy and the queue is full: answer 503 and let the caller retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks at once; try again in a few seconds")]
pub struct Busy;

pub struct PasswordWorkers {
    jobs: mpsc::Sender<Job>,
    wait: Duration,
}

/// How long a sign-in waits for a free place before it is refused.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(2);

impl PasswordWorkers {
    /// One worker per core (at least one, at most four), a queue twice that long.
    pub fn for_this_machine() -> std::io::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let workers = cores.clamp(1, 4);
        Self::start(workers, workers * 2, DEFAULT_WAIT)
    }

    pub fn start(workers: usize, queue: usize, wait: Duration) -> std::io::Result<Self> {
        let (jobs, receiver) = mpsc::channel::<Job>(queue.max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..workers.max(1) {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("password-{index}"))
                .spawn(move || work(&receiver))?;
        }
        Ok(Self { jobs, wait })
    }

    /// Runs `job` on a worker with that worker's memory.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut PasswordMemory) -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = reply.send(job(memory));
        });
        self.jobs
            .send_timeout(job, self.wait)
            .await
            .map_err(|_| Busy)?;
        answer.await.map_err(|_| Busy)
    }
}

/// A worker: takes jobs until every sender is gone (the server stopped).
fn work(receiver: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory = PasswordMemory::default();
    loop {
        let job = match receiver.lock() {
            Ok(mut receiver) => receiver.blocking_recv(),
            Err(_) => return,
        };
        let Some(job) = job else {
            return;
        };
        // A job that panics loses its answer (the caller sees Busy), not the worker.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
        if outcome.is_err() {
            memory = PasswordMemory::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_refuses_past_the_queue() {
        let workers = PasswordWorkers::start(1, 1, Duration::from_millis(50)).unwrap();
        assert_eq!(workers.run(|_| 41 + 1).await, Ok(42));
        let workers = Arc::new(workers);
        let (release, released) = std::sync::mpsc::channel::<()>();
        let released = Arc::new(Mutex::new(released));
        let blocking = |workers: Arc<PasswordWorkers>| {
            let released = Arc::clone(&released);
            tokio::spawn(async move {
                workers
                    .run(move |_| {
                        let _ = released.lock().unwrap().recv();
                    })
                    .await
            })
        };
        let first = blocking(Arc::clone(&workers));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let queued = blocking(Arc::clone(&workers));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(workers.run(|_| ()).await, Err(Busy), "the queue is full");
        release.send(()).unwrap();
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(()));
        assert_eq!(queued.await.unwrap(), Ok(()));
        assert_eq!(workers.run(|_| 7).await, Ok(7), "free again");
    }

    #[tokio::test]
    async fn a_panicking_job_leaves_the_worker_running() {
        let workers = PasswordWorkers::start(1, 1, Duration::from_secs(1)).unwrap();
        #[allow(clippy::panic)]
        let failed = workers.run(|_| -> u8 { panic!("boom") }).await;
        assert_eq!(failed, Err(Busy));
        assert_eq!(workers.run(|_| 1).await, Ok(1));
    }
}
