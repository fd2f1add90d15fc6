//! Loading and validation, end to end through the three layers.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn toml_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("create a temporary file");
    file.write_all(text.as_bytes())
        .expect("write the temporary file");
    file
}

fn load_env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    load(None, env(pairs))
}

fn load_file(text: &str, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let file = toml_file(text);
    load(Some(file.path()), env(pairs))
}

/// The validation errors of a load that must fail validation.
fn invalid(result: Result<Config, ConfigError>) -> ConfigErrors {
    match result {
        Err(ConfigError::Invalid(errors)) => errors,
        Err(other) => panic!("expected validation errors, got {other}"),
        Ok(_) => panic!("expected validation errors, got a valid configuration"),
    }
}

fn lines(errors: &ConfigErrors) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

const TENANTS: &str = r#"
[tenants.acme]
write_keys = ["acme-key-0123456789", "acme-key-second-abcdef"]
[tenants.acme.webhooks.whatsapp]
app_secret = "whatsapp-app-secret-value"
[tenants.acme.webhooks.stripe]
endpoint_secret = "whsec_stripe-secret-value"

[tenants.globex]
write_keys = ["globex-key-0123456789"]
"#;

#[test]
fn defaults_load_and_validate() {
    let config = load_env(&[]).expect("the defaults are valid");
    assert_eq!(config.telemetry.log_format, LogFormat::Auto);
    assert_eq!(config.telemetry.log_level, "info");
    assert!(config.kafka.is_embedded());
    assert_eq!(config.kafka.bootstrap_servers(), "");
    assert_eq!(config.kafka.topic_raw, "lintas.interactions.raw.v1");
    assert_eq!(config.kafka.compression, Compression::Lz4);
    assert_eq!(config.kafka.linger, Duration::from_millis(5));
    assert_eq!(config.kafka.queue_max_kbytes(), 262_144);
    assert_eq!(config.kafka.security_protocol, SecurityProtocol::Plaintext);
    assert!(config.kafka.sasl.is_none());
    assert!(config.kafka.producer.is_empty());
    assert_eq!(config.clickhouse.url.as_str(), "http://127.0.0.1:8123/");
    assert_eq!(config.gateway.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.gateway.body_limit_bytes.get(), 5_242_880);
    assert_eq!(
        config.gateway.webhook_timestamp_tolerance,
        Duration::from_secs(300)
    );
    assert!(config.tenants.is_empty());
    assert_eq!(config.classifier.rules_path, None);
    assert_eq!(config.sink.batch_max_rows.get(), 50_000);
    assert_eq!(config.sink.ttl(), None);
}

#[test]
fn every_raw_field_is_documented_in_default_toml() {
    let sections: [(&str, &[&str]); 6] = [
        ("telemetry", raw::field_names::<telemetry::RawTelemetry>()),
        ("kafka", raw::field_names::<kafka::RawKafka>()),
        (
            "clickhouse",
            raw::field_names::<clickhouse::RawClickhouse>(),
        ),
        ("gateway", raw::field_names::<gateway::RawGateway>()),
        (
            "classifier",
            raw::field_names::<classifier::RawClassifier>(),
        ),
        ("sink", raw::field_names::<sink::RawSink>()),
    ];
    for (section, fields) in sections {
        for field in fields {
            let documented = DEFAULTS_TOML.lines().any(|line| {
                let line = line.trim_start_matches(['#', ' ']);
                line.starts_with(&format!("{field} ="))
                    || line.starts_with(&format!("[{section}.{field}]"))
            });
            assert!(documented, "{section}.{field} is missing from default.toml");
        }
    }
}

#[test]
fn a_file_overrides_the_defaults() {
    let config = load_file(
        "[kafka]\nbrokers = \"k1:9092,k2:9093\"\n[gateway]\nrate_limit_per_sec = 50\n",
        &[],
    )
    .expect("valid file");
    assert!(!config.kafka.is_embedded());
    assert_eq!(config.kafka.bootstrap_servers(), "k1:9092,k2:9093");
    assert_eq!(config.gateway.rate_limit_per_sec.get(), 50);
    assert_eq!(
        config.gateway.rate_limit_burst.get(),
        2000,
        "untouched default"
    );
}

#[test]
fn the_environment_overrides_the_file() {
    let config = load_file(
        "[kafka]\nbrokers = \"file:9092\"\n[gateway]\nlisten = \"127.0.0.1:1\"\n",
        &[
            ("LINTAS__KAFKA__BROKERS", "env:9092"),
            ("LINTAS__GATEWAY__LISTEN", "0.0.0.0:8081"),
            ("LINTAS__GATEWAY__RATE_LIMIT_PER_SEC", "500"),
            ("PATH", "/usr/bin"),
        ],
    )
    .expect("valid layers");
    assert_eq!(config.kafka.bootstrap_servers(), "env:9092");
    assert_eq!(config.gateway.listen.to_string(), "0.0.0.0:8081");
    assert_eq!(config.gateway.rate_limit_per_sec.get(), 500);
}

#[test]
fn a_broker_list_without_a_port_names_key_value_and_expectation() {
    let errors = invalid(load_env(&[("LINTAS__KAFKA__BROKERS", "no port here")]));
    assert_eq!(
        lines(&errors),
        [
            "kafka.brokers: invalid value \"no port here\": expected a comma-separated list of host:port"
        ]
    );
}

#[test]
fn an_invalid_duration_names_key_value_and_expectation() {
    let errors = invalid(load_env(&[("LINTAS__GATEWAY__REQUEST_TIMEOUT", "abc")]));
    let error = errors
        .get("gateway.request_timeout")
        .expect("error for the key");
    assert_eq!(error.value, "abc");
    assert!(
        error
            .expected
            .contains("a duration such as 500ms, 5s or 1m")
    );
    assert_eq!(errors.len(), 1);
}

#[test]
fn an_unknown_key_in_the_environment_is_an_error_naming_it() {
    let errors = invalid(load_env(&[("LINTAS__KAFKA__BROKER", "k:9092")]));
    assert_eq!(errors.len(), 1);
    let message = errors.0[0].to_string();
    assert!(
        message.starts_with(
            "kafka.broker: unknown field `broker` in `kafka`, expected one of `brokers`"
        ),
        "{message}"
    );
    assert_eq!(errors.0[0].kind, FieldErrorKind::UnknownKey);
}

#[test]
fn an_unknown_key_in_a_file_is_an_error_naming_it() {
    let errors = invalid(load_file(
        "[gateway]\nlisten_addr = \"0.0.0.0:1\"\n[gatway]\n",
        &[],
    ));
    let keys: Vec<&str> = errors.iter().map(|error| error.key.as_str()).collect();
    assert_eq!(keys, ["gatway", "gateway.listen_addr"]);
}

#[test]
fn every_problem_is_reported_together() {
    let errors = invalid(load_file(
        "[sink]\nbatch_max_rows = 0\n",
        &[
            ("LINTAS__KAFKA__BROKERS", "no port here"),
            ("LINTAS__GATEWAY__REQUEST_TIMEOUT", "abc"),
            ("LINTAS__TELEMETRY__LOG_FORMAT", "xml"),
            ("LINTAS__KAFKA__LINGER_MS", "5"),
        ],
    ));
    let keys: Vec<&str> = errors.iter().map(|error| error.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "kafka.linger_ms",
            "telemetry.log_format",
            "kafka.brokers",
            "gateway.request_timeout",
            "sink.batch_max_rows",
        ]
    );
    let message = ConfigError::Invalid(errors).to_string();
    assert!(message.starts_with("invalid configuration (5 problems):\n  kafka.linger_ms"));
}

#[test]
fn secrets_are_masked_in_debug_and_in_printed_toml() {
    let config = load_file(
        TENANTS,
        &[
            ("LINTAS__CLICKHOUSE__PASSWORD", "clickhouse-pw-secret"),
            ("LINTAS__KAFKA__BROKERS", "k:9092"),
            ("LINTAS__KAFKA__SECURITY_PROTOCOL", "sasl_ssl"),
            ("LINTAS__KAFKA__SASL_MECHANISM", "SCRAM-SHA-512"),
            ("LINTAS__KAFKA__SASL_USERNAME", "lintas"),
            ("LINTAS__KAFKA__SASL_PASSWORD", "kafka-pw-secret"),
            (
                "LINTAS__KAFKA__CONSUMER__SSL.KEY.PASSWORD",
                "tls-key-pw-secret",
            ),
        ],
    )
    .expect("valid configuration");
    let secrets = [
        "clickhouse-pw-secret",
        "kafka-pw-secret",
        "tls-key-pw-secret",
        "acme-key-0123456789",
        "globex-key-0123456789",
        "whatsapp-app-secret-value",
        "whsec_stripe",
    ];
    let debug = format!("{config:?}");
    let printed = config.to_toml_masked();
    for secret in secrets {
        assert!(!debug.contains(secret), "{secret} leaked into Debug");
        assert!(!printed.contains(secret), "{secret} leaked into the TOML");
    }
    assert!(printed.contains("password = \"****\""), "{printed}");
    assert!(printed.contains("sasl_username = \"lintas\""), "{printed}");
    assert_eq!(
        config.kafka.consumer["ssl.key.password"],
        "tls-key-pw-secret"
    );
}

#[test]
fn the_printed_toml_of_the_defaults_loads_back_unchanged() {
    let printed = load_env(&[("LINTAS__KAFKA__PRODUCER__SOCKET.KEEPALIVE.ENABLE", "true")])
        .expect("valid")
        .to_toml_masked();
    let reloaded = load_file(&printed, &[]).expect("printed TOML is a valid file");
    assert_eq!(reloaded.to_toml_masked(), printed);
    assert_eq!(reloaded.kafka.producer["socket.keepalive.enable"], "true");
}

#[test]
fn sasl_protocols_require_mechanism_username_and_password() {
    let errors = invalid(load_env(&[
        ("LINTAS__KAFKA__BROKERS", "k:9092"),
        ("LINTAS__KAFKA__SECURITY_PROTOCOL", "sasl_ssl"),
        ("LINTAS__KAFKA__SASL_USERNAME", "lintas"),
    ]));
    let keys: Vec<&str> = errors.iter().map(|error| error.key.as_str()).collect();
    assert_eq!(keys, ["kafka.sasl_mechanism", "kafka.sasl_password"]);
    assert!(errors.0[0].expected.contains("sasl_ssl"));
}

#[test]
fn sasl_settings_without_a_sasl_protocol_are_refused_with_the_password_masked() {
    let errors = invalid(load_env(&[(
        "LINTAS__KAFKA__SASL_PASSWORD",
        "kafka-pw-secret",
    )]));
    assert_eq!(lines(&errors).len(), 1);
    assert_eq!(errors.0[0].key, "kafka.sasl_password");
    assert!(!errors.to_string().contains("kafka-pw-secret"));
}

#[test]
fn a_complete_sasl_configuration_is_accepted() {
    let config = load_env(&[
        ("LINTAS__KAFKA__BROKERS", "k:9092"),
        ("LINTAS__KAFKA__SECURITY_PROTOCOL", "SASL_SSL"),
        ("LINTAS__KAFKA__SASL_MECHANISM", "scram-sha-256"),
        ("LINTAS__KAFKA__SASL_USERNAME", "lintas"),
        ("LINTAS__KAFKA__SASL_PASSWORD", "007"),
    ])
    .expect("valid");
    let sasl = config.kafka.sasl.expect("credentials");
    assert_eq!(sasl.mechanism, SaslMechanism::ScramSha256);
    assert_eq!(
        sasl.password.expose(),
        "007",
        "a numeric-looking secret keeps its text"
    );
}

#[test]
fn the_embedded_broker_requires_plaintext() {
    let errors = invalid(load_env(&[("LINTAS__KAFKA__SECURITY_PROTOCOL", "ssl")]));
    assert_eq!(errors.0[0].key, "kafka.security_protocol");
}

#[test]
fn a_producer_override_of_acks_1_is_rejected() {
    let from_env = invalid(load_env(&[("LINTAS__KAFKA__PRODUCER__ACKS", "1")]));
    assert_eq!(from_env.0[0].key, "kafka.producer.acks");
    assert!(
        from_env.0[0]
            .to_string()
            .starts_with("kafka.producer.acks: invalid value \"1\"")
    );
    let from_file = invalid(load_file("[kafka.producer]\nacks = 1\n", &[]));
    assert_eq!(from_file.0[0].key, "kafka.producer.acks");
}

#[test]
fn message_timeout_must_exceed_linger_and_request_timeout() {
    let errors = invalid(load_env(&[
        ("LINTAS__KAFKA__LINGER", "1s"),
        ("LINTAS__KAFKA__REQUEST_TIMEOUT", "1s"),
        ("LINTAS__KAFKA__MESSAGE_TIMEOUT", "2s"),
    ]));
    assert_eq!(errors.0[0].key, "kafka.message_timeout");
    assert_eq!(errors.0[0].value, "2s");
    assert!(errors.0[0].expected.contains("kafka.linger"));
}

#[test]
fn session_timeout_must_be_less_than_max_poll_interval() {
    let errors = invalid(load_env(&[("LINTAS__KAFKA__SESSION_TIMEOUT", "5m")]));
    assert_eq!(
        lines(&errors),
        [
            "kafka.session_timeout: invalid value \"5m\": expected a duration less than \
          kafka.max_poll_interval (5m)"
        ]
    );
}

#[test]
fn the_transaction_timeout_must_cover_the_message_timeout() {
    let errors = invalid(load_env(&[(
        "LINTAS__CLASSIFIER__TRANSACTION_TIMEOUT",
        "10s",
    )]));
    assert_eq!(errors.0[0].key, "classifier.transaction_timeout");
}

#[test]
fn an_empty_batch_and_a_changelog_sharing_another_topic_are_refused() {
    let errors = invalid(load_env(&[
        ("LINTAS__CLASSIFIER__BATCH_MAX_RECORDS", "0"),
        ("LINTAS__KAFKA__TOPIC_CONTEXT", "lintas.interactions.raw.v1"),
    ]));
    let keys: Vec<&str> = errors.0.iter().map(|error| error.key.as_str()).collect();
    assert!(keys.contains(&"classifier.batch_max_records"), "{keys:?}");
    assert!(keys.contains(&"kafka.topic_context"), "{keys:?}");
}

#[test]
fn write_keys_resolve_to_their_tenant() {
    let config = load_file(
        TENANTS,
        &[(
            "LINTAS__TENANTS__INITECH__WRITE_KEYS",
            "initech-key-0123456789, initech-key-abcdefghij",
        )],
    )
    .expect("valid tenants");
    assert_eq!(
        config.tenant_for_write_key("acme-key-second-abcdef"),
        Some("acme")
    );
    assert_eq!(
        config.tenant_for_write_key("globex-key-0123456789"),
        Some("globex")
    );
    assert_eq!(
        config.tenant_for_write_key("initech-key-abcdefghij"),
        Some("initech")
    );
    assert_eq!(config.tenant_for_write_key("acme-key-012345678"), None);
    assert_eq!(config.tenant_for_write_key(""), None);
    let acme = &config.tenants["acme"];
    let stripe = &acme.webhook_secrets("stripe").expect("stripe secrets")["endpoint_secret"];
    assert_eq!(stripe.expose(), "whsec_stripe-secret-value");
}

#[test]
fn a_write_key_shared_by_two_tenants_is_refused_naming_both_tenants_not_the_key() {
    let errors = invalid(load_file(
        TENANTS,
        &[(
            "LINTAS__TENANTS__GLOBEX__WRITE_KEYS",
            "globex-key-0123456789,acme-key-0123456789",
        )],
    ));
    let message = errors.to_string();
    assert_eq!(errors.len(), 1, "{message}");
    assert!(
        message.contains("tenants.globex.write_keys[1]"),
        "{message}"
    );
    assert!(message.contains("`acme`"), "{message}");
    assert!(!message.contains("acme-key-0123456789"), "{message}");
}

#[test]
fn short_write_keys_and_bad_tenant_ids_are_refused_without_showing_keys() {
    let errors = invalid(load_file(
        "[tenants.Acme]\nwrite_keys = [\"short-key\"]\n",
        &[],
    ));
    let keys: Vec<&str> = errors.iter().map(|error| error.key.as_str()).collect();
    assert_eq!(keys, ["tenants.Acme", "tenants.Acme.write_keys[0]"]);
    assert!(!errors.to_string().contains("short-key"));
}

#[test]
fn a_clickhouse_url_with_credentials_is_refused_and_masked() {
    let errors = invalid(load_env(&[(
        "LINTAS__CLICKHOUSE__URL",
        "http://bob:hunter2@ch:8123",
    )]));
    assert_eq!(errors.0[0].key, "clickhouse.url");
    assert!(!errors.to_string().contains("hunter2"));
}

#[test]
fn a_clickhouse_url_with_a_query_string_is_refused_without_showing_it() {
    let errors = invalid(load_env(&[(
        "LINTAS__CLICKHOUSE__URL",
        "https://ch.example.com:8443/?user=bob&password=hunter2",
    )]));
    assert_eq!(errors.0[0].key, "clickhouse.url");
    let text = errors.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("clickhouse.password"), "{text}");
}

#[test]
fn a_missing_file_is_a_load_error_naming_the_file() {
    let path = Path::new("/nonexistent/lintas.toml");
    match load(Some(path), HashMap::new()) {
        Err(ConfigError::Load { origin, .. }) => assert_eq!(origin, "/nonexistent/lintas.toml"),
        other => panic!("expected a load error, got {other:?}"),
    }
}

#[test]
fn a_toml_syntax_error_names_the_file() {
    let file = toml_file("[kafka\nbrokers = 1\n");
    match load(Some(file.path()), HashMap::new()) {
        Err(error @ ConfigError::Load { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains(&file.path().display().to_string()),
                "{message}"
            );
        }
        other => panic!("expected a load error, got {other:?}"),
    }
}

#[test]
fn a_toml_syntax_error_gives_the_position_without_quoting_the_line() {
    // An unterminated string on a secret's line: the excerpt would print the secret.
    let file = toml_file("[clickhouse]\nurl = \"http://ch:8123\"\npassword = \"s3cr3t-value\n");
    let message = load(Some(file.path()), HashMap::new())
        .expect_err("syntax error")
        .to_string();
    assert!(message.contains("line 3, column"), "{message}");
    assert!(!message.contains("s3cr3t-value"), "{message}");
}

#[test]
fn the_gateway_public_url_is_optional_and_validated() {
    let config = load_env(&[]).expect("defaults");
    assert_eq!(config.gateway.public_url, None);
    let config = load_env(&[("LINTAS__GATEWAY__PUBLIC_URL", "https://ingest.example.com")])
        .expect("valid url");
    assert_eq!(
        config.gateway.public_url.map(|url| url.to_string()),
        Some("https://ingest.example.com/".to_owned())
    );
    let errors = invalid(load_env(&[(
        "LINTAS__GATEWAY__PUBLIC_URL",
        "ingest.example.com",
    )]));
    assert!(
        lines(&errors).iter().any(
            |line| line.starts_with("gateway.public_url: invalid value \"ingest.example.com\"")
        ),
        "{errors:?}"
    );
}
