//! Wiring: clients from the config, the consume loop on its own thread, rebalance callbacks,
//! shutdown.
//!
//! The loop runs on a dedicated OS thread rather than on the async runtime because every
//! transactional call (`commit_transaction`, `send_offsets_to_transaction`, the changelog
//! restore in the rebalance callback) blocks for up to a broker round trip or more; on a
//! runtime worker that would stall the admin server and, in `lintas run`, the gateway.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lintas_classifier::Classifier;
use lintas_config::Config;
use lintas_telemetry::Health;
use metrics::Gauge;
use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::producer::{Producer, ThreadedProducer};
use rdkafka::statistics::Statistics;

use crate::batch::BatchPolicy;
use crate::engine::{COMPONENT, Engine, EngineParts, Topics};
use crate::error::ClassifierServiceError;
use crate::metrics::ServiceMetrics;

/// Poll timeout while a transaction is open: short, so its time bound is kept.
const POLL_OPEN: Duration = Duration::from_millis(5);
/// Poll timeout while idle: bounds how late a shutdown request is noticed.
const POLL_IDLE: Duration = Duration::from_millis(100);
/// How long closing a Kafka client may take at shutdown; see [`drop_bounded`].
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often librdkafka reports statistics, from which the lag gauge is set.
const STATISTICS_INTERVAL_MS: &str = "5000";

/// Consumer context: rebalance callbacks drive the engine; statistics feed the lag gauge.
pub(crate) struct ServiceContext {
    engine: Arc<Mutex<Engine>>,
    raw_topic: String,
    lag: Gauge,
}

impl ClientContext for ServiceContext {
    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(&self.raw_topic) else {
            return;
        };
        // Partition -1 is librdkafka's internal unassigned queue; -1 lag means unknown.
        let lag: i64 = topic
            .partitions
            .iter()
            .filter(|(partition, stats)| **partition >= 0 && stats.consumer_lag >= 0)
            .map(|(_, stats)| stats.consumer_lag)
            .sum();
        self.lag.set(lag as f64);
    }
}

impl ConsumerContext for ServiceContext {
    // Called inside poll(), on the loop thread (or the closing thread at shutdown), never while
    // the loop holds the engine lock.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(partitions) => lock(&self.engine).on_revoke(consumer, partitions),
            Rebalance::Assign(partitions) => lock(&self.engine).on_assign(partitions),
            Rebalance::Error(error) => tracing::warn!(error = %error, "rebalance failed"),
        }
    }
}

// The engine is only touched between statements that leave it consistent; a panic in the
// loop ends the service anyway, so recovering from poisoning cannot expose broken state.
fn lock(engine: &Mutex<Engine>) -> MutexGuard<'_, Engine> {
    engine.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the consume loop on the current (dedicated) thread until `stop` is set or a fatal error.
pub(crate) fn run_blocking(
    config: Config,
    health: Health,
    metrics: ServiceMetrics,
    stop: Arc<AtomicBool>,
) -> Result<(), ClassifierServiceError> {
    let kafka = &config.kafka;
    let bootstrap = kafka.bootstrap_servers();
    let classifier = Arc::new(Classifier::from_paths(
        config.classifier.rules_path.as_deref(),
        config.classifier.model_path.as_deref(),
    )?);
    tracing::info!(version = classifier.version(), "classifier loaded");
    let operation_timeout = kafka.message_timeout;
    check_topics(&config, &bootstrap, operation_timeout)?;

    let transactional_id = transactional_id(&config);
    let mut producer_config = lintas_kafka::producer_config(kafka, &bootstrap);
    producer_config
        .set("transactional.id", &transactional_id)
        .set(
            "transaction.timeout.ms",
            config
                .classifier
                .transaction_timeout
                .as_millis()
                .to_string(),
        );
    let producer: ThreadedProducer<_> =
        producer_config
            .create()
            .map_err(|source| ClassifierServiceError::Kafka {
                operation: "creating the transactional producer",
                source,
            })?;
    // Fences any earlier producer with this id and aborts its open transaction, so a restarted
    // instance never sees its predecessor's half-written output.
    producer
        .init_transactions(config.classifier.transaction_timeout + operation_timeout)
        .map_err(|source| ClassifierServiceError::FatalTransaction {
            operation: "init_transactions",
            source,
        })?;
    tracing::info!(transactional_id = %transactional_id, "transactional producer ready");

    let topics = Topics {
        raw: kafka.topic_raw.clone(),
        classified: kafka.topic_classified.clone(),
        dlq: kafka.topic_dlq.clone(),
        context: kafka.topic_context.clone(),
    };
    let engine = Arc::new(Mutex::new(Engine::new(EngineParts {
        producer,
        classifier,
        policy: BatchPolicy {
            max_records: config.classifier.batch_max_records.get(),
            max_wait: config.classifier.batch_max_wait,
        },
        topics,
        metrics: metrics.clone(),
        health: health.clone(),
        operation_timeout,
        restore_config: crate::restore::restore_config(kafka, &bootstrap),
        restore_deadline: config.classifier.transaction_timeout + operation_timeout,
    })));
    let mut consumer_config =
        lintas_kafka::consumer_config(kafka, &bootstrap, &config.classifier.group_id);
    // Static membership (KIP-345): a restarted instance takes its partitions back at once
    // instead of waiting `kafka.session_timeout` for the group to drop its dead predecessor.
    // The instance id is already required to be unique among running instances (it is part of
    // the transactional.id); a duplicate is fenced, like a duplicate transactional.id.
    consumer_config
        .set("group.instance.id", instance_id(&config))
        .set("statistics.interval.ms", STATISTICS_INTERVAL_MS);
    let context = ServiceContext {
        engine: Arc::clone(&engine),
        raw_topic: kafka.topic_raw.clone(),
        lag: metrics.lag.clone(),
    };
    let consumer: BaseConsumer<ServiceContext> = consumer_config
        .create_with_context(context)
        .map_err(|source| ClassifierServiceError::Kafka {
            operation: "creating the consumer",
            source,
        })?;
    consumer
        .subscribe(&[&kafka.topic_raw])
        .map_err(|source| ClassifierServiceError::Kafka {
            operation: "subscribing",
            source,
        })?;
    // Ready only once the group has handed out an assignment (and its contexts are restored,
    // see `Engine::on_assign`): ready right after subscribing flipped to not ready a moment
    // later while the first assignment was being restored.
    health.set_ready(
        COMPONENT,
        false,
        Some(format!(
            "joining consumer group {}",
            config.classifier.group_id
        )),
    );
    tracing::info!(
        topic = %kafka.topic_raw,
        group_id = %config.classifier.group_id,
        "classifier consuming"
    );

    let looped = consume(&consumer, &engine, &stop);
    health.set_ready(COMPONENT, false, Some("stopped".into()));
    if let Err(error) = &looped {
        tracing::error!(error = %error, kind = error.kind(), "classifier stopping on error");
    }
    // The consumer's close runs the final revoke (nothing to commit: the transaction is
    // committed already). With static membership it does not leave the group: the partitions
    // wait `kafka.session_timeout` for this instance to come back.
    drop_bounded("consumer", consumer);
    let flushed = lock(&engine).producer().flush(operation_timeout);
    if let Err(error) = flushed {
        tracing::warn!(error = %error, "producer not fully flushed at shutdown");
    }
    // The engine owns the transactional producer, whose destruction can block like the
    // consumer's close (seen with librdkafka's mock cluster).
    drop_bounded("transactional producer", engine);
    tracing::info!("classifier stopped");
    looped
}

fn consume(
    consumer: &BaseConsumer<ServiceContext>,
    engine: &Mutex<Engine>,
    stop: &AtomicBool,
) -> Result<(), ClassifierServiceError> {
    let mut timeout = POLL_IDLE;
    let mut errors = lintas_kafka::ErrorThrottle::default();
    while !stop.load(Ordering::Relaxed) {
        // Rebalance callbacks run inside this poll and lock the engine: it must not be held here.
        let polled = consumer.poll(timeout);
        let mut engine = lock(engine);
        if let Some(fatal) = engine.take_fatal() {
            return Err(fatal);
        }
        match polled {
            None => {}
            Some(Ok(message)) => engine.process(consumer, &message)?,
            Some(Err(error)) => {
                if let Some(held_back) = errors.admit(Instant::now()) {
                    tracing::warn!(error = %error, held_back, "consumer error");
                }
            }
        }
        if engine.is_due(Instant::now()) {
            engine.commit(consumer)?;
        }
        timeout = if engine.is_due(Instant::now() + POLL_IDLE) {
            POLL_OPEN
        } else {
            POLL_IDLE
        };
    }
    tracing::info!("shutdown requested, committing the open transaction");
    let mut engine = lock(engine);
    engine.commit(consumer)?;
    engine.take_fatal().map_or(Ok(()), Err)
}

/// Drops `value` (a Kafka client: its destructor talks to the brokers) on a thread of its own,
/// waiting at most [`CLOSE_TIMEOUT`]. librdkafka's mock cluster never completes some closes (see
/// lintas-kafka's tests/embedded.rs); a real broker closes in milliseconds. An abandoned close
/// ends with the process.
fn drop_bounded<T: Send + 'static>(what: &'static str, value: T) {
    let (closed_tx, closed_rx) = std::sync::mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("lintas-classifier-close".into())
        .spawn(move || {
            drop(value);
            closed_tx.send(()).ok();
        });
    if spawned.is_err() {
        tracing::warn!(
            what,
            "cannot start a thread to close the client, leaving it open"
        );
        return;
    }
    if closed_rx.recv_timeout(CLOSE_TIMEOUT).is_err() {
        tracing::warn!(
            what,
            timeout_secs = CLOSE_TIMEOUT.as_secs(),
            "kafka client close did not finish, leaving it to process exit"
        );
    }
}

/// `<group_id>-<instance_id>`, the instance id defaulting to the host name: stable across
/// restarts of one instance, distinct between instances.
pub(crate) fn transactional_id(config: &Config) -> String {
    format!("{}-{}", config.classifier.group_id, instance_id(config))
}

/// `classifier.instance_id`, or the host name when it is empty.
fn instance_id(config: &Config) -> String {
    if config.classifier.instance_id.is_empty() {
        host_name()
    } else {
        config.classifier.instance_id.clone()
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "lintas".to_owned())
}

/// Refuses to start when a topic is missing or the changelog cannot mirror the raw partitions.
fn check_topics(
    config: &Config,
    bootstrap: &str,
    timeout: Duration,
) -> Result<(), ClassifierServiceError> {
    let kafka = &config.kafka;
    let admin = lintas_kafka::client::base_config(kafka, bootstrap);
    let counts = lintas_kafka::topics::partition_counts(&admin, timeout).map_err(|error| {
        ClassifierServiceError::Topic {
            topic: kafka.topic_raw.clone(),
            problem: format!("cannot read cluster metadata: {error}"),
        }
    })?;
    let count = |name: &str| {
        counts
            .iter()
            .find(|(topic, _)| topic == name)
            .map(|(_, partitions)| *partitions)
    };
    let mut raw_partitions = 0;
    for topic in [
        &kafka.topic_raw,
        &kafka.topic_classified,
        &kafka.topic_dlq,
        &kafka.topic_context,
    ] {
        let Some(partitions) = count(topic) else {
            return Err(ClassifierServiceError::Topic {
                topic: topic.clone(),
                problem: "does not exist; create the declared topics with `lintas topics apply`"
                    .into(),
            });
        };
        if topic == &kafka.topic_raw {
            raw_partitions = partitions;
        }
    }
    let context_partitions = count(&kafka.topic_context).unwrap_or_default();
    if context_partitions < raw_partitions {
        return Err(ClassifierServiceError::Topic {
            topic: kafka.topic_context.clone(),
            problem: format!(
                "has {context_partitions} partitions, fewer than the {raw_partitions} of {}; the \
                 changelog needs one partition per raw partition",
                kafka.topic_raw
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(env: &[(&str, &str)]) -> Config {
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        lintas_config::load(None, env).expect("valid config")
    }

    #[test]
    fn the_transactional_id_is_the_group_and_the_configured_instance() {
        let config = config(&[
            ("LINTAS__CLASSIFIER__GROUP_ID", "g1"),
            ("LINTAS__CLASSIFIER__INSTANCE_ID", "classifier-0"),
        ]);
        assert_eq!(transactional_id(&config), "g1-classifier-0");
    }

    #[test]
    fn without_an_instance_id_the_host_name_is_used() {
        let id = transactional_id(&config(&[]));
        assert!(id.starts_with("lintas-classifier-"), "{id}");
        assert!(id.len() > "lintas-classifier-".len(), "{id}");
    }
}
