//! An in-process gateway against the real broker, on its own topics.
//!
//! [`GatewayTopics::create`] makes unique raw/classified/DLQ topics (replication 1, the test
//! broker is a single node); [`RunningGateway::start`] serves the real gateway (real
//! `KafkaPublisher`, readiness probe, router) on `127.0.0.1:0` until stopped or dropped;
//! [`record_count`] and [`read_records`] look at what reached a topic.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::task::StoppableTask;
use crate::{test_config, unique_name};
use lintas_config::Config;
use lintas_gateway::{GatewaySettings, ServeError};
use lintas_kafka::topics::{TopicSpec, apply_topics};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message as _, Offset, TopicPartitionList};

/// Partitions of a test raw topic: more than one, so keys really spread.
pub const RAW_PARTITIONS: i32 = 3;
/// Longest wait for one admin or metadata call.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Topics of one test, unique to it.
#[derive(Debug, Clone)]
pub struct GatewayTopics {
    /// Raw events.
    pub raw: String,
    /// Classified events (unused by the gateway, but must differ from the others).
    pub classified: String,
    /// Dead letters.
    pub dlq: String,
}

impl GatewayTopics {
    /// Creates the raw and DLQ topics on the real broker.
    pub async fn create() -> anyhow::Result<Self> {
        let prefix = unique_name("gw");
        let topics = Self {
            raw: format!("{prefix}.raw"),
            classified: format!("{prefix}.classified"),
            dlq: format!("{prefix}.dlq"),
        };
        let config = test_config(&[]);
        let admin =
            lintas_kafka::client::base_config(&config.kafka, &config.kafka.bootstrap_servers());
        let hour = Duration::from_secs(3600);
        let specs = [
            TopicSpec::with_retention(&topics.raw, RAW_PARTITIONS, 1, hour),
            TopicSpec::with_retention(&topics.dlq, 1, 1, hour),
        ];
        apply_topics(&admin, &specs, ADMIN_TIMEOUT).await?;
        Ok(topics)
    }

    /// The config environment naming these topics.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("LINTAS__KAFKA__TOPIC_RAW".to_owned(), self.raw.clone()),
            (
                "LINTAS__KAFKA__TOPIC_CLASSIFIED".to_owned(),
                self.classified.clone(),
            ),
            ("LINTAS__KAFKA__TOPIC_DLQ".to_owned(), self.dlq.clone()),
        ]
    }
}

/// A config for the real broker with the gateway on a free loopback port, `topics`, and `extra`.
pub fn gateway_config(topics: &GatewayTopics, extra: &[(String, String)]) -> Config {
    let mut env: Vec<(String, String)> = vec![(
        "LINTAS__GATEWAY__LISTEN".to_owned(),
        "127.0.0.1:0".to_owned(),
    )];
    env.extend(topics.env());
    env.extend(extra.iter().cloned());
    let borrowed: Vec<(&str, &str)> = env
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    test_config(&borrowed)
}

/// A gateway serving in this process.
#[derive(Debug)]
pub struct RunningGateway {
    /// Where it listens.
    pub address: SocketAddr,
    task: StoppableTask<ServeError>,
}

impl RunningGateway {
    /// Binds and serves the gateway of `config`, with `public_url` as its public base URL.
    pub async fn start(config: Config, public_url: Option<url::Url>) -> anyhow::Result<Self> {
        let metrics = lintas_telemetry::install_metrics_recorder()?;
        let mut settings = GatewaySettings::from_config(&config);
        settings.public_url = public_url;
        let health = lintas_telemetry::Health::new();
        let bound = lintas_gateway::bind(Arc::new(config), settings, metrics, health).await?;
        Ok(Self {
            address: bound.local_addr(),
            task: StoppableTask::spawn(|stopped| bound.serve(stopped)),
        })
    }

    /// `http://<address><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Stops serving (drain and flush) and waits for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.task.stop().await
    }
}

fn consumer(config: &Config) -> anyhow::Result<BaseConsumer> {
    let group = unique_name("gw-reader");
    let consumer: BaseConsumer =
        lintas_kafka::consumer_config(&config.kafka, &config.kafka.bootstrap_servers(), &group)
            .create()?;
    Ok(consumer)
}

/// Records in `topic` (sum of high minus low watermarks over its partitions). Every record a
/// gateway answered 2xx for is counted here, since it answers only after the broker's ack.
pub fn record_count(config: &Config, topic: &str) -> anyhow::Result<i64> {
    let consumer = consumer(config)?;
    let metadata = consumer.fetch_metadata(Some(topic), ADMIN_TIMEOUT)?;
    let mut total = 0;
    for found in metadata
        .topics()
        .iter()
        .filter(|found| found.name() == topic)
    {
        for partition in found.partitions() {
            let (low, high) = consumer.fetch_watermarks(topic, partition.id(), ADMIN_TIMEOUT)?;
            total += high - low;
        }
    }
    Ok(total)
}

/// Reads every record of `topic` from the beginning until `count` were read or `deadline`
/// passes (then fails naming how many arrived).
pub fn read_records(
    config: &Config,
    topic: &str,
    count: usize,
    deadline: Duration,
) -> anyhow::Result<Vec<OwnedMessage>> {
    let consumer = consumer(config)?;
    let metadata = consumer.fetch_metadata(Some(topic), ADMIN_TIMEOUT)?;
    let mut assignment = TopicPartitionList::new();
    for found in metadata
        .topics()
        .iter()
        .filter(|found| found.name() == topic)
    {
        for partition in found.partitions() {
            assignment.add_partition_offset(topic, partition.id(), Offset::Beginning)?;
        }
    }
    consumer.assign(&assignment)?;
    let started = std::time::Instant::now();
    let mut records = Vec::with_capacity(count);
    while records.len() < count {
        anyhow::ensure!(
            started.elapsed() < deadline,
            "read {} of {count} records from {topic} within {deadline:?}",
            records.len()
        );
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            records.push(message?.detach());
        }
    }
    Ok(records)
}

/// The value of header `name` of `message`, as text.
pub fn header(message: &OwnedMessage, name: &str) -> Option<String> {
    use rdkafka::message::Headers as _;
    let headers = message.headers()?;
    headers
        .iter()
        .find(|header| header.key == name)
        .and_then(|header| header.value)
        .map(|value| String::from_utf8_lossy(value).into_owned())
}
