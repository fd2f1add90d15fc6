//! A role served inside the test process until the test stops it.
//!
//! The gateway and the sink both take a shutdown future and return `Result<(), E>`; this is the
//! stop channel and task handle that [`crate::gateway::RunningGateway`] and
//! [`crate::sink::RunningSink`] wrap.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The shutdown future handed to a role: resolves when the test stops it or drops it.
pub type StopSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A role's future spawned on the test's runtime, with the sender of its stop signal.
#[derive(Debug)]
pub struct StoppableTask<E> {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), E>>>,
}

impl<E> StoppableTask<E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    /// Spawns the future that `start` builds around the stop signal.
    pub fn spawn<Fut>(start: impl FnOnce(StopSignal) -> Fut) -> Self
    where
        Fut: Future<Output = Result<(), E>> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(start(Box::pin(async move {
            stopped.await.ok();
        })));
        Self {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Signals shutdown and waits for the role to return, failing with its error or panic.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.signal();
        if let Some(task) = self.task.take() {
            task.await??;
        }
        Ok(())
    }
}

impl<E> StoppableTask<E> {
    fn signal(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }
}

/// A test that fails half-way still shuts its role down (it drains in the background) instead
/// of leaving it consuming from topics another assertion reads.
impl<E> Drop for StoppableTask<E> {
    fn drop(&mut self) {
        self.signal();
    }
}
