//! `[kafka.producer]` and `[kafka.consumer]`: raw librdkafka properties, with guard rails.
//!
//! Overrides reach librdkafka verbatim, after the settings Lintas derives itself. Three kinds of
//! keys are refused, each with an error naming the key:
//! - keys that have a dedicated setting (`linger.ms` is `kafka.linger`), so there is one place to
//!   look and no question which wins;
//! - values that would break the delivery guarantee (ARCHITECTURE.md §3): a producer without
//!   idempotence or with `acks` other than `all`, a consumer that stores offsets before the effect
//!   is durable or reads uncommitted transactional records;
//! - malformed keys.
//!
//! Property names contain dots. In a file, quote them: `"socket.keepalive.enable" = "true"`. From
//! the environment, write the dots: `LINTAS__KAFKA__PRODUCER__SOCKET.KEEPALIVE.ENABLE=true` (the
//! `config` crate turns the dots into nested tables, which are joined back here; when both forms
//! name one property, the environment's wins).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::sensitive::MASK;
use crate::validator::{Validator, render, scalar_text};

/// Which librdkafka client an override table configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Client {
    Producer,
    Consumer,
}

impl Client {
    fn section(self) -> &'static str {
        match self {
            Self::Producer => "kafka.producer",
            Self::Consumer => "kafka.consumer",
        }
    }
}

/// Properties derived from dedicated settings, for both clients: (property, setting to use).
const OWNED_BY_BOTH: &[(&str, &str)] = &[
    ("bootstrap.servers", "kafka.brokers"),
    ("metadata.broker.list", "kafka.brokers"),
    ("client.id", "kafka.client_id"),
    ("security.protocol", "kafka.security_protocol"),
    ("sasl.mechanism", "kafka.sasl_mechanism"),
    ("sasl.mechanisms", "kafka.sasl_mechanism"),
    ("sasl.username", "kafka.sasl_username"),
    ("sasl.password", "kafka.sasl_password"),
    ("ssl.ca.location", "kafka.ssl_ca_location"),
];

const OWNED_BY_PRODUCER: &[(&str, &str)] = &[
    ("compression.type", "kafka.compression"),
    ("compression.codec", "kafka.compression"),
    ("linger.ms", "kafka.linger"),
    ("queue.buffering.max.ms", "kafka.linger"),
    ("message.timeout.ms", "kafka.message_timeout"),
    ("delivery.timeout.ms", "kafka.message_timeout"),
    ("queue.buffering.max.messages", "kafka.queue_max_messages"),
    ("queue.buffering.max.kbytes", "kafka.queue_max_bytes"),
    ("request.timeout.ms", "kafka.request_timeout"),
    ("transaction.timeout.ms", "classifier.transaction_timeout"),
    ("transactional.id", "the classifier (one id per instance)"),
];

const OWNED_BY_CONSUMER: &[(&str, &str)] = &[
    ("group.id", "classifier.group_id or sink.group_id"),
    ("session.timeout.ms", "kafka.session_timeout"),
    ("max.poll.interval.ms", "kafka.max_poll_interval"),
];

/// Properties the delivery guarantee depends on: (property, accepted values, expectation).
const GUARDED_BY_PRODUCER: &[(&str, &[&str], &str)] = &[
    (
        "enable.idempotence",
        &["true"],
        "true (or no override): the producer must be idempotent so retries never duplicate",
    ),
    (
        "acks",
        &["all", "-1"],
        "all (or no override): a write is acknowledged only once every in-sync replica has it",
    ),
    (
        "request.required.acks",
        &["all", "-1"],
        "all (or no override): a write is acknowledged only once every in-sync replica has it",
    ),
];

const GUARDED_BY_CONSUMER: &[(&str, &[&str], &str)] = &[
    (
        "enable.auto.offset.store",
        &["false"],
        "false (or no override): offsets are stored only after the effect is durable",
    ),
    (
        "isolation.level",
        &["read_committed"],
        "read_committed (or no override): aborted transactional records must stay invisible",
    ),
];

/// Whether a property holds a secret: its value is masked in errors, `Debug` and printed
/// configuration. Matches librdkafka's password, secret, key-material and JAAS properties.
pub(crate) fn is_secret_property(name: &str) -> bool {
    [
        "password",
        "secret",
        "jaas",
        "token",
        ".pem",
        "oauthbearer.config",
    ]
    .iter()
    .any(|marker| name.contains(marker))
}

/// Reads an override table into property -> value, recording every refused entry.
pub(crate) fn validate(
    client: Client,
    raw: &Value,
    v: &mut Validator,
) -> Option<BTreeMap<String, String>> {
    let section = client.section();
    let table = match raw {
        Value::Null => return Some(BTreeMap::new()),
        Value::Object(table) => table,
        _ => {
            v.invalid(
                section,
                render(raw),
                "a table of librdkafka property -> value",
            );
            return None;
        }
    };
    let mut flattened = BTreeMap::new();
    flatten("", table, 0, &mut flattened);

    let mut overrides = BTreeMap::new();
    let mut valid = true;
    for (name, (value, _depth)) in flattened {
        let key = format!("{section}.{name}");
        let shown = |text: &str| {
            if is_secret_property(&name) {
                MASK.to_owned()
            } else {
                text.to_owned()
            }
        };
        let Some(text) = scalar_text(&value) else {
            v.invalid(&key, shown(&render(&value)), "a string, number or boolean");
            valid = false;
            continue;
        };
        if let Some(problem) = check_property(client, &name, &text) {
            v.invalid(&key, shown(&text), problem.to_string());
            valid = false;
            continue;
        }
        overrides.insert(name, text);
    }
    valid.then_some(overrides)
}

/// Joins nested tables back into dotted names. Each entry remembers how many tables it was nested
/// in; on a name collision the deeper one wins, because only environment variables produce a
/// table per dot (files quote dotted names) and the environment outranks files.
fn flatten(
    prefix: &str,
    table: &serde_json::Map<String, Value>,
    depth: usize,
    out: &mut BTreeMap<String, (Value, usize)>,
) {
    for (name, value) in table {
        let full_name = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            Value::Object(nested) => flatten(&full_name, nested, depth + 1, out),
            _ => {
                let keep_existing = out
                    .get(&full_name)
                    .is_some_and(|(_, existing_depth)| *existing_depth > depth);
                if !keep_existing {
                    out.insert(full_name, (value.clone(), depth));
                }
            }
        }
    }
}

/// Why an override is refused.
enum Refusal {
    Malformed,
    Owned(&'static str),
    Guarded(&'static str),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str(
                "a librdkafka property name (letters, digits, dots and underscores) with a value",
            ),
            Self::Owned(setting) => write!(f, "no override: this property is set from {setting}"),
            Self::Guarded(expected) => f.write_str(expected),
        }
    }
}

fn check_property(client: Client, name: &str, value: &str) -> Option<Refusal> {
    let well_formed = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
    if !well_formed {
        return Some(Refusal::Malformed);
    }
    let (owned, guarded) = match client {
        Client::Producer => (OWNED_BY_PRODUCER, GUARDED_BY_PRODUCER),
        Client::Consumer => (OWNED_BY_CONSUMER, GUARDED_BY_CONSUMER),
    };
    if let Some((_, setting)) = OWNED_BY_BOTH
        .iter()
        .chain(owned)
        .find(|(property, _)| *property == name)
    {
        return Some(Refusal::Owned(setting));
    }
    guarded
        .iter()
        .find(|(property, _, _)| *property == name)
        .filter(|(_, accepted, _)| {
            !accepted
                .iter()
                .any(|accepted| accepted.eq_ignore_ascii_case(value.trim()))
        })
        .map(|(_, _, expected)| Refusal::Guarded(expected))
}

/// Serializes overrides with secret properties masked.
pub(crate) fn serialize_masked<S: serde::Serializer>(
    overrides: &BTreeMap<String, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(overrides.iter().map(|(name, value)| {
        let shown = if is_secret_property(name) {
            MASK
        } else {
            value.as_str()
        };
        (name, shown)
    }))
}

/// `Debug` view of overrides with secret properties masked.
pub(crate) struct MaskedOverrides<'a>(pub(crate) &'a BTreeMap<String, String>);

impl fmt::Debug for MaskedOverrides<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(name, value)| {
                let shown = if is_secret_property(name) {
                    MASK
                } else {
                    value.as_str()
                };
                (name, shown)
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn errors_of(client: Client, raw: Value) -> Vec<String> {
        let mut v = Validator::default();
        let result = validate(client, &raw, &mut v);
        match v.finish(result) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn nested_tables_from_the_environment_are_joined_into_dotted_names() {
        let mut v = Validator::default();
        let raw = json!({ "socket": { "keepalive": { "enable": "true" } }, "retries": 5 });
        let overrides = validate(Client::Producer, &raw, &mut v).unwrap_or_default();
        assert_eq!(overrides["socket.keepalive.enable"], "true");
        assert_eq!(overrides["retries"], "5");
    }

    #[test]
    fn the_environment_form_wins_over_the_quoted_file_form() {
        let mut v = Validator::default();
        let raw = json!({ "batch.size": "1", "batch": { "size": "2" } });
        let overrides = validate(Client::Producer, &raw, &mut v).unwrap_or_default();
        assert_eq!(overrides["batch.size"], "2");
    }

    #[test]
    fn acks_all_and_idempotence_on_are_accepted() {
        let raw = json!({ "acks": "all", "enable.idempotence": true });
        assert!(errors_of(Client::Producer, raw).is_empty());
    }

    #[test]
    fn disabling_idempotence_is_refused() {
        let errors = errors_of(Client::Producer, json!({ "enable.idempotence": "false" }));
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("kafka.producer.enable.idempotence: invalid value \"false\"")
        );
    }

    #[test]
    fn a_property_with_a_dedicated_setting_names_that_setting() {
        let errors = errors_of(Client::Consumer, json!({ "group": { "id": "x" } }));
        assert_eq!(
            errors,
            [
                "kafka.consumer.group.id: invalid value \"x\": expected no override: \
              this property is set from classifier.group_id or sink.group_id"
            ]
        );
    }

    #[test]
    fn consumers_must_not_store_offsets_before_the_effect_is_durable() {
        let errors = errors_of(
            Client::Consumer,
            json!({ "enable.auto.offset.store": "true" }),
        );
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn secret_properties_are_masked_in_errors_and_debug() {
        let errors = errors_of(Client::Consumer, json!({ "ssl.key.password": ["hunter2"] }));
        assert_eq!(errors.len(), 1);
        assert!(!errors[0].contains("hunter2"));
        let map = BTreeMap::from([("ssl.key.password".to_owned(), "hunter2".to_owned())]);
        assert!(!format!("{:?}", MaskedOverrides(&map)).contains("hunter2"));
    }
}
