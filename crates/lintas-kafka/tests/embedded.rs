//! The embedded development broker carries events like a real one (in memory).

use lintas_kafka::topics::TopicSpec;
use lintas_kafka::{EmbeddedBroker, EventProducer, consumer_config, producer_config};
use lintas_schema::example::example_event;
use lintas_schema::v1::InteractionEvent;
use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use std::time::Duration;

#[tokio::test]
async fn the_embedded_broker_round_trips_an_event_through_a_consumer_group() {
    let topic = "lintas.interactions.raw.v1";
    let broker = EmbeddedBroker::start(&[TopicSpec::with_retention(
        topic,
        2,
        1,
        Duration::from_secs(60),
    )])
    .expect("mock cluster starts");
    let config = lintas_config::load(None, Default::default()).expect("defaults");
    let bootstrap = broker.bootstrap_servers().to_owned();

    let producer =
        EventProducer::try_new(&producer_config(&config.kafka, &bootstrap)).expect("producer");
    let event = example_event();
    let delivered = producer.send_event(topic, &event).await.expect("acked");

    let consumer: StreamConsumer = consumer_config(&config.kafka, &bootstrap, "embedded-test")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
        .await
        .expect("a record within 30s")
        .expect("no consumer error");
    assert_eq!(message.offset(), delivered.offset);
    let decoded = InteractionEvent::decode(message.payload().expect("payload")).expect("decodes");
    assert_eq!(decoded, event);
    drop(message);
    // Closing a group member against librdkafka 2.12's mock cluster never returns (seen here,
    // with range and cooperative-sticky alike; a real broker closes in milliseconds, see
    // tests/kafka_smoke.rs). The process ends right after, so leaking the handle is harmless.
    std::mem::forget(consumer);
    drop(producer);
}
