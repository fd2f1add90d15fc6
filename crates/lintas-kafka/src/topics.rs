//! Declared topics and `lintas topics apply`: create what is missing, report what differs.
//!
//! Existing topics are never altered or deleted automatically: a partition count or retention
//! that differs from the declaration is reported, because changing partitions remaps keys and
//! breaks per-customer ordering, which only an operator should decide to do.

use crate::KafkaError;
use crate::diagnose::Diagnose;
use lintas_config::{KafkaConfig, TopicsConfig};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::time::{Duration, Instant};

/// One metadata request of [`partition_counts`]; a poll for log lines follows each failure.
const METADATA_ATTEMPT: Duration = Duration::from_millis(500);

/// A topic as Lintas declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Topic name.
    pub name: String,
    /// Number of partitions: the parallelism of the consuming role.
    pub partitions: i32,
    /// Replication factor (3 in production, 1 on a single test broker).
    pub replication: i32,
    /// Topic-level configs such as `retention.ms` or `cleanup.policy`.
    pub configs: Vec<(String, String)>,
}

impl TopicSpec {
    /// A delete-policy topic with the given retention.
    pub fn with_retention(
        name: &str,
        partitions: i32,
        replication: i32,
        retention: Duration,
    ) -> Self {
        Self {
            name: name.to_owned(),
            partitions,
            replication,
            configs: vec![("retention.ms".into(), retention.as_millis().to_string())],
        }
    }

    /// A compacted topic (latest value per key kept), for changelogs of per-key state.
    pub fn compacted(name: &str, partitions: i32, replication: i32) -> Self {
        Self {
            name: name.to_owned(),
            partitions,
            replication,
            configs: vec![("cleanup.policy".into(), "compact".into())],
        }
    }
}

/// The topics every Lintas deployment needs, as configured in `[kafka]` and `[topics]`.
///
/// With three or more replicas, `min.insync.replicas=2` makes `acks=all` mean "on two brokers",
/// so one broker loss never loses an acknowledged event.
pub fn declared_topics(kafka: &KafkaConfig, topics: &TopicsConfig) -> Vec<TopicSpec> {
    let replication = topics.replication_factor;
    let mut specs = vec![
        TopicSpec::with_retention(
            &kafka.topic_raw,
            topics.partitions,
            replication,
            topics.retention,
        ),
        TopicSpec::with_retention(
            &kafka.topic_classified,
            topics.partitions,
            replication,
            topics.retention,
        ),
        // The DLQ is low-volume; a few partitions keep replay simple.
        TopicSpec::with_retention(&kafka.topic_dlq, 3, replication, topics.dlq_retention),
        // The classifier writes each customer's context to the partition number of the raw
        // record it came from, so the changelog must have the raw topic's partition count.
        TopicSpec::compacted(&kafka.topic_context, topics.partitions, replication),
    ];
    if replication >= 3 {
        for spec in &mut specs {
            spec.configs
                .push(("min.insync.replicas".into(), "2".into()));
        }
    }
    specs
}

/// What [`apply_topics`] did for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicOutcome {
    /// The topic did not exist and was created.
    Created,
    /// The topic exists with the declared partition count.
    Unchanged,
    /// The topic exists with another partition count; left as is.
    PartitionsDiffer {
        /// Partitions found on the cluster.
        actual: i32,
    },
}

/// Creates the declared topics that do not exist yet.
pub async fn apply_topics(
    client_config: &ClientConfig,
    specs: &[TopicSpec],
    timeout: Duration,
) -> Result<Vec<(String, TopicOutcome)>, KafkaError> {
    let existing = partition_counts(client_config, timeout)?;
    let admin: AdminClient<DefaultClientContext> =
        client_config.create().map_err(KafkaError::Client)?;
    let missing: Vec<&TopicSpec> = specs
        .iter()
        .filter(|spec| !existing.iter().any(|(name, _)| name == &spec.name))
        .collect();
    let new_topics: Vec<NewTopic<'_>> = missing
        .iter()
        .map(|spec| {
            let mut topic = NewTopic::new(
                &spec.name,
                spec.partitions,
                TopicReplication::Fixed(spec.replication),
            );
            for (key, value) in &spec.configs {
                topic = topic.set(key, value);
            }
            topic
        })
        .collect();
    if !new_topics.is_empty() {
        let options = AdminOptions::new().operation_timeout(Some(timeout));
        let results = admin
            .create_topics(new_topics.iter(), &options)
            .await
            .map_err(|error| KafkaError::Admin(error.to_string()))?;
        for result in results {
            match result {
                Ok(_) => {}
                // Another instance created it between our metadata read and the request.
                Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(KafkaError::Admin(format!("creating topic {name}: {code}")));
                }
            }
        }
    }
    Ok(specs
        .iter()
        .map(|spec| {
            let outcome = match existing.iter().find(|(name, _)| name == &spec.name) {
                None => TopicOutcome::Created,
                Some((_, actual)) if *actual == spec.partitions => TopicOutcome::Unchanged,
                Some((_, actual)) => TopicOutcome::PartitionsDiffer { actual: *actual },
            };
            (spec.name.clone(), outcome)
        })
        .collect())
}

/// Topic names and partition counts on the cluster.
pub fn partition_counts(
    client_config: &ClientConfig,
    timeout: Duration,
) -> Result<Vec<(String, i32)>, KafkaError> {
    let diagnose = Diagnose::default();
    let consumer: BaseConsumer<Diagnose> = client_config
        .create_with_context(diagnose.clone())
        .map_err(KafkaError::Client)?;
    // librdkafka queues its log lines and errors (rust-rdkafka sets `log.queue`): only a poll
    // hands them to the context. So the wait is cut into short requests with a poll between
    // them, and a failure can name the broker's reason.
    let deadline = Instant::now() + timeout;
    let metadata = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match consumer.fetch_metadata(None, left.min(METADATA_ATTEMPT)) {
            Ok(metadata) => break metadata,
            Err(error) => {
                // Not subscribed: a poll returns no record, only serves queued events.
                drop(consumer.poll(Duration::ZERO));
                if Instant::now() >= deadline {
                    return Err(KafkaError::Admin(match diagnose.reason() {
                        Some(cause) => format!("fetching metadata: {error}; broker: {cause}"),
                        None => format!("fetching metadata: {error}"),
                    }));
                }
            }
        }
    };
    Ok(metadata
        .topics()
        .iter()
        .map(|topic| {
            let count = i32::try_from(topic.partitions().len()).unwrap_or(i32::MAX);
            (topic.name().to_owned(), count)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_topics_follow_the_config_and_keep_the_dlq_longer() {
        let config = lintas_config::load(None, Default::default()).expect("defaults are valid");
        let specs = declared_topics(&config.kafka, &config.topics);
        let names: Vec<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "lintas.interactions.raw.v1",
                "lintas.interactions.classified.v1",
                "lintas.interactions.dlq.v1",
                "lintas.classifier.context.v1"
            ]
        );
        assert_eq!(specs[3].partitions, specs[0].partitions);
        assert!(
            specs[3]
                .configs
                .contains(&("cleanup.policy".to_owned(), "compact".to_owned()))
        );
        let retention = |spec: &TopicSpec| {
            spec.configs
                .iter()
                .find(|(key, _)| key == "retention.ms")
                .map(|(_, value)| value.parse::<u64>().expect("number"))
        };
        assert_eq!(retention(&specs[0]), Some(7 * 24 * 3600 * 1000));
        assert_eq!(retention(&specs[2]), Some(30 * 24 * 3600 * 1000));
        assert!(specs.iter().all(|spec| spec.replication == 3));
        assert!(
            specs[0]
                .configs
                .contains(&("min.insync.replicas".to_owned(), "2".to_owned()))
        );
    }
}
