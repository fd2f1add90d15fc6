//! Layered, validated configuration for every Lintas role.
//!
//! Configuration is read once at startup, in two phases:
//!
//! 1. **Layers** ([`load_raw`]): embedded defaults (`default.toml`, which doubles as the reference
//!    of every key) < an optional TOML file < environment variables `LINTAS__SECTION__KEY`. The
//!    merged layers become a [`RawConfig`]; keys that are not settings are recorded, all of them.
//! 2. **Validation** ([`validate`], pure, no I/O): every value is parsed into its type
//!    ([`Duration`](std::time::Duration), enums, `NonZero*`, [`SocketAddr`](std::net::SocketAddr),
//!    [`Url`](url::Url)) and cross-field rules are checked. All problems are reported together,
//!    each naming the key, the value (masked for secrets) and what was expected:
//!
//! ```text
//! kafka.brokers: invalid value "no port here": expected a comma-separated list of host:port
//! ```
//!
//! [`load`] does both. A role refuses to start on any error; there is no partial configuration.
//! Secrets are [`Sensitive`]: `Debug`, `Serialize` and error messages print `****`, so the
//! resolved [`Config`] can be logged or printed with [`Config::to_toml_masked`].

#![deny(missing_docs)]

mod classifier;
mod clickhouse;
mod error;
mod gateway;
mod kafka;
mod raw;
mod sensitive;
mod sink;
mod telemetry;
mod tenants;
mod topics;
mod validator;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use config::{Environment, File, FileFormat};
use serde::Serialize;

pub use crate::classifier::ClassifierConfig;
pub use crate::clickhouse::ClickhouseConfig;
pub use crate::error::{ConfigError, ConfigErrors, FieldError, FieldErrorKind};
pub use crate::gateway::GatewayConfig;
pub use crate::kafka::{
    BrokerAddr, Compression, KafkaConfig, KafkaSasl, SaslMechanism, SecurityProtocol,
};
pub use crate::raw::RawConfig;
pub use crate::sensitive::{MASK, Sensitive, mask_url_userinfo};
pub use crate::sink::SinkConfig;
pub use crate::telemetry::{LogFormat, TelemetryConfig};
pub use crate::tenants::{MIN_WRITE_KEY_LEN, TenantConfig};
pub use crate::topics::TopicsConfig;
use crate::validator::Validator;

/// The embedded defaults and reference documentation of every key.
pub const DEFAULTS_TOML: &str = include_str!("default.toml");

/// Prefix of the environment variables read as configuration: `LINTAS__KAFKA__BROKERS` sets
/// `kafka.brokers`. Matched case-insensitively; keys are lowercased.
pub const ENV_PREFIX: &str = "LINTAS__";

/// The validated configuration of all roles.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// `[telemetry]`: logs and the admin server.
    pub telemetry: TelemetryConfig,
    /// `[kafka]`: brokers, topics and client settings shared by all roles.
    pub kafka: KafkaConfig,
    /// `[clickhouse]`: the ClickHouse HTTP endpoint.
    pub clickhouse: ClickhouseConfig,
    /// `[gateway]`: the HTTP intake.
    pub gateway: GatewayConfig,
    /// `[tenants.<id>]`: write keys and webhook secrets by tenant id.
    pub tenants: BTreeMap<String, TenantConfig>,
    /// `[classifier]`: the classifying role.
    pub classifier: ClassifierConfig,
    /// `[sink]`: the ClickHouse sink role.
    pub sink: SinkConfig,
    /// `[topics]`: partitions, replication and retention of the declared topics.
    pub topics: TopicsConfig,
}

impl Config {
    /// The resolved configuration as TOML, with every secret printed as `****`. The output loads
    /// back as a configuration file (secrets aside).
    ///
    /// # Panics
    ///
    /// Never in practice: every field serializes to a TOML string, integer (validation keeps
    /// them within `i64`), array or table. A panic would be a bug in this crate.
    pub fn to_toml_masked(&self) -> String {
        toml::to_string(self)
            .expect("Config serializes to TOML: strings, bounded integers, arrays and tables only")
    }

    /// The id of the tenant owning the write key `key`, or `None` for an unknown key. Every
    /// configured key is compared in constant time, so response times reveal nothing about how
    /// close a guess came.
    pub fn tenant_for_write_key(&self, key: &str) -> Option<&str> {
        tenants::tenant_for_write_key(&self.tenants, key)
    }
}

/// Loads and validates the configuration from the embedded defaults, the optional `file` and
/// the environment map `env` (only `LINTAS__*` entries are read; pass
/// `std::env::vars().collect()` or use [`load_from_process_env`]).
///
/// # Errors
///
/// [`ConfigError::Load`] if `file` cannot be read or is not TOML; [`ConfigError::Invalid`]
/// listing every unknown key and invalid value.
pub fn load(file: Option<&Path>, env: HashMap<String, String>) -> Result<Config, ConfigError> {
    let raw = load_raw(file, env)?;
    validate(raw).map_err(ConfigError::Invalid)
}

/// Like [`load`], with the environment of the current process.
///
/// # Errors
///
/// As [`load`]; also [`ConfigError::Load`] if a `LINTAS__*` variable is not valid UTF-8.
pub fn load_from_process_env(file: Option<&Path>) -> Result<Config, ConfigError> {
    let mut env = HashMap::new();
    // `vars_os`, not `vars`: `vars` panics on any non-UTF-8 variable, even one that is not ours.
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str() else {
            continue;
        };
        let is_ours = name
            .get(..ENV_PREFIX.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(ENV_PREFIX));
        if !is_ours {
            continue;
        }
        let Ok(value) = value.into_string() else {
            return Err(ConfigError::Load {
                origin: format!("environment variable {name}"),
                message: "the value is not valid UTF-8".to_owned(),
            });
        };
        env.insert(name.to_owned(), value);
    }
    load(file, env)
}

/// Merges the layers into a [`RawConfig`], recording unknown keys for [`validate`] to report.
///
/// # Errors
///
/// [`ConfigError::Load`] naming the layer that cannot be read or parsed.
pub fn load_raw(
    file: Option<&Path>,
    env: HashMap<String, String>,
) -> Result<RawConfig, ConfigError> {
    // Precedence, lowest first. A later layer replaces single values of an earlier one; tables
    // merge key by key.
    //   1. embedded defaults (default.toml),
    //   2. the file given by the caller, if any (it must exist),
    //   3. environment variables LINTAS__SECTION__KEY ("__" separates levels).
    let mut builder =
        config::Config::builder().add_source(File::from_str(DEFAULTS_TOML, FileFormat::Toml));
    if let Some(path) = file {
        let load_error = |message: String| ConfigError::Load {
            origin: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|error| load_error(error.to_string()))?;
        // Parsed here first so that a syntax error names this file, with line and column.
        toml::from_str::<toml::Table>(&text)
            .map_err(|error| load_error(describe_syntax_error(&text, &error)))?;
        builder = builder.add_source(File::from_str(&text, FileFormat::Toml));
    }
    // No `try_parsing`: it would turn a password "007" into the number 7. Every value stays a
    // string and validation parses numbers, booleans and lists from it.
    let environment = Environment::with_prefix("LINTAS")
        .prefix_separator("__")
        .separator("__")
        .source(Some(env));
    let merged = builder
        .add_source(environment)
        .build()
        .and_then(config::Config::try_deserialize::<serde_json::Value>)
        .map_err(|error| ConfigError::Load {
            origin: "the merged layers".to_owned(),
            message: error.to_string(),
        })?;
    Ok(RawConfig::from_tree(merged))
}

/// The parser's message and position, without the excerpt of the line that `toml`'s `Display`
/// adds: the broken line is often the one holding a password or webhook secret.
fn describe_syntax_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end();
    let Some(span) = error.span() else {
        return message.to_owned();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("TOML syntax error at line {line}, column {column}: {message}")
}

/// Validates merged layers into the typed [`Config`] (pure: no I/O).
///
/// # Errors
///
/// Every unknown key recorded by [`load_raw`] and every invalid value, together.
pub fn validate(raw: RawConfig) -> Result<Config, ConfigErrors> {
    let mut v = Validator::default();
    for unknown in raw.unknown_keys {
        v.push(unknown);
    }
    let telemetry = telemetry::validate(raw.telemetry, &mut v);
    let kafka = kafka::validate(raw.kafka, &mut v);
    let clickhouse = clickhouse::validate(raw.clickhouse, &mut v);
    let gateway = gateway::validate(raw.gateway, &mut v);
    let tenants = tenants::validate(raw.tenants, &mut v);
    let classifier = classifier::validate(raw.classifier, &mut v);
    let sink = sink::validate(raw.sink, &mut v);
    let topics = topics::validate(raw.topics, &mut v);
    check_across_sections(kafka.as_ref(), classifier.as_ref(), sink.as_ref(), &mut v);

    let config = (|| {
        Some(Config {
            telemetry: telemetry?,
            kafka: kafka?,
            clickhouse: clickhouse?,
            gateway: gateway?,
            tenants: tenants?,
            classifier: classifier?,
            sink: sink?,
            topics: topics?,
        })
    })();
    v.finish(config)
}

/// Rules spanning sections; each runs only when the sections it reads are valid.
fn check_across_sections(
    kafka: Option<&KafkaConfig>,
    classifier: Option<&ClassifierConfig>,
    sink: Option<&SinkConfig>,
    v: &mut Validator,
) {
    // librdkafka refuses a transactional producer whose message timeout exceeds its
    // transaction timeout.
    if let (Some(kafka), Some(classifier)) = (kafka, classifier)
        && classifier.transaction_timeout < kafka.message_timeout
    {
        v.invalid(
            "classifier.transaction_timeout",
            humantime::format_duration(classifier.transaction_timeout).to_string(),
            format!(
                "a duration of at least kafka.message_timeout ({})",
                humantime::format_duration(kafka.message_timeout)
            ),
        );
    }
    // One group for two roles reading different topics would make them rebalance each other.
    if let (Some(classifier), Some(sink)) = (classifier, sink)
        && classifier.group_id == sink.group_id
    {
        v.invalid(
            "sink.group_id",
            &sink.group_id,
            "a consumer group other than classifier.group_id",
        );
    }
}

/// Serde helpers shared by the section modules.
mod ser {
    /// Serializes a value through its `Display` implementation.
    pub(crate) fn display<T: std::fmt::Display, S: serde::Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }
}
