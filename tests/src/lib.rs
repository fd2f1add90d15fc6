//! Shared helpers of the integration tests.
//!
//! The tests behind the `integration` feature talk to the real Kafka broker and ClickHouse server
//! that `scripts/test.sh` (or `scripts/services.sh start`) starts. They read the addresses from
//! the environment and fail with instructions when it is missing: a test that cannot reach its
//! service is a failure, never a skip.

pub mod classifier;
pub mod gateway;
pub mod outage;
pub mod process;
pub mod sink;
pub mod task;
pub mod warehouse;

use std::future::Future;
use std::time::{Duration, Instant};

/// Env var naming the real broker's bootstrap servers.
pub const KAFKA_ENV: &str = "LINTAS_TEST_KAFKA_BROKERS";
/// Env var naming the real ClickHouse server's HTTP URL.
pub const CLICKHOUSE_ENV: &str = "LINTAS_TEST_CLICKHOUSE_URL";

/// The value of `name`, or a panic saying how to start the services that set it.
pub fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => panic!(
            "{name} is not set: integration tests need the real services; run ./scripts/test.sh, \
             or ./scripts/services.sh start && source target/services/env"
        ),
    }
}

/// Bootstrap servers of the real test broker.
pub fn kafka_brokers() -> String {
    required_env(KAFKA_ENV)
}

/// HTTP URL of the real test ClickHouse server.
pub fn clickhouse_url() -> String {
    required_env(CLICKHOUSE_ENV)
}

/// HTTPS URL of the same server, its certificate signed by the CA of [`clickhouse_ca`].
pub fn clickhouse_https_url() -> String {
    required_env("LINTAS_TEST_CLICKHOUSE_HTTPS_URL")
}

/// Path of the PEM CA certificate that signed the test server's https certificate.
pub fn clickhouse_ca() -> String {
    required_env("LINTAS_TEST_CLICKHOUSE_CA")
}

/// A name no other test run uses, for topics, groups, tables and databases.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// A validated Lintas config pointing at the real test broker and ClickHouse, plus `extra` env.
pub fn test_config(extra: &[(&str, &str)]) -> lintas_config::Config {
    let mut env = std::collections::HashMap::new();
    env.insert("LINTAS__KAFKA__BROKERS".to_owned(), kafka_brokers());
    if let Ok(url) = std::env::var(CLICKHOUSE_ENV) {
        env.insert("LINTAS__CLICKHOUSE__URL".to_owned(), url);
    }
    for (key, value) in extra {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    match lintas_config::load(None, env) {
        Ok(config) => config,
        Err(error) => panic!("test config is invalid: {error}"),
    }
}

/// Polls `probe` until it yields `Some` or `deadline` passes; tests wait this way, never by sleeping
/// a fixed time.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            started.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
