//! Phase one: the merged layers as raw values, with every unknown key reported.
//!
//! The raw structs hold `serde_json::Value` leaves rather than typed fields. Deserialization then
//! cannot fail on a wrong type (the `config` crate would report only the first such error, and
//! without the value); [`validate`](crate::validate) parses every leaf and names key, value and
//! expectation. `#[serde(deny_unknown_fields)]` stays on every raw struct as the schema's
//! backstop, but unknown keys are found before deserializing, so all of them are reported
//! together instead of only the first.

use std::collections::BTreeMap;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::{Map, Value};

use crate::classifier::RawClassifier;
use crate::clickhouse::RawClickhouse;
use crate::error::FieldError;
use crate::gateway::RawGateway;
use crate::kafka::RawKafka;
use crate::sink::RawSink;
use crate::telemetry::RawTelemetry;
use crate::tenants::RawTenant;
use crate::topics::RawTopics;

/// The merged configuration layers before validation.
///
/// Obtain one with [`load_raw`](crate::load_raw) (which also records unknown keys) or by
/// deserializing any self-describing format, then turn it into a [`Config`](crate::Config) with
/// [`validate`](crate::validate).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub(crate) telemetry: RawTelemetry,
    pub(crate) kafka: RawKafka,
    pub(crate) clickhouse: RawClickhouse,
    pub(crate) gateway: RawGateway,
    pub(crate) tenants: BTreeMap<String, RawTenant>,
    pub(crate) classifier: RawClassifier,
    pub(crate) sink: RawSink,
    pub(crate) topics: RawTopics,
    /// Keys that are not settings, found while reading the layers; reported by `validate`
    /// together with the invalid values.
    #[serde(skip)]
    pub(crate) unknown_keys: Vec<FieldError>,
}

impl RawConfig {
    /// Splits the merged tree into sections, recording (and dropping) every unknown key.
    pub(crate) fn from_tree(tree: Value) -> Self {
        let mut unknown_keys = Vec::new();
        let mut root = match tree {
            Value::Object(root) => root,
            other => {
                unknown_keys.push(FieldError::invalid("", other.to_string(), "a table"));
                Map::new()
            }
        };
        drop_unknown_keys::<Self>("", &mut root, &mut unknown_keys);
        let errors = &mut unknown_keys;
        let telemetry = take_section(&mut root, "telemetry", errors);
        let kafka = take_section(&mut root, "kafka", errors);
        let clickhouse = take_section(&mut root, "clickhouse", errors);
        let gateway = take_section(&mut root, "gateway", errors);
        let classifier = take_section(&mut root, "classifier", errors);
        let sink = take_section(&mut root, "sink", errors);
        let topics = take_section(&mut root, "topics", errors);
        let tenants = take_tenants(&mut root, errors);
        Self {
            telemetry,
            kafka,
            clickhouse,
            gateway,
            tenants,
            classifier,
            sink,
            topics,
            unknown_keys,
        }
    }
}

/// Removes `name` from `root` and deserializes it as a `T`, after dropping its unknown keys.
fn take_section<T: DeserializeOwned + Default>(
    root: &mut Map<String, Value>,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> T {
    match root.remove(name) {
        None | Some(Value::Null) => T::default(),
        Some(Value::Object(mut table)) => {
            drop_unknown_keys::<T>(name, &mut table, errors);
            deserialize_table(name, table, errors)
        }
        Some(other) => {
            errors.push(FieldError::invalid(
                name,
                other.to_string(),
                format!("a table with keys {}", field_list(field_names::<T>())),
            ));
            T::default()
        }
    }
}

/// `tenants` is a table of tenant id -> tenant table.
fn take_tenants(
    root: &mut Map<String, Value>,
    errors: &mut Vec<FieldError>,
) -> BTreeMap<String, RawTenant> {
    let table = match root.remove("tenants") {
        None | Some(Value::Null) => return BTreeMap::new(),
        Some(Value::Object(table)) => table,
        Some(other) => {
            errors.push(FieldError::invalid(
                "tenants",
                other.to_string(),
                "a table of tenant id -> tenant settings",
            ));
            return BTreeMap::new();
        }
    };
    let mut tenants = BTreeMap::new();
    for (tenant_id, value) in table {
        let key = format!("tenants.{tenant_id}");
        let Value::Object(mut tenant) = value else {
            errors.push(FieldError::invalid(
                key,
                crate::sensitive::MASK,
                format!(
                    "a table with keys {}",
                    field_list(field_names::<RawTenant>())
                ),
            ));
            continue;
        };
        drop_unknown_keys::<RawTenant>(&key, &mut tenant, errors);
        tenants.insert(tenant_id, deserialize_table(&key, tenant, errors));
    }
    tenants
}

/// Deserializes a table whose unknown keys are already dropped. Raw leaves are `Value`s, so this
/// only fails if a raw struct gains a typed field; the error still names the section.
fn deserialize_table<T: DeserializeOwned + Default>(
    key: &str,
    table: Map<String, Value>,
    errors: &mut Vec<FieldError>,
) -> T {
    match serde_json::from_value(Value::Object(table)) {
        Ok(parsed) => parsed,
        Err(error) => {
            errors.push(FieldError::invalid(key, "", error.to_string()));
            T::default()
        }
    }
}

/// Records and removes every key of `table` that `T` does not declare.
fn drop_unknown_keys<T: DeserializeOwned>(
    path: &str,
    table: &mut Map<String, Value>,
    errors: &mut Vec<FieldError>,
) {
    let known = field_names::<T>();
    let unknown: Vec<String> = table
        .keys()
        .filter(|key| !known.contains(&key.as_str()))
        .cloned()
        .collect();
    for key in unknown {
        table.remove(&key);
        let full_key = if path.is_empty() {
            key
        } else {
            format!("{path}.{key}")
        };
        errors.push(FieldError::unknown_key(
            full_key,
            format!("one of {}", field_list(known)),
        ));
    }
}

fn field_list(fields: &[&str]) -> String {
    let quoted: Vec<String> = fields.iter().map(|field| format!("`{field}`")).collect();
    quoted.join(", ")
}

/// The field names a derived `Deserialize` struct declares, read by asking it to deserialize
/// from a deserializer that records the `fields` argument of `deserialize_struct` and stops.
/// This keeps the raw structs the single source of truth for the schema.
pub(crate) fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The deserializer always fails after recording the fields; the error carries no information.
    let _stopped: Result<T, FieldNamesOnly> = T::deserialize(FieldNameRecorder(&mut fields));
    fields
}

struct FieldNameRecorder<'a>(&'a mut &'static [&'static str]);

/// The only "error" of [`FieldNameRecorder`]: it never produces a value.
#[derive(Debug)]
struct FieldNamesOnly;

impl std::fmt::Display for FieldNamesOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field names recorded")
    }
}

impl std::error::Error for FieldNamesOnly {}

impl de::Error for FieldNamesOnly {
    fn custom<M: std::fmt::Display>(_message: M) -> Self {
        Self
    }
}

impl<'de> Deserializer<'de> for FieldNameRecorder<'_> {
    type Error = FieldNamesOnly;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(FieldNamesOnly)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(FieldNamesOnly)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn field_names_lists_the_declared_fields_of_a_raw_struct() {
        let fields = field_names::<RawTenant>();
        assert_eq!(fields, ["write_keys", "webhooks"]);
    }

    #[test]
    fn every_unknown_key_is_reported_not_only_the_first() {
        let raw = RawConfig::from_tree(json!({
            "kafak": {},
            "kafka": { "broker": "a:1", "linger_ms": "5" },
            "tenants": { "acme": { "write_key": "x" } },
        }));
        let keys: Vec<&str> = raw.unknown_keys.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "kafak",
                "kafka.broker",
                "kafka.linger_ms",
                "tenants.acme.write_key"
            ]
        );
    }
}
