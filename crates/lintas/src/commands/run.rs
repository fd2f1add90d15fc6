//! `lintas run [--migrate]`: gateway, classifier and sink in one process, for a laptop, a demo
//! or a small shop.
//!
//! Each role is a task calling the same library entry point as its own command
//! (`lintas_gateway::bind`/`serve`, `lintas_classifier_service::run`, `lintas_sink::run`), so
//! what runs here is what runs in production, only in one process with one metrics registry and
//! one health table (served by the gateway on `/metrics`, `/healthz` and `/readyz`).
//!
//! With `kafka.brokers` empty, the embedded broker (librdkafka's in-memory mock cluster, which
//! supports the classifier's transactions) is started first and every role is pointed at it.
//! With brokers configured, the declared topics are created if missing, as `lintas topics apply`.
//!
//! Shutdown (SIGTERM or Ctrl-C) loses no accepted event: the gateway stops accepting, finishes
//! its requests and flushes its producer; then the classifier runs until its group has consumed
//! the raw topic to its end, and the sink until its group has consumed the classified topic to
//! its end, each bounded by `--drain-timeout`. This matters most on the embedded broker, whose
//! records are gone once the process exits. A second signal skips the draining.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use lintas_config::{BrokerAddr, Config};
use lintas_telemetry::PrometheusHandle;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Apply the ClickHouse migrations the server lacks before starting (as `lintas migrate`).
    #[arg(long)]
    migrate: bool,
    /// At shutdown, how long the classifier and the sink may each take to consume what the
    /// gateway accepted before they stop anyway.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    drain_timeout: Duration,
}

const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);
const DRAIN_POLL: Duration = Duration::from_millis(250);

type Stop = Pin<Box<dyn Future<Output = ()> + Send>>;

pub(crate) fn run(args: RunArgs, path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let mut config = super::load_config(path)?;
    super::init_logging(&config)?;
    if config.tenants.is_empty() {
        tracing::warn!(
            "no tenants configured: every request will be refused (see [tenants] in the config reference)"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("lintas-run")
        .build()
        .context("starting the async runtime")?;
    // Installed before anything slow, so a Ctrl-C during start is a clean stop (the roles
    // start and stop at once), not a kill. Installing needs the runtime's reactor.
    let mut signal: Stop = {
        let _runtime = runtime.enter();
        Box::pin(lintas_telemetry::shutdown_signal())
    };

    if args.migrate {
        let summary = runtime.block_on(super::migrate::apply(&config))?;
        tracing::info!(summary = %summary, "clickhouse migrations applied");
    }
    let topics = lintas_kafka::topics::declared_topics(&config.kafka, &config.topics);
    let embedded = if config.kafka.is_embedded() {
        let broker = lintas_kafka::EmbeddedBroker::start(&topics)?;
        config.kafka.brokers = parse_bootstrap(broker.bootstrap_servers())?;
        Some(broker)
    } else {
        let bootstrap = config.kafka.bootstrap_servers();
        let admin = lintas_kafka::client::base_config(&config.kafka, &bootstrap);
        let outcomes = runtime
            .block_on(lintas_kafka::topics::apply_topics(
                &admin,
                &topics,
                ADMIN_TIMEOUT,
            ))
            .context("creating the topics (a single broker needs topics.replication_factor = 1)")?;
        for (topic, outcome) in outcomes {
            tracing::info!(topic = %topic, outcome = ?outcome, "topic checked");
        }
        None
    };

    let result = runtime.block_on(run_roles(
        config,
        embedded.is_some(),
        args.drain_timeout,
        &mut signal,
    ));
    // The clients of the classifier and the sink finish closing on the runtime's threads; let
    // them (bounded) while the embedded broker still answers, or each close waits out timeouts.
    runtime.shutdown_timeout(Duration::from_secs(10));
    if let Some(broker) = embedded {
        broker.stop();
    }
    result?;
    Ok(ExitCode::SUCCESS)
}

/// Parses the mock cluster's `host:port,...` into broker addresses.
fn parse_bootstrap(bootstrap: &str) -> anyhow::Result<Vec<BrokerAddr>> {
    bootstrap
        .split(',')
        .map(|entry| {
            let (host, port) = entry
                .trim()
                .rsplit_once(':')
                .with_context(|| format!("embedded broker address {entry:?}"))?;
            let port = port
                .parse()
                .with_context(|| format!("embedded broker port {entry:?}"))?;
            Ok(BrokerAddr {
                host: host.trim_matches(['[', ']']).to_owned(),
                port,
            })
        })
        .collect()
}

/// A role's task and the sender that asks it to stop.
struct Role {
    name: &'static str,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Role {
    fn spawn<Fut>(name: &'static str, start: impl FnOnce(Stop) -> Fut) -> Self
    where
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown: Stop = Box::pin(async move {
            stopped.await.ok();
        });
        Self {
            name,
            stop: Some(stop),
            task: tokio::spawn(start(shutdown)),
        }
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        let name = self.name;
        self.task
            .await
            .with_context(|| format!("{name} task failed"))?
            .with_context(|| format!("{name} failed"))
    }
}

async fn run_roles(
    config: Config,
    embedded: bool,
    drain_timeout: Duration,
    signal: &mut Stop,
) -> anyhow::Result<()> {
    let metrics = lintas_telemetry::install_metrics_recorder()?;
    let health = lintas_telemetry::Health::new();
    let settings = lintas_gateway::GatewaySettings::from_config(&config);
    let bound = lintas_gateway::bind(
        Arc::new(config.clone()),
        settings,
        metrics.clone(),
        health.clone(),
    )
    .await
    .context("gateway failed")?;
    tracing::info!(address = %bound.local_addr(), "lintas run: gateway, classifier and sink starting");

    let classifier_config = config.clone();
    let classifier_health = health.clone();
    let classifier = Role::spawn("classifier", move |stop| async move {
        lintas_classifier_service::run(classifier_config, classifier_health, stop)
            .await
            .map_err(anyhow::Error::from)
    });
    let sink_config = config.clone();
    let sink_health = health.clone();
    let sink = Role::spawn("sink", move |stop| async move {
        lintas_sink::run(sink_config, sink_health, stop)
            .await
            .map_err(anyhow::Error::from)
    });
    let gateway = Role::spawn("gateway", move |stop| async move {
        bound.serve(stop).await.map_err(anyhow::Error::from)
    });

    let mut roles = [gateway, classifier, sink];
    // Run until the signal, or until a role ends on its own (an error: they run until stopped).
    let ended = tokio::select! {
        () = signal.as_mut() => None,
        index = first_finished(&mut roles) => Some(index),
    };
    let [gateway, classifier, sink] = roles;
    if let Some(index) = ended {
        let name = ["gateway", "classifier", "sink"][index];
        tracing::error!(
            role = name,
            "a role stopped on its own, stopping the others"
        );
        let results = [
            gateway.stop().await,
            classifier.stop().await,
            sink.stop().await,
        ];
        return results
            .into_iter()
            .collect::<anyhow::Result<Vec<()>>>()
            .and_then(|_| anyhow::bail!("{name} stopped unexpectedly"));
    }

    // The first signal's future is spent; a fresh one catches a second signal while draining.
    *signal = Box::pin(lintas_telemetry::shutdown_signal());
    health.begin_shutdown();
    let gateway_result = gateway.stop().await;
    let bootstrap = config.kafka.bootstrap_servers();
    // Raw records carry no transaction markers: drained means committed == end. The embedded
    // broker does not keep offsets committed in transactions (librdkafka's mock cluster accepts
    // TxnOffsetCommit without storing it), but its topics start empty with this process, so
    // there the classifier has read everything once its consumed counter reaches the end.
    let raw_backlog = if embedded {
        Backlog::ConsumedCounter(metrics.clone())
    } else {
        Backlog::Committed {
            group: config.classifier.group_id.clone(),
            tolerance: 0,
        }
    };
    drain(
        &config,
        &bootstrap,
        raw_backlog,
        &config.kafka.topic_raw,
        drain_timeout,
        signal,
    )
    .await;
    let classifier_result = classifier.stop().await;
    // On a real broker every transaction of the (now stopped) classifier ends with a commit or
    // abort marker, so each partition of the classified topic ends with one: a sink that
    // consumed everything has committed either the end or the marker's offset. The embedded
    // broker writes no markers; a tolerance of one there let `lintas run` stop the sink one
    // record short of the end, and that record died with the process (seen in CI:
    // `tests/e2e_shop_day.rs`, the last event of the day missing).
    drain(
        &config,
        &bootstrap,
        Backlog::Committed {
            group: config.sink.group_id.clone(),
            tolerance: if embedded { 0 } else { 1 },
        },
        &config.kafka.topic_classified,
        drain_timeout,
        signal,
    )
    .await;
    let sink_result = sink.stop().await;
    tracing::info!("lintas run stopped");
    gateway_result.and(classifier_result).and(sink_result)
}

/// Resolves with the index of the first role whose task ended.
async fn first_finished(roles: &mut [Role; 3]) -> usize {
    let [gateway, classifier, sink] = roles;
    tokio::select! {
        _ = &mut gateway.task => 0,
        _ = &mut classifier.task => 1,
        _ = &mut sink.task => 2,
    }
}

/// How a role's backlog on a topic is measured.
enum Backlog {
    /// The group's committed offsets against the end, ignoring up to `tolerance` records per
    /// partition (a trailing transaction marker).
    Committed { group: String, tolerance: i64 },
    /// The classifier's consumed counter against the records in the topic (embedded broker).
    ConsumedCounter(PrometheusHandle),
}

/// Waits until `backlog` says `topic` is consumed to its end, `timeout` passes, or a second
/// signal arrives.
async fn drain(
    config: &Config,
    bootstrap: &str,
    backlog: Backlog,
    topic: &str,
    timeout: Duration,
    signal: &mut Stop,
) {
    let started = Instant::now();
    let (config, bootstrap, owned_topic) =
        (config.kafka.clone(), bootstrap.to_owned(), topic.to_owned());
    let check = tokio::task::spawn_blocking(move || -> anyhow::Result<i64> {
        let group = match &backlog {
            Backlog::Committed { group, .. } => group.clone(),
            // Only reads watermarks; a group of its own that never joins or commits.
            Backlog::ConsumedCounter(_) => "lintas-run-backlog".to_owned(),
        };
        let consumer = lag_consumer(&config, &bootstrap, &group)?;
        loop {
            let remaining = match &backlog {
                Backlog::Committed { tolerance, .. } => lag(&consumer, &owned_topic, *tolerance)?,
                Backlog::ConsumedCounter(metrics) => {
                    let records = records_in(&consumer, &owned_topic)?;
                    let consumed = counter_value(
                        &metrics.render(),
                        lintas_classifier_service::metrics::EVENTS_CONSUMED_TOTAL,
                    );
                    (records - consumed).max(0)
                }
            };
            if remaining == 0 {
                return Ok(0);
            }
            if started.elapsed() >= timeout {
                return Ok(remaining);
            }
            std::thread::sleep(DRAIN_POLL);
        }
    });
    tokio::select! {
        result = check => match result {
            Ok(Ok(0)) => tracing::info!(topic, elapsed = ?started.elapsed(), "drained"),
            Ok(Ok(remaining)) => tracing::warn!(topic, remaining, "drain timed out, stopping with records left in kafka"),
            Ok(Err(error)) => tracing::warn!(topic, error = %error, "cannot measure the backlog, stopping without draining"),
            Err(error) => tracing::warn!(topic, error = %error, "drain task failed"),
        },
        () = signal.as_mut() => tracing::warn!(topic, "second signal, stopping without draining"),
    }
}

/// A consumer that only reads `group`'s committed offsets: it never joins the group (no
/// subscribe) and never commits.
fn lag_consumer(
    kafka: &lintas_config::KafkaConfig,
    bootstrap: &str,
    group: &str,
) -> anyhow::Result<BaseConsumer> {
    let mut client = lintas_kafka::consumer_config(kafka, bootstrap, group);
    client.set("enable.auto.commit", "false");
    client.set("enable.auto.offset.store", "false");
    // A member id of its own, so it is not mistaken for a static member of the group.
    client.remove("group.instance.id");
    client.create().context("creating the backlog consumer")
}

/// Records of `topic` that `consumer`'s group has not committed, beyond `tolerance` per partition.
fn lag(consumer: &BaseConsumer, topic: &str, tolerance: i64) -> anyhow::Result<i64> {
    let metadata = consumer.fetch_metadata(Some(topic), ADMIN_TIMEOUT)?;
    let mut partitions = TopicPartitionList::new();
    for partition in metadata
        .topics()
        .iter()
        .filter(|found| found.name() == topic)
        .flat_map(|found| found.partitions())
    {
        partitions.add_partition(topic, partition.id());
    }
    let committed = consumer.committed_offsets(partitions, ADMIN_TIMEOUT)?;
    let mut remaining = 0;
    for element in committed.elements() {
        let (low, high) = consumer.fetch_watermarks(topic, element.partition(), ADMIN_TIMEOUT)?;
        // No commit yet: the group starts at the beginning (auto.offset.reset = earliest).
        let position = element
            .offset()
            .to_raw()
            .filter(|offset| *offset >= 0)
            .unwrap_or(low);
        let behind = (high - position).max(0);
        if behind > tolerance {
            remaining += behind;
        }
    }
    Ok(remaining)
}

/// Records in `topic` now: the sum over partitions of high minus low watermark.
fn records_in(consumer: &BaseConsumer, topic: &str) -> anyhow::Result<i64> {
    let metadata = consumer.fetch_metadata(Some(topic), ADMIN_TIMEOUT)?;
    let mut records = 0;
    for partition in metadata
        .topics()
        .iter()
        .filter(|found| found.name() == topic)
        .flat_map(|found| found.partitions())
    {
        let (low, high) = consumer.fetch_watermarks(topic, partition.id(), ADMIN_TIMEOUT)?;
        records += high - low;
    }
    Ok(records)
}

/// The sum of every sample of counter `name` in a Prometheus text exposition.
fn counter_value(exposition: &str, name: &str) -> i64 {
    exposition
        .lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_value_sums_the_samples_of_one_name_only() {
        let text = "# TYPE lintas_classifier_events_consumed_total counter\n\
                    lintas_classifier_events_consumed_total{partition=\"0\"} 40\n\
                    lintas_classifier_events_consumed_total{partition=\"1\"} 16\n\
                    lintas_classifier_events_consumed_total_other 7\n";
        assert_eq!(
            counter_value(text, "lintas_classifier_events_consumed_total"),
            56
        );
        assert_eq!(
            counter_value("", "lintas_classifier_events_consumed_total"),
            0
        );
    }

    #[test]
    fn the_embedded_bootstrap_parses_to_broker_addresses() {
        let brokers = parse_bootstrap("127.0.0.1:43819").expect("parses");
        assert_eq!(brokers.len(), 1);
        assert_eq!(brokers[0].host, "127.0.0.1");
        assert_eq!(brokers[0].port, 43819);
        assert!(parse_bootstrap("no-port").is_err());
    }
}
