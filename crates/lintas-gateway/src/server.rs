//! Starting, serving and stopping the gateway.
//!
//! Lifecycle: [`bind`] connects the producer (starting the embedded broker when `kafka.brokers`
//! is empty), probes Kafka once so a healthy gateway starts ready, starts the readiness probe and
//! binds the port; [`BoundGateway::serve`] answers requests until the shutdown future resolves.
//! Shutdown (SIGTERM): readiness turns false at once, the listener stops accepting, requests in
//! flight finish (each is bounded by `gateway.request_timeout`), the producer is flushed, then the
//! embedded broker (if any) stops.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use lintas_config::Config;
use lintas_kafka::{EmbeddedBroker, EventProducer};
use lintas_telemetry::{Health, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::GatewaySettings;
use crate::error::ServeError;
use crate::publisher::KafkaPublisher;
use crate::readiness::{self, KafkaStatus};
use crate::state::AppState;

/// Longest wait for the producer's queue to drain at shutdown. Requests answered 2xx were
/// acknowledged already; what may remain are records of requests that timed out (answered 503).
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// A gateway bound to its port, ready to [`serve`](Self::serve).
#[derive(Debug)]
pub struct BoundGateway {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: Router,
    health: Health,
    producer: EventProducer,
    stop_probe: watch::Sender<bool>,
    probe: JoinHandle<()>,
    embedded: Option<EmbeddedBroker>,
    flush_timeout: Duration,
}

/// Connects to Kafka (or starts the embedded broker), probes it, and binds `settings.listen`.
///
/// # Errors
///
/// [`ServeError::WebhookConfig`] if a tenant configures a webhook source or secret name no
/// adapter reads, [`ServeError::Kafka`] if the producer or the embedded broker cannot be
/// created, [`ServeError::Bind`] if the address cannot be bound.
pub async fn bind(
    config: Arc<Config>,
    settings: GatewaySettings,
    metrics: PrometheusHandle,
    health: Health,
) -> Result<BoundGateway, ServeError> {
    let problems = crate::config::webhook_config_problems(&config);
    if !problems.is_empty() {
        return Err(ServeError::WebhookConfig { problems });
    }
    crate::metrics::describe_metrics();
    let embedded = if config.kafka.is_embedded() {
        let topics = lintas_kafka::topics::declared_topics(&config.kafka, &config.topics);
        // `start` logs its address with a warning that it is in memory.
        Some(EmbeddedBroker::start(&topics)?)
    } else {
        None
    };
    let bootstrap = embedded.as_ref().map_or_else(
        || config.kafka.bootstrap_servers(),
        |broker| broker.bootstrap_servers().to_owned(),
    );
    let producer =
        EventProducer::try_new(&lintas_kafka::producer_config(&config.kafka, &bootstrap))?;

    let kafka = KafkaStatus::new(health.clone());
    let queue_max = config.kafka.queue_max_messages.get();
    readiness::probe_once(&producer, &settings.topic_raw, queue_max, &kafka).await;
    let (stop_probe, stop_rx) = watch::channel(false);
    let probe = tokio::spawn(readiness::watch_kafka(
        producer.clone(),
        settings.topic_raw.clone(),
        queue_max,
        kafka.clone(),
        stop_rx,
    ));

    let publisher = KafkaPublisher::new(
        producer.clone(),
        &settings.topic_raw,
        &settings.topic_dlq,
        kafka.clone(),
    );
    let listen = settings.listen;
    let flush_timeout = FLUSH_TIMEOUT.min(config.kafka.message_timeout);
    let state = AppState::new(settings, config, publisher, kafka);
    let router = crate::routes::router(
        state,
        lintas_telemetry::admin_router(health.clone(), metrics),
    );
    let bind_error = |source| ServeError::Bind {
        address: listen,
        source,
    };
    let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    Ok(BoundGateway {
        listener,
        local_addr,
        router,
        health,
        producer,
        stop_probe,
        probe,
        embedded,
        flush_timeout,
    })
}

impl BoundGateway {
    /// The address actually bound (the real port when `gateway.listen` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves, then drains and flushes (see the module docs).
    ///
    /// # Errors
    ///
    /// [`ServeError::Serve`] if the HTTP server fails.
    pub async fn serve<F>(self, shutdown: F) -> Result<(), ServeError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Self {
            listener,
            local_addr,
            router,
            health,
            producer,
            stop_probe,
            probe,
            embedded,
            flush_timeout,
        } = self;
        tracing::info!(address = %local_addr, "gateway listening");
        let draining = health.clone();
        let signal = async move {
            shutdown.await;
            draining.begin_shutdown();
            tracing::info!("gateway stopped accepting, finishing requests in flight");
        };
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(signal)
            .await
            .map_err(ServeError::Serve);

        stop_probe.send(true).ok();
        probe.await.ok();
        let in_flight = producer.in_flight();
        let flushed = tokio::task::spawn_blocking(move || producer.flush(flush_timeout)).await;
        match flushed {
            Ok(Ok(())) => tracing::info!(records = in_flight, "producer flushed"),
            Ok(Err(error)) => {
                tracing::warn!(error = %error, records = in_flight, "producer not fully flushed");
            }
            Err(error) => tracing::warn!(error = %error, "producer flush task failed"),
        }
        if let Some(broker) = embedded {
            // Stopping joins the broker's thread; keep the runtime's workers free meanwhile.
            tokio::task::spawn_blocking(move || broker.stop())
                .await
                .ok();
        }
        tracing::info!("gateway stopped");
        served
    }
}

/// Runs the gateway of `config` until `shutdown` resolves: the `lintas gateway` command.
///
/// # Errors
///
/// Any [`ServeError`] from installing metrics, [`bind`] or [`BoundGateway::serve`].
pub async fn run<F>(config: Config, shutdown: F) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let metrics = lintas_telemetry::install_metrics_recorder()?;
    let settings = GatewaySettings::from_config(&config);
    let health = Health::new();
    bind(Arc::new(config), settings, metrics, health)
        .await?
        .serve(shutdown)
        .await
}
