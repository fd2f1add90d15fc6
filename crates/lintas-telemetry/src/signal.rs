//! The process's stop signals.

use std::future::Future;

/// Returns a future that resolves when the process receives SIGTERM (Kubernetes stopping the pod)
/// or Ctrl-C (SIGINT), and logs which one arrived.
///
/// On Unix the listeners are installed by this call, not on first poll, so a SIGTERM that arrives
/// between the call and the first `.await` is not lost (and does not kill the process). Each call
/// installs its own listeners, so several roles in one process may each hold one. Once a listener
/// exists the signal no longer kills the process by default: the caller must exit after draining
/// (and may force an exit on a second signal). A listener that cannot be installed is logged and
/// only the other signal is awaited.
///
/// # Panics
///
/// On Unix, if called outside a Tokio runtime (Tokio needs its reactor to install the listeners).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};

        fn listen(kind: SignalKind, name: &'static str) -> Option<Signal> {
            signal(kind)
                .inspect_err(|error| {
                    tracing::error!(error = %error, signal = name, "cannot listen for signal");
                })
                .ok()
        }

        async fn received(listener: Option<Signal>) {
            match listener {
                Some(mut listener) => {
                    listener.recv().await;
                }
                // Never resolving leaves the other signal in charge.
                None => std::future::pending().await,
            }
        }

        let terminate = listen(SignalKind::terminate(), "SIGTERM");
        let interrupt = listen(SignalKind::interrupt(), "SIGINT");
        async move {
            let signal_name = tokio::select! {
                () = received(terminate) => "SIGTERM",
                () = received(interrupt) => "SIGINT",
            };
            tracing::info!(signal = signal_name, "shutdown signal received");
        }
    }
    #[cfg(not(unix))]
    {
        async {
            match tokio::signal::ctrl_c().await {
                Ok(()) => tracing::info!(signal = "ctrl-c", "shutdown signal received"),
                Err(error) => {
                    tracing::error!(error = %error, signal = "ctrl-c", "cannot listen for signal");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn shutdown_signal_stays_pending_without_a_signal() {
        let pending = tokio::time::timeout(Duration::from_millis(50), shutdown_signal()).await;

        assert!(pending.is_err(), "resolved without any signal");
    }
}
