//! `[kafka]`: brokers, topics, and the producer/consumer settings every role shares.
//!
//! An empty `brokers` list selects librdkafka's in-process mock cluster, for the quickstart and
//! development only (ARCHITECTURE.md §6). Durations map to librdkafka's millisecond properties
//! and are bounded by librdkafka's own ranges, so a value accepted here is accepted by librdkafka.

mod overrides;
mod types;

use std::collections::BTreeMap;
use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validator::{Validator, render};
use overrides::{Client, MaskedOverrides};
pub use types::{BrokerAddr, Compression, KafkaSasl, SaslMechanism, SecurityProtocol};

/// librdkafka's limit for millisecond properties such as `message.timeout.ms`.
const MAX_KAFKA_MS: Duration = Duration::from_millis(i32::MAX as u64);
/// librdkafka's limits for `linger.ms`, `request.timeout.ms`, `session.timeout.ms` and
/// `max.poll.interval.ms`.
const MAX_LINGER: Duration = Duration::from_secs(900);
const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(900);
const MAX_SESSION_TIMEOUT: Duration = Duration::from_secs(3600);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(86_400);
/// librdkafka's `queue.buffering.max.kbytes` is at most `i32::MAX` kibibytes.
const MAX_QUEUE_BYTES: u64 = i32::MAX as u64 * 1024;
const BROKERS_EXPECTED: &str = "a comma-separated list of host:port";
const TOPIC_EXPECTED: &str =
    "a Kafka topic name: 1 to 249 of the characters a-z A-Z 0-9 . _ -, and not . or ..";

/// Kafka connection, topics and client tuning shared by every role.
#[derive(Clone, Serialize)]
pub struct KafkaConfig {
    /// `kafka.brokers`: bootstrap brokers; empty starts the embedded mock broker (development).
    #[serde(serialize_with = "serialize_brokers")]
    pub brokers: Vec<BrokerAddr>,
    /// `kafka.client_id`: `client.id` of every client, shown in broker logs and quotas.
    pub client_id: String,
    /// `kafka.topic_raw`: events as accepted by the gateway.
    pub topic_raw: String,
    /// `kafka.topic_classified`: events with their classification.
    pub topic_classified: String,
    /// `kafka.topic_dlq`: records no stage could process, with reason headers.
    pub topic_dlq: String,
    /// `kafka.topic_context`: compacted changelog of the classifier's per-customer context,
    /// partitioned like `topic_raw`.
    pub topic_context: String,
    /// `kafka.compression`: producer codec.
    pub compression: Compression,
    /// `kafka.linger`: how long the producer waits to fill a batch (`linger.ms`).
    #[serde(with = "humantime_serde")]
    pub linger: Duration,
    /// `kafka.message_timeout`: how long a produced message may take to be acknowledged,
    /// retries included, before it fails (`message.timeout.ms`).
    #[serde(with = "humantime_serde")]
    pub message_timeout: Duration,
    /// `kafka.queue_max_messages`: producer queue bound in messages; beyond it, `QueueFull`.
    pub queue_max_messages: NonZeroU32,
    /// `kafka.queue_max_bytes`: producer queue bound in bytes; see [`Self::queue_max_kbytes`].
    pub queue_max_bytes: NonZeroU64,
    /// `kafka.request_timeout`: how long one produce request waits for the broker's ack.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// `kafka.session_timeout`: a consumer silent this long is removed from its group.
    #[serde(with = "humantime_serde")]
    pub session_timeout: Duration,
    /// `kafka.max_poll_interval`: longest time between two polls of a consumer.
    #[serde(with = "humantime_serde")]
    pub max_poll_interval: Duration,
    /// `kafka.security_protocol`.
    pub security_protocol: SecurityProtocol,
    /// `kafka.sasl_*`: credentials, exactly when `security_protocol` is `sasl_*`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub sasl: Option<KafkaSasl>,
    /// `kafka.ssl_ca_location`: CA certificate file for TLS; `None` uses the system store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_ca_location: Option<PathBuf>,
    /// `kafka.producer.*`: extra librdkafka producer properties, applied verbatim.
    #[serde(serialize_with = "overrides::serialize_masked")]
    pub producer: BTreeMap<String, String>,
    /// `kafka.consumer.*`: extra librdkafka consumer properties, applied verbatim.
    #[serde(serialize_with = "overrides::serialize_masked")]
    pub consumer: BTreeMap<String, String>,
}

impl KafkaConfig {
    /// The `bootstrap.servers` value: brokers joined by commas (empty when embedded).
    pub fn bootstrap_servers(&self) -> String {
        let brokers: Vec<String> = self.brokers.iter().map(ToString::to_string).collect();
        brokers.join(",")
    }

    /// Whether no broker is configured, so the embedded mock broker must be started.
    pub fn is_embedded(&self) -> bool {
        self.brokers.is_empty()
    }

    /// `queue_max_bytes` in kibibytes, rounded up, for `queue.buffering.max.kbytes`.
    pub fn queue_max_kbytes(&self) -> u64 {
        self.queue_max_bytes.get().div_ceil(1024)
    }
}

/// Written out by hand so that secret override properties are masked; the destructuring keeps
/// it in step with the fields.
impl fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            brokers,
            client_id,
            topic_raw,
            topic_classified,
            topic_dlq,
            topic_context,
            compression,
            linger,
            message_timeout,
            queue_max_messages,
            queue_max_bytes,
            request_timeout,
            session_timeout,
            max_poll_interval,
            security_protocol,
            sasl,
            ssl_ca_location,
            producer,
            consumer,
        } = self;
        f.debug_struct("KafkaConfig")
            .field("brokers", brokers)
            .field("client_id", client_id)
            .field("topic_raw", topic_raw)
            .field("topic_classified", topic_classified)
            .field("topic_dlq", topic_dlq)
            .field("topic_context", topic_context)
            .field("compression", compression)
            .field("linger", linger)
            .field("message_timeout", message_timeout)
            .field("queue_max_messages", queue_max_messages)
            .field("queue_max_bytes", queue_max_bytes)
            .field("request_timeout", request_timeout)
            .field("session_timeout", session_timeout)
            .field("max_poll_interval", max_poll_interval)
            .field("security_protocol", security_protocol)
            .field("sasl", sasl)
            .field("ssl_ca_location", ssl_ca_location)
            .field("producer", &MaskedOverrides(producer))
            .field("consumer", &MaskedOverrides(consumer))
            .finish()
    }
}

/// Brokers print as the comma-separated string they are read from, so printed configuration
/// loads back unchanged.
fn serialize_brokers<S: serde::Serializer>(
    brokers: &[BrokerAddr],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let joined: Vec<String> = brokers.iter().map(ToString::to_string).collect();
    serializer.serialize_str(&joined.join(","))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawKafka {
    brokers: Value,
    client_id: Value,
    topic_raw: Value,
    topic_classified: Value,
    topic_dlq: Value,
    topic_context: Value,
    compression: Value,
    linger: Value,
    message_timeout: Value,
    queue_max_messages: Value,
    queue_max_bytes: Value,
    request_timeout: Value,
    session_timeout: Value,
    max_poll_interval: Value,
    security_protocol: Value,
    sasl_mechanism: Value,
    sasl_username: Value,
    sasl_password: Value,
    ssl_ca_location: Value,
    producer: Value,
    consumer: Value,
}

pub(crate) fn validate(raw: RawKafka, v: &mut Validator) -> Option<KafkaConfig> {
    let brokers = validate_brokers(&raw.brokers, v);
    let client_id = v.non_empty_string("kafka.client_id", &raw.client_id);
    let topic_raw = validate_topic("kafka.topic_raw", &raw.topic_raw, v);
    let topic_classified = validate_topic("kafka.topic_classified", &raw.topic_classified, v);
    let topic_dlq = validate_topic("kafka.topic_dlq", &raw.topic_dlq, v);
    let topic_context = validate_topic("kafka.topic_context", &raw.topic_context, v);
    let compression = v.choice("kafka.compression", &raw.compression);
    let linger = v.duration("kafka.linger", &raw.linger, MAX_LINGER);
    let message_timeout =
        v.positive_duration("kafka.message_timeout", &raw.message_timeout, MAX_KAFKA_MS);
    let queue_max_messages = v.integer(
        "kafka.queue_max_messages",
        &raw.queue_max_messages,
        1,
        i32::MAX as u64,
    );
    let queue_max_bytes = v.integer(
        "kafka.queue_max_bytes",
        &raw.queue_max_bytes,
        1024,
        MAX_QUEUE_BYTES,
    );
    let request_timeout = v.positive_duration(
        "kafka.request_timeout",
        &raw.request_timeout,
        MAX_REQUEST_TIMEOUT,
    );
    let session_timeout = v.positive_duration(
        "kafka.session_timeout",
        &raw.session_timeout,
        MAX_SESSION_TIMEOUT,
    );
    let max_poll_interval = v.positive_duration(
        "kafka.max_poll_interval",
        &raw.max_poll_interval,
        MAX_POLL_INTERVAL,
    );
    let security_protocol =
        v.choice::<SecurityProtocol>("kafka.security_protocol", &raw.security_protocol);
    let sasl = security_protocol.and_then(|protocol| validate_sasl(protocol, &raw, v));
    let ssl_ca_location = v.optional_path("kafka.ssl_ca_location", &raw.ssl_ca_location);
    let producer = overrides::validate(Client::Producer, &raw.producer, v);
    let consumer = overrides::validate(Client::Consumer, &raw.consumer, v);

    if let (Some(linger), Some(request_timeout), Some(message_timeout)) =
        (linger, request_timeout, message_timeout)
        && message_timeout <= linger + request_timeout
    {
        v.invalid(
            "kafka.message_timeout",
            render(&raw.message_timeout),
            format!(
                "a duration greater than kafka.linger + kafka.request_timeout ({}), so a message \
                 can wait out the linger and still be retried after a timed-out request",
                humantime::format_duration(linger + request_timeout)
            ),
        );
    }
    if let (Some(session), Some(poll)) = (session_timeout, max_poll_interval)
        && session >= poll
    {
        v.invalid(
            "kafka.session_timeout",
            render(&raw.session_timeout),
            format!(
                "a duration less than kafka.max_poll_interval ({})",
                humantime::format_duration(poll)
            ),
        );
    }
    if let (Some(protocol), Some(Some(_))) = (security_protocol, &ssl_ca_location)
        && !protocol.uses_tls()
    {
        v.invalid(
            "kafka.ssl_ca_location",
            render(&raw.ssl_ca_location),
            "no value unless kafka.security_protocol is ssl or sasl_ssl",
        );
    }
    if let (Some(brokers), Some(protocol)) = (&brokers, security_protocol)
        && brokers.is_empty()
        && protocol != SecurityProtocol::Plaintext
    {
        v.invalid(
            "kafka.security_protocol",
            render(&raw.security_protocol),
            "plaintext while kafka.brokers is empty (the embedded broker speaks only plaintext)",
        );
    }
    if let (Some(raw_topic), Some(classified), Some(dlq), Some(context)) =
        (&topic_raw, &topic_classified, &topic_dlq, &topic_context)
        && [raw_topic, classified, dlq].contains(&context)
    {
        v.invalid(
            "kafka.topic_context",
            context,
            "a topic other than kafka.topic_raw, kafka.topic_classified and kafka.topic_dlq",
        );
    }
    if let (Some(raw_topic), Some(classified), Some(dlq)) =
        (&topic_raw, &topic_classified, &topic_dlq)
    {
        if classified == raw_topic {
            v.invalid(
                "kafka.topic_classified",
                classified,
                "a topic other than kafka.topic_raw",
            );
        }
        if dlq == raw_topic || dlq == classified {
            v.invalid(
                "kafka.topic_dlq",
                dlq,
                "a topic other than kafka.topic_raw and kafka.topic_classified",
            );
        }
    }

    Some(KafkaConfig {
        brokers: brokers?,
        client_id: client_id?,
        topic_raw: topic_raw?,
        topic_classified: topic_classified?,
        topic_dlq: topic_dlq?,
        topic_context: topic_context?,
        compression: compression?,
        linger: linger?,
        message_timeout: message_timeout?,
        queue_max_messages: queue_max_messages?,
        queue_max_bytes: queue_max_bytes?,
        request_timeout: request_timeout?,
        session_timeout: session_timeout?,
        max_poll_interval: max_poll_interval?,
        security_protocol: security_protocol?,
        sasl: sasl?,
        ssl_ca_location: ssl_ca_location?,
        producer: producer?,
        consumer: consumer?,
    })
}

/// The whole value is reported when any entry is bad, as the operator wrote it.
fn validate_brokers(raw: &Value, v: &mut Validator) -> Option<Vec<BrokerAddr>> {
    let entries = v.list("kafka.brokers", raw, BROKERS_EXPECTED, false)?;
    let brokers: Option<Vec<BrokerAddr>> = entries
        .iter()
        .map(|entry| BrokerAddr::parse(entry))
        .collect();
    if brokers.is_none() {
        v.invalid("kafka.brokers", render(raw), BROKERS_EXPECTED);
    }
    brokers
}

fn validate_topic(key: &str, raw: &Value, v: &mut Validator) -> Option<String> {
    let topic = v.restricted_string(key, raw, TOPIC_EXPECTED, 249, |_, c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
    })?;
    if topic == "." || topic == ".." {
        v.invalid(key, topic, TOPIC_EXPECTED);
        return None;
    }
    Some(topic)
}

/// `Some(None)` for non-SASL protocols (with every `sasl_*` key unset), `Some(Some(..))` with
/// complete credentials for SASL ones; `None` after recording errors.
fn validate_sasl(
    protocol: SecurityProtocol,
    raw: &RawKafka,
    v: &mut Validator,
) -> Option<Option<KafkaSasl>> {
    let keys = [
        ("kafka.sasl_mechanism", &raw.sasl_mechanism, false),
        ("kafka.sasl_username", &raw.sasl_username, false),
        ("kafka.sasl_password", &raw.sasl_password, true),
    ];
    let is_set = |value: &Value| !render(value).is_empty();
    let mut complete = true;
    for (key, value, secret) in keys {
        let shown = if secret {
            crate::MASK.to_owned()
        } else {
            render(value)
        };
        if protocol.uses_sasl() && !is_set(value) {
            v.invalid(
                key,
                "",
                format!("a value, since kafka.security_protocol is {protocol}"),
            );
            complete = false;
        } else if !protocol.uses_sasl() && is_set(value) {
            v.invalid(
                key,
                shown,
                "no value unless kafka.security_protocol is sasl_plaintext or sasl_ssl",
            );
            complete = false;
        }
    }
    if !protocol.uses_sasl() {
        return complete.then_some(None);
    }
    if !complete {
        return None;
    }
    let mechanism = v.choice("kafka.sasl_mechanism", &raw.sasl_mechanism);
    let username = v.non_empty_string("kafka.sasl_username", &raw.sasl_username);
    let password = v.secret("kafka.sasl_password", &raw.sasl_password);
    Some(Some(KafkaSasl {
        mechanism: mechanism?,
        username: username?,
        password: password?,
    }))
}
