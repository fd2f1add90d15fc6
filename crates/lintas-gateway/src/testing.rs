//! Test doubles: a [`MockPublisher`] in place of Kafka and a helper serving the real router with
//! it on a loopback port, for unit tests and for tests of clients such as `lintas send`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use lintas_config::Config;
use lintas_kafka::dlq::DlqReason;
use lintas_schema::v1::InteractionEvent;
use lintas_telemetry::Health;
use tokio::sync::oneshot;

use crate::config::GatewaySettings;
use crate::publisher::{PublishError, Publisher};
use crate::readiness::KafkaStatus;
use crate::state::AppState;

/// What the mock does with one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MockOutcome {
    /// Acknowledge at once.
    Ack,
    /// Fail with this error.
    Fail(PublishError),
    /// Never answer (Kafka not acknowledging), so the request's deadline decides.
    Hang,
}

/// One dead letter as recorded by the mock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The raw body.
    pub body: Vec<u8>,
    /// The reason headers.
    pub reason: DlqReason,
}

#[derive(Debug, Default)]
struct Recorded {
    scripted: VecDeque<MockOutcome>,
    events: Vec<InteractionEvent>,
    dead_letters: Vec<DeadLetter>,
}

/// A [`Publisher`] that records what it is given and acknowledges, unless outcomes were scripted
/// with [`MockPublisher::script`] (consumed one per call, publish and dead letter alike).
#[derive(Debug, Clone, Default)]
pub struct MockPublisher {
    recorded: Arc<Mutex<Recorded>>,
}

impl MockPublisher {
    /// A mock that acknowledges everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues outcomes for the next calls; afterwards calls are acknowledged again.
    pub fn script(&self, outcomes: impl IntoIterator<Item = MockOutcome>) {
        self.lock().scripted.extend(outcomes);
    }

    /// Every event acknowledged so far.
    pub fn events(&self) -> Vec<InteractionEvent> {
        self.lock().events.clone()
    }

    /// Every dead letter acknowledged so far.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.lock().dead_letters.clone()
    }

    // The lock guards plain vectors updated in one statement: a poisoned lock holds no broken state.
    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.recorded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn outcome(&self) -> Result<(), PublishError> {
        let next = self.lock().scripted.pop_front().unwrap_or(MockOutcome::Ack);
        match next {
            MockOutcome::Ack => Ok(()),
            MockOutcome::Fail(error) => Err(error),
            MockOutcome::Hang => std::future::pending().await,
        }
    }
}

impl Publisher for MockPublisher {
    async fn publish(&self, events: &[InteractionEvent]) -> Result<(), PublishError> {
        self.outcome().await?;
        self.lock().events.extend_from_slice(events);
        Ok(())
    }

    async fn dead_letter(&self, body: &[u8], reason: &DlqReason) -> Result<(), PublishError> {
        self.outcome().await?;
        self.lock().dead_letters.push(DeadLetter {
            body: body.to_vec(),
            reason: reason.clone(),
        });
        Ok(())
    }
}

/// The handler state over `publisher`, with Kafka assumed ready.
pub fn mock_state(
    config: Config,
    settings: GatewaySettings,
    publisher: MockPublisher,
) -> AppState<MockPublisher> {
    let kafka = KafkaStatus::assume_ready(Health::new());
    AppState::new(settings, Arc::new(config), publisher, kafka)
}

/// A gateway with a [`MockPublisher`] serving on a loopback port until the handle is dropped.
#[derive(Debug)]
pub struct MockGateway {
    /// Where it listens.
    pub address: SocketAddr,
    /// The publisher, to script outcomes and read what was published.
    pub publisher: MockPublisher,
    /// Kafka's readiness as the handlers see it (ready at start), to test the 503 path.
    pub kafka: KafkaStatus,
    _stop: oneshot::Sender<()>,
}

impl MockGateway {
    /// Serves the real router for `config` (its `gateway` settings, tenants and write keys) on
    /// `127.0.0.1:0` with a fresh [`MockPublisher`].
    ///
    /// # Errors
    ///
    /// The I/O error if no loopback port can be bound.
    pub async fn start(config: Config) -> std::io::Result<Self> {
        let publisher = MockPublisher::new();
        let settings = GatewaySettings::from_config(&config);
        let kafka = KafkaStatus::assume_ready(Health::new());
        let state = AppState::new(settings, Arc::new(config), publisher.clone(), kafka.clone());
        let health = Health::new();
        let metrics =
            lintas_telemetry::install_metrics_recorder().map_err(std::io::Error::other)?;
        let router = crate::routes::router(state, lintas_telemetry::admin_router(health, metrics));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async move {
                stopped.await.ok();
            };
            if let Err(error) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %error, "mock gateway failed");
            }
        });
        Ok(Self {
            address,
            publisher,
            kafka,
            _stop: stop,
        })
    }
}
