//! The harness is real: an `InteractionEvent` goes through the real Apache Kafka broker.
#![cfg(feature = "integration")]

use lintas_integration_tests::{test_config, unique_name};
use lintas_kafka::topics::{TopicOutcome, TopicSpec, apply_topics};
use lintas_kafka::{EventProducer, consumer_config, producer_config};
use lintas_schema::example::example_event;
use lintas_schema::v1::InteractionEvent;
use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers;
use std::time::Duration;

#[tokio::test]
async fn an_event_produced_to_the_real_broker_is_consumed_back_unchanged() -> anyhow::Result<()> {
    let config = test_config(&[]);
    let bootstrap = config.kafka.bootstrap_servers();
    let topic = unique_name("smoke");
    let spec = TopicSpec::with_retention(&topic, 3, 1, Duration::from_secs(3600));

    let admin = lintas_kafka::client::base_config(&config.kafka, &bootstrap);
    let outcome =
        apply_topics(&admin, std::slice::from_ref(&spec), Duration::from_secs(30)).await?;
    assert_eq!(outcome, vec![(topic.clone(), TopicOutcome::Created)]);
    // Applying again is idempotent: the topic is reported, not recreated.
    let again = apply_topics(&admin, &[spec], Duration::from_secs(30)).await?;
    assert_eq!(again, vec![(topic.clone(), TopicOutcome::Unchanged)]);

    let producer = EventProducer::try_new(&producer_config(&config.kafka, &bootstrap))?;
    let event = example_event();
    let delivered = producer.send_event(&topic, &event).await?;
    assert!(delivered.offset >= 0);

    let consumer: StreamConsumer =
        consumer_config(&config.kafka, &bootstrap, &unique_name("smoke-group")).create()?;
    consumer.subscribe(&[&topic])?;
    let message = tokio::time::timeout(Duration::from_secs(60), consumer.recv()).await??;
    assert_eq!(message.partition(), delivered.partition);
    assert_eq!(message.offset(), delivered.offset);
    assert_eq!(
        message.key(),
        Some("acme-shop/whatsapp:15555550101".as_bytes())
    );
    let decoded = InteractionEvent::decode(message.payload().unwrap_or_default())?;
    assert_eq!(decoded, event);
    let headers = message.headers().expect("records carry headers");
    let tenant = headers
        .iter()
        .find(|header| header.key == lintas_schema::headers::TENANT)
        .and_then(|header| header.value);
    assert_eq!(tenant, Some("acme-shop".as_bytes()));
    Ok(())
}
