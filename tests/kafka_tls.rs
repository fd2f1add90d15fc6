//! Kafka as production brokers run it: TLS with a certificate from a private CA
//! (`kafka.ssl_ca_location`) and SASL (`PLAIN`, `SCRAM-SHA-256`), through the same client
//! configurations the roles use. The test broker's SASL_SSL listener and its CA are made by
//! `scripts/lib/kafka.sh` for this run.
#![cfg(feature = "integration")]

use std::collections::HashMap;
use std::time::Duration;

use lintas_integration_tests::{required_env, unique_name};
use lintas_kafka::topics::{TopicOutcome, TopicSpec, apply_topics};
use lintas_kafka::{EventProducer, consumer_config, producer_config};
use lintas_schema::example::example_event;
use lintas_schema::v1::InteractionEvent;
use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};

/// A validated config for the SASL_SSL listener; `ca` unset trusts only the system store.
fn secured(mechanism: &str, password: &str, ca: Option<String>) -> lintas_config::Config {
    let mut vars = HashMap::from([
        (
            "LINTAS__KAFKA__BROKERS".to_owned(),
            required_env("LINTAS_TEST_KAFKA_SASL_SSL_BROKERS"),
        ),
        (
            "LINTAS__KAFKA__SECURITY_PROTOCOL".to_owned(),
            "sasl_ssl".to_owned(),
        ),
        (
            "LINTAS__KAFKA__SASL_MECHANISM".to_owned(),
            mechanism.to_owned(),
        ),
        (
            "LINTAS__KAFKA__SASL_USERNAME".to_owned(),
            required_env("LINTAS_TEST_KAFKA_SASL_USER"),
        ),
        (
            "LINTAS__KAFKA__SASL_PASSWORD".to_owned(),
            password.to_owned(),
        ),
    ]);
    if let Some(ca) = ca {
        vars.insert("LINTAS__KAFKA__SSL_CA_LOCATION".to_owned(), ca);
    }
    lintas_config::load(None, vars).unwrap_or_else(|error| panic!("config: {error}"))
}

/// Topics on the cluster through `config`'s base client settings, or the error with the
/// broker's reason (`lintas_kafka::diagnose`).
fn metadata(config: &lintas_config::Config) -> Result<usize, String> {
    let bootstrap = config.kafka.bootstrap_servers();
    let admin = lintas_kafka::client::base_config(&config.kafka, &bootstrap);
    lintas_kafka::topics::partition_counts(&admin, Duration::from_secs(10))
        .map(|topics| topics.len())
        .map_err(|error| error.to_string())
}

#[tokio::test]
async fn events_round_trip_over_tls_with_plain_and_scram() -> anyhow::Result<()> {
    let password = required_env("LINTAS_TEST_KAFKA_SASL_PASSWORD");
    for mechanism in ["PLAIN", "SCRAM-SHA-256"] {
        let config = secured(
            mechanism,
            &password,
            Some(required_env("LINTAS_TEST_KAFKA_CA")),
        );
        let bootstrap = config.kafka.bootstrap_servers();
        let topic = unique_name("tls");
        let spec = TopicSpec::with_retention(&topic, 1, 1, Duration::from_secs(3600));
        let admin = lintas_kafka::client::base_config(&config.kafka, &bootstrap);
        let outcome = apply_topics(&admin, &[spec], Duration::from_secs(30)).await?;
        assert_eq!(outcome, vec![(topic.clone(), TopicOutcome::Created)]);

        let producer = EventProducer::try_new(&producer_config(&config.kafka, &bootstrap))?;
        let event = example_event();
        let delivered = producer.send_event(&topic, &event).await?;

        let consumer: StreamConsumer =
            consumer_config(&config.kafka, &bootstrap, &unique_name("tls-group")).create()?;
        consumer.subscribe(&[&topic])?;
        let message = tokio::time::timeout(Duration::from_secs(60), consumer.recv()).await??;
        assert_eq!(message.offset(), delivered.offset, "{mechanism}");
        let decoded = InteractionEvent::decode(message.payload().unwrap_or_default())?;
        assert_eq!(decoded, event, "{mechanism}");
    }
    Ok(())
}

#[test]
fn a_wrong_password_and_an_unknown_ca_are_refused() {
    let password = required_env("LINTAS_TEST_KAFKA_SASL_PASSWORD");
    let ca = || Some(required_env("LINTAS_TEST_KAFKA_CA"));
    // The control: the same call with the right settings succeeds, so the failures below are
    // the broker's and TLS's refusals, not a dead listener.
    assert!(metadata(&secured("SCRAM-SHA-256", &password, ca())).is_ok());
    for mechanism in ["PLAIN", "SCRAM-SHA-256"] {
        let wrong = secured(mechanism, "not-the-password", ca());
        let error = metadata(&wrong).expect_err("a wrong password is refused");
        // The reason comes through, not only "Broker transport failure".
        assert!(
            error.contains("SASL authentication error"),
            "{mechanism}: {error}"
        );
    }
    let untrusted = secured("PLAIN", &password, None);
    let error = metadata(&untrusted).expect_err("a certificate from an unknown CA is refused");
    assert!(error.contains("certificate verify failed"), "{error}");
}
