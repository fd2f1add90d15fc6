//! `tracing` subscriber setup: one filter rule and two output formats for every role.
//!
//! Production output is JSON on stderr, one object per line, with the event's fields flattened to
//! the top level (`{"timestamp":"2025-01-01T00:00:00.000000Z","level":"INFO","message":"...",
//! "partition":3,...}`) so log pipelines index them without unwrapping a nested `fields` object.
//! Timestamps are RFC 3339 in UTC: nodes in different zones sort and join without conversion.

use std::fmt;
use std::io::{self, IsTerminal};
use std::str::FromStr;

use tracing::Dispatch;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Directive;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::util::SubscriberInitExt;

use crate::TelemetryError;

/// The environment variable whose directives replace the configured level when set and non-empty.
pub const RUST_LOG_ENV: &str = "RUST_LOG";

/// How log lines are written to stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// [`LogFormat::Pretty`] when stderr is a terminal, [`LogFormat::Json`] otherwise (containers,
    /// systemd, pipes), so nobody has to remember to switch formats when deploying.
    #[default]
    Auto,
    /// Compact single-line human output, coloured when stderr is a terminal.
    Pretty,
    /// One JSON object per line with flattened fields; the production format.
    Json,
}

impl LogFormat {
    /// The lowercase name used in configuration and in the startup log line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Pretty => "pretty",
            Self::Json => "json",
        }
    }

    /// Replaces [`LogFormat::Auto`] by the concrete format for the given stderr.
    fn resolve(self, stderr_is_terminal: bool) -> Self {
        match self {
            Self::Auto if stderr_is_terminal => Self::Pretty,
            Self::Auto => Self::Json,
            concrete => concrete,
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for LogFormat {
    type Err = TelemetryError;

    /// Parses `auto`, `pretty` or `json`, ignoring case and surrounding whitespace.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "pretty" => Ok(Self::Pretty),
            "json" => Ok(Self::Json),
            _ => Err(TelemetryError::InvalidLogFormat {
                value: value.to_owned(),
            }),
        }
    }
}

/// Where the active log filter directives came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilterOrigin {
    /// The `RUST_LOG` environment variable, which wins over configuration.
    RustLog,
    /// The level passed by the role's configuration.
    Configured,
}

impl fmt::Display for FilterOrigin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::RustLog => RUST_LOG_ENV,
            Self::Configured => "the configured log level",
        })
    }
}

/// Picks the directives to use: `RUST_LOG` when it is set to something other than whitespace,
/// otherwise the configured level. `RUST_LOG` replaces the level rather than adding to it, which is
/// what every Rust tool does and therefore what operators expect.
fn select_directives<'a>(
    default_level: &'a str,
    rust_log: Option<&'a str>,
) -> (&'a str, FilterOrigin) {
    match rust_log {
        Some(directives) if !directives.trim().is_empty() => (directives, FilterOrigin::RustLog),
        _ => (default_level, FilterOrigin::Configured),
    }
}

/// Parses filter directives, rejecting the first invalid one by name.
///
/// `EnvFilter`'s own `from_env` prints and skips bad directives; a typo then silently loses the
/// logs the operator asked for, so this refuses instead.
fn parse_directives(directives: &str, origin: FilterOrigin) -> Result<EnvFilter, TelemetryError> {
    let invalid = |directive: &str, message: String| TelemetryError::InvalidLogDirective {
        directive: directive.to_owned(),
        origin,
        message,
    };
    // Same splitting rule as `EnvFilter`, plus trimming so `info, lintas=debug` is accepted.
    let mut normalized = Vec::new();
    for directive in directives
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        Directive::from_str(directive).map_err(|error| invalid(directive, error.to_string()))?;
        normalized.push(directive);
    }
    if normalized.is_empty() {
        return Err(invalid(directives.trim(), "no directive given".to_owned()));
    }
    EnvFilter::builder()
        .parse(normalized.join(","))
        .map_err(|error| invalid(directives.trim(), error.to_string()))
}

/// Builds the log filter from the configured level and the value of `RUST_LOG` (passed in so tests
/// never mutate the process environment).
///
/// `RUST_LOG`, when set and not blank, replaces `default_level`. Both accept full `EnvFilter`
/// syntax (`info`, `warn,lintas_sink=debug`, ...).
///
/// # Errors
///
/// [`TelemetryError::InvalidLogDirective`] naming the first directive that does not parse and
/// whether it came from `RUST_LOG` or the configuration.
pub fn build_env_filter(
    default_level: &str,
    rust_log: Option<&str>,
) -> Result<EnvFilter, TelemetryError> {
    let (directives, origin) = select_directives(default_level, rust_log);
    parse_directives(directives, origin)
}

/// Builds the subscriber for a concrete format, writing to `writer`.
fn build_dispatch<W>(format: LogFormat, filter: EnvFilter, ansi: bool, writer: W) -> Dispatch
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_timer(SystemTime);
    match format {
        LogFormat::Json => Dispatch::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(true)
                .with_ansi(false)
                .finish(),
        ),
        LogFormat::Pretty | LogFormat::Auto => {
            Dispatch::new(builder.compact().with_ansi(ansi).finish())
        }
    }
}

/// Installs the global `tracing` subscriber (and the `log` bridge) writing to stderr.
///
/// The filter is `RUST_LOG` when set and non-blank, otherwise `default_level`; see
/// [`build_env_filter`]. [`LogFormat::Auto`] picks pretty output on a terminal and JSON otherwise.
///
/// Call it once, first thing in `main`, before any role starts.
///
/// # Errors
///
/// - [`TelemetryError::InvalidLogDirective`] if the filter does not parse; nothing is installed.
/// - [`TelemetryError::TracingAlreadyInitialized`] if a subscriber is already installed (a second
///   call): the first configuration stays in force, and callers that do not care may ignore it.
pub fn init_tracing(format: LogFormat, default_level: &str) -> Result<(), TelemetryError> {
    let rust_log = match std::env::var_os(RUST_LOG_ENV) {
        None => None,
        Some(value) => {
            Some(
                value
                    .into_string()
                    .map_err(|value| TelemetryError::InvalidLogDirective {
                        directive: value.to_string_lossy().into_owned(),
                        origin: FilterOrigin::RustLog,
                        message: "not valid UTF-8".to_owned(),
                    })?,
            )
        }
    };
    let (directives, origin) = select_directives(default_level, rust_log.as_deref());
    let filter = parse_directives(directives, origin)?;

    let stderr_is_terminal = io::stderr().is_terminal();
    let format = format.resolve(stderr_is_terminal);
    build_dispatch(format, filter, stderr_is_terminal, io::stderr)
        .try_init()
        .map_err(|error| TelemetryError::TracingAlreadyInitialized {
            message: error.to_string(),
        })?;

    // Debug, not info: one-shot commands (`lintas query`, `migrate`, `topics`) printed it as a
    // JSON line in front of their answer whenever stderr was not a terminal.
    tracing::debug!(
        log_format = format.as_str(),
        log_filter = directives,
        log_filter_origin = %origin,
        "logging initialised"
    );
    Ok(())
}

/// Installs a human-readable subscriber whose output the test harness captures, for tests.
///
/// Uses `RUST_LOG` when it parses and `debug` otherwise. Safe to call from every test: once a
/// subscriber is installed, later calls do nothing.
pub fn init_test_tracing() {
    let rust_log = std::env::var(RUST_LOG_ENV).ok();
    let filter = build_env_filter("debug", rust_log.as_deref())
        .or_else(|_| build_env_filter("debug", None))
        .unwrap_or_default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .finish();
    // Already initialised by an earlier test in this process: keeping that one is the point.
    let _already_initialised = subscriber.try_init().is_err();
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, PoisonError};

    use super::*;

    /// A `MakeWriter` into a shared buffer, so a test can read what the subscriber wrote.
    #[derive(Clone, Default)]
    struct CapturedOutput(Arc<Mutex<Vec<u8>>>);

    impl io::Write for CapturedOutput {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let mut buffer = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            buffer.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'writer> MakeWriter<'writer> for CapturedOutput {
        type Writer = CapturedOutput;

        fn make_writer(&'writer self) -> Self::Writer {
            self.clone()
        }
    }

    impl CapturedOutput {
        fn text(&self) -> String {
            let buffer = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            String::from_utf8_lossy(&buffer).into_owned()
        }
    }

    #[test]
    fn an_invalid_rust_log_directive_is_an_error_naming_it_and_its_origin() {
        let error = build_env_filter("info", Some("info,lintas_sink=loud"))
            .expect_err("`loud` is not a level");

        let TelemetryError::InvalidLogDirective {
            directive, origin, ..
        } = &error
        else {
            panic!("unexpected error: {error:?}");
        };
        assert_eq!(directive, "lintas_sink=loud");
        assert_eq!(*origin, FilterOrigin::RustLog);
        let message = error.to_string();
        assert!(message.contains("`lintas_sink=loud`"), "{message}");
        assert!(message.contains("RUST_LOG"), "{message}");
    }

    #[test]
    fn an_invalid_configured_level_is_an_error_naming_the_configuration() {
        let error = build_env_filter("info,[unclosed=debug", None).expect_err("invalid span");

        assert!(
            matches!(
                &error,
                TelemetryError::InvalidLogDirective { directive, origin: FilterOrigin::Configured, .. }
                    if directive == "[unclosed=debug"
            ),
            "{error:?}"
        );
    }

    #[test]
    fn an_empty_configured_level_is_rejected() {
        let error = build_env_filter("  ", None).expect_err("nothing to filter by");

        assert_eq!(error.kind(), "invalid_log_directive");
    }

    #[test]
    fn rust_log_replaces_the_configured_level_and_blank_rust_log_is_ignored() {
        assert_eq!(
            select_directives("info", Some("lintas=debug")),
            ("lintas=debug", FilterOrigin::RustLog)
        );
        assert_eq!(
            select_directives("info", Some(" ")),
            ("info", FilterOrigin::Configured)
        );
        assert_eq!(
            select_directives("info", None),
            ("info", FilterOrigin::Configured)
        );
    }

    #[test]
    fn directives_separated_by_comma_and_space_are_accepted() {
        let filter = build_env_filter("warn", Some("info, lintas_gateway=trace")).expect("valid");

        let rendered = filter.to_string();
        assert!(rendered.contains("lintas_gateway=trace"), "{rendered}");
    }

    #[test]
    fn auto_format_is_pretty_on_a_terminal_and_json_otherwise() {
        assert_eq!(LogFormat::Auto.resolve(true), LogFormat::Pretty);
        assert_eq!(LogFormat::Auto.resolve(false), LogFormat::Json);
        assert_eq!(LogFormat::Json.resolve(true), LogFormat::Json);
        assert_eq!(LogFormat::Pretty.resolve(false), LogFormat::Pretty);
    }

    #[test]
    fn log_format_parses_its_names_and_rejects_others_naming_the_value() {
        assert_eq!(" JSON".parse::<LogFormat>().ok(), Some(LogFormat::Json));
        assert_eq!("pretty".parse::<LogFormat>().ok(), Some(LogFormat::Pretty));
        let error = "yaml".parse::<LogFormat>().expect_err("not a format");
        assert!(error.to_string().contains("`yaml`"), "{error}");
    }

    #[test]
    fn json_output_flattens_fields_and_stamps_rfc3339_utc_time() {
        let output = CapturedOutput::default();
        let filter = build_env_filter("info", None).expect("valid");
        let dispatch = build_dispatch(LogFormat::Json, filter, false, output.clone());

        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info!(
                partition = 3,
                topic = "lintas.interactions.raw.v1",
                "batch committed"
            );
            tracing::debug!("filtered out below info");
        });

        let text = output.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(lines[0]).expect("one JSON object");
        assert_eq!(line["message"], "batch committed");
        assert_eq!(line["partition"], 3);
        assert_eq!(line["topic"], "lintas.interactions.raw.v1");
        assert_eq!(line["level"], "INFO");
        let timestamp = line["timestamp"].as_str().expect("timestamp string");
        assert!(
            timestamp.len() >= 20 && timestamp.as_bytes()[10] == b'T' && timestamp.ends_with('Z'),
            "not RFC 3339 UTC: {timestamp}"
        );
    }

    #[test]
    fn pretty_output_is_one_plain_line_per_event_without_colour_off_a_terminal() {
        let output = CapturedOutput::default();
        let filter = build_env_filter("info", None).expect("valid");
        let dispatch = build_dispatch(LogFormat::Pretty, filter, false, output.clone());

        tracing::dispatcher::with_default(&dispatch, || {
            tracing::warn!(component = "kafka", "component not ready");
        });

        let text = output.text();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("component not ready"), "{text}");
        assert!(text.contains("component=\"kafka\""), "{text}");
        assert!(!text.contains('\u{1b}'), "unexpected ANSI escape: {text:?}");
    }
}
