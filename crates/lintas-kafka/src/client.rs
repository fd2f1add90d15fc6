//! librdkafka client configurations built from the validated Lintas config.
//!
//! Raw `kafka.producer.*` / `kafka.consumer.*` overrides are applied first and the delivery
//! guarantees are set after them, so no override can weaken them (the config crate already
//! refuses such overrides at start; this is the second net).

use lintas_config::KafkaConfig;
use rdkafka::ClientConfig;
use std::time::Duration;

/// Settings common to producers, consumers and admin clients: brokers, identity, security.
pub fn base_config(kafka: &KafkaConfig, bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("client.id", &kafka.client_id)
        .set("security.protocol", kafka.security_protocol.as_str())
        .set("socket.timeout.ms", millis(kafka.request_timeout))
        // Without this, a broker that is down at start makes librdkafka log every reconnect.
        .set("log.connection.close", "false");
    if let Some(sasl) = &kafka.sasl {
        config
            .set("sasl.mechanism", sasl.mechanism.as_str())
            .set("sasl.username", &sasl.username)
            .set("sasl.password", sasl.password.expose());
    }
    if let Some(ca) = &kafka.ssl_ca_location {
        config.set("ssl.ca.location", ca.display().to_string());
    }
    config
}

/// An idempotent, `acks=all` producer with a bounded queue.
pub fn producer_config(kafka: &KafkaConfig, bootstrap: &str) -> ClientConfig {
    let mut config = base_config(kafka, bootstrap);
    for (key, value) in &kafka.producer {
        config.set(key, value);
    }
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", kafka.compression.as_str())
        .set("linger.ms", millis(kafka.linger))
        .set("message.timeout.ms", millis(kafka.message_timeout))
        .set(
            "queue.buffering.max.messages",
            kafka.queue_max_messages.to_string(),
        )
        .set(
            "queue.buffering.max.kbytes",
            kafka.queue_max_kbytes().to_string(),
        );
    config
}

/// A consumer in `group_id` that never commits on its own and reads only committed data.
///
/// Cooperative-sticky assignment keeps partitions where they are during a rebalance, so a
/// scaling event pauses only the partitions that move.
pub fn consumer_config(kafka: &KafkaConfig, bootstrap: &str, group_id: &str) -> ClientConfig {
    let mut config = base_config(kafka, bootstrap);
    for (key, value) in &kafka.consumer {
        config.set(key, value);
    }
    config
        .set("group.id", group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", millis(kafka.session_timeout))
        .set("max.poll.interval.ms", millis(kafka.max_poll_interval));
    config
}

fn millis(duration: Duration) -> String {
    duration.as_millis().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn kafka_with(env: &[(&str, &str)]) -> KafkaConfig {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        lintas_config::load(None, env).expect("valid config").kafka
    }

    #[test]
    fn producer_is_idempotent_with_acks_all_and_a_bounded_queue() {
        let config = producer_config(&kafka_with(&[]), "127.0.0.1:9092");
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        assert_eq!(config.get("acks"), Some("all"));
        assert_eq!(config.get("compression.type"), Some("lz4"));
        assert_eq!(config.get("queue.buffering.max.messages"), Some("100000"));
        assert_eq!(config.get("message.timeout.ms"), Some("30000"));
    }

    #[test]
    fn raw_producer_overrides_pass_through_but_cannot_weaken_guarantees() {
        let mut kafka = kafka_with(&[]);
        // Bypass validation on purpose: the builder must still win over a bad override.
        kafka.producer.insert("acks".into(), "1".into());
        kafka.producer.insert("batch.size".into(), "65536".into());
        let config = producer_config(&kafka, "b:9092");
        assert_eq!(config.get("batch.size"), Some("65536"));
        assert_eq!(config.get("acks"), Some("all"));
    }

    #[test]
    fn consumer_never_auto_commits_and_reads_committed() {
        let config = consumer_config(&kafka_with(&[]), "b:9092", "lintas-sink");
        assert_eq!(config.get("group.id"), Some("lintas-sink"));
        assert_eq!(config.get("enable.auto.commit"), Some("false"));
        assert_eq!(config.get("enable.auto.offset.store"), Some("false"));
        assert_eq!(config.get("isolation.level"), Some("read_committed"));
        assert_eq!(
            config.get("partition.assignment.strategy"),
            Some("cooperative-sticky")
        );
    }
}
