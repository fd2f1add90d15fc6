//! The process-wide Prometheus recorder, metric naming rules and the metrics this crate owns.
//!
//! # Naming
//!
//! `lintas_<role>_<subject>_<unit>[_total]`, e.g. `lintas_gateway_requests_total`,
//! `lintas_sink_insert_duration_seconds`, `lintas_classifier_batch_events`. Seconds are the only
//! time unit (never `_ms`), counters and only counters end in `_total`, and labels take values from
//! a bounded set (a role, a component, an error `kind()`, never a tenant or event id). Each crate
//! declares its names once as constants next to its `describe_*` function, as [`metric_names`]
//! does here, and tests them with [`check_metric_name`].
//!
//! # Histograms
//!
//! Histograms whose name ends in a unit listed in [`metric_names::HISTOGRAM_UNIT_SUFFIXES`] are
//! exported as real Prometheus histograms with buckets for that unit, so they aggregate across
//! replicas; any other histogram would fall back to a summary, which does not, hence
//! [`check_metric_name`] rejects such names.

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::metrics::{Unit, describe_gauge, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::TelemetryError;

/// Names of the metrics this crate records, and the unit suffixes that get histogram buckets.
pub mod metric_names {
    /// Gauge, always 1, labelled `version`: joins any series to the running release.
    pub const BUILD_INFO: &str = "lintas_build_info";
    /// Gauge: Unix time in seconds at which the process started.
    pub const PROCESS_START_TIME_SECONDS: &str = "lintas_process_start_time_seconds";
    /// Gauge, 1 or 0, labelled `component`: readiness of each component registered in
    /// [`Health`](crate::Health). Components are `&'static str`, so the label is bounded.
    pub const READY: &str = "lintas_ready";
    /// Gauge, 1 once shutdown has begun (readiness is then false whatever the components say).
    pub const SHUTTING_DOWN: &str = "lintas_shutting_down";

    /// Name prefix of every Lintas metric.
    pub const PREFIX: &str = "lintas_";

    /// Unit suffixes whose histograms get Prometheus buckets (see [`crate::install_metrics_recorder`]).
    pub const HISTOGRAM_UNIT_SUFFIXES: &[&str] =
        &["_seconds", "_bytes", "_events", "_rows", "_ratio"];
}

/// Latency buckets in seconds: from half a millisecond (a gateway request, an in-memory classify)
/// to five minutes (a ClickHouse insert retried through an outage, end-to-end delay under lag).
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 120.0, 300.0,
];

/// Size buckets in bytes, ×4 from 256 B to 64 MiB: request bodies up to ClickHouse insert blocks.
const BYTES_BUCKETS: &[f64] = &[
    256.0,
    1_024.0,
    4_096.0,
    16_384.0,
    65_536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
];

/// Buckets of values in [0, 1] such as a classifier's confidence; finer near 1, where the
/// decisions that matter are told apart.
const RATIO_BUCKETS: &[f64] = &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0];

/// Count buckets for batch sizes (events per request or poll, rows per insert).
const COUNT_BUCKETS: &[f64] = &[
    1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1_000.0, 5_000.0, 10_000.0, 50_000.0, 100_000.0,
];

/// How often the upkeep thread drains histogram samples into buckets. Rendering drains too, but a
/// process nobody scrapes would otherwise accumulate every sample in memory.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The installed recorder's handle; set once, cloned to every later caller.
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
/// Serialises the first installation so two racing callers cannot both try to install.
static INSTALL_LOCK: Mutex<()> = Mutex::new(());

fn buckets_for_suffix(suffix: &str) -> &'static [f64] {
    match suffix {
        "_seconds" => SECONDS_BUCKETS,
        "_bytes" => BYTES_BUCKETS,
        "_ratio" => RATIO_BUCKETS,
        _ => COUNT_BUCKETS,
    }
}

fn build_recorder() -> Result<PrometheusBuilder, TelemetryError> {
    let mut builder = PrometheusBuilder::new();
    for suffix in metric_names::HISTOGRAM_UNIT_SUFFIXES {
        builder = builder.set_buckets_for_metric(
            Matcher::Suffix((*suffix).to_owned()),
            buckets_for_suffix(suffix),
        )?;
    }
    Ok(builder)
}

/// Installs the global Prometheus recorder, or returns the one already installed.
///
/// Safe to call any number of times from any thread: the first call builds and installs the
/// recorder, describes and sets [`metric_names::BUILD_INFO`] and
/// [`metric_names::PROCESS_START_TIME_SECONDS`], and starts a background thread that drains
/// histograms every few seconds (no async runtime needed); later calls return a clone of the same
/// handle. Metrics recorded before the first call are lost, so call it early in `main`.
///
/// # Errors
///
/// [`TelemetryError::MetricsRecorder`] if another `metrics` recorder (not installed through this
/// function) already owns the global slot.
pub fn install_metrics_recorder() -> Result<PrometheusHandle, TelemetryError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    // The lock only guards installation; a poisoned lock carries no broken state.
    let _install_guard = INSTALL_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }

    let handle = build_recorder()?.install_recorder()?;
    describe_metrics();
    record_process_metrics();
    spawn_upkeep(handle.clone());
    Ok(HANDLE.get_or_init(|| handle).clone())
}

fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("lintas-metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                handle.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        // Scrapes still drain histograms; only an unscraped process grows.
        tracing::warn!(error = %error, "cannot start the metrics upkeep thread");
    }
}

fn record_process_metrics() {
    gauge!(metric_names::BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    let started = process_start_time().unwrap_or_else(SystemTime::now);
    let started_secs = started
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since_epoch| since_epoch.as_secs_f64());
    gauge!(metric_names::PROCESS_START_TIME_SECONDS).set(started_secs);
}

/// The process start time from procfs, as Prometheus' own process collector computes it; `None`
/// off Linux or if procfs is unreadable, and the caller uses "now" (installation happens at start).
fn process_start_time() -> Option<SystemTime> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let system_stat = std::fs::read_to_string("/proc/stat").ok()?;
    let boot_time_secs: u64 = system_stat
        .lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let start_ticks = start_ticks_after_boot(&stat)?;
    // USER_HZ is 100 on every Linux ABI; procfs and Prometheus' client_golang hard-code it too,
    // which avoids an unsafe sysconf call.
    let since_boot = Duration::from_millis(start_ticks.saturating_mul(10));
    Some(UNIX_EPOCH + Duration::from_secs(boot_time_secs) + since_boot)
}

/// Field 22 (`starttime`) of `/proc/self/stat`. The command name (field 2) may contain spaces and
/// parentheses, so fields are counted from the last `)`.
fn start_ticks_after_boot(stat: &str) -> Option<u64> {
    let after_command = &stat[stat.rfind(')')? + 1..];
    // After the command come field 3 (state) onwards, so field 22 is the 20th.
    after_command.split_whitespace().nth(19)?.parse().ok()
}

/// Registers descriptions and units of the metrics this crate owns with the installed recorder.
///
/// [`install_metrics_recorder`] calls it; it is public so a test harness can call it again after
/// swapping recorders. Roles describe their own metrics in their own `describe_*` functions.
pub fn describe_metrics() {
    describe_gauge!(
        metric_names::BUILD_INFO,
        Unit::Count,
        "always 1; the version label names the running Lintas release"
    );
    describe_gauge!(
        metric_names::PROCESS_START_TIME_SECONDS,
        Unit::Seconds,
        "unix time at which the process started"
    );
    describe_gauge!(
        metric_names::READY,
        Unit::Count,
        "1 if the labelled component is ready to serve, 0 otherwise"
    );
    describe_gauge!(
        metric_names::SHUTTING_DOWN,
        Unit::Count,
        "1 once graceful shutdown has begun and readiness is forced false"
    );
}

/// The kind of a metric, for [`check_metric_name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// Monotonic counter; the name must end in `_total`.
    Counter,
    /// Gauge; the name must not end in `_total`.
    Gauge,
    /// Histogram; the name must end in one of [`metric_names::HISTOGRAM_UNIT_SUFFIXES`].
    Histogram,
}

/// Checks a metric name against the project convention `lintas_<role>_<subject>_<unit>[_total]`.
///
/// Meant for each crate's unit tests over its metric name constants, so a bad name fails CI rather
/// than a dashboard.
///
/// # Errors
///
/// [`TelemetryError::InvalidMetricName`] naming the rule that is broken.
pub fn check_metric_name(name: &str, kind: MetricKind) -> Result<(), TelemetryError> {
    let invalid = |reason: &'static str| {
        Err(TelemetryError::InvalidMetricName {
            name: name.to_owned(),
            reason,
        })
    };
    let Some(rest) = name.strip_prefix(metric_names::PREFIX) else {
        return invalid("must start with `lintas_`");
    };
    if rest.is_empty()
        || !rest
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
    {
        return invalid("must be lowercase ascii letters, digits and underscores after `lintas_`");
    }
    if rest.starts_with('_') || rest.ends_with('_') || rest.contains("__") {
        return invalid("words must be separated by exactly one underscore");
    }
    let words: Vec<&str> = rest.split('_').collect();
    const OTHER_TIME_UNITS: &[&str] =
        &["ms", "millis", "milliseconds", "us", "micros", "ns", "secs"];
    if words.iter().any(|word| OTHER_TIME_UNITS.contains(word)) {
        return invalid("time is measured in `_seconds` only");
    }
    let is_total = name.ends_with("_total");
    match kind {
        MetricKind::Counter if !is_total => invalid("counters must end in `_total`"),
        MetricKind::Gauge | MetricKind::Histogram if is_total => {
            invalid("only counters end in `_total`")
        }
        MetricKind::Histogram
            if !metric_names::HISTOGRAM_UNIT_SUFFIXES
                .iter()
                .any(|suffix| name.ends_with(suffix)) =>
        {
            invalid(
                "histograms must end in `_seconds`, `_bytes`, `_events`, `_rows` or `_ratio` to get buckets",
            )
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installing_the_recorder_twice_returns_handles_to_the_same_recorder() {
        let first = install_metrics_recorder().expect("first install");
        let second = install_metrics_recorder().expect("second install");

        ::metrics::counter!("lintas_test_twice_installed_total").increment(2);

        for handle in [&first, &second] {
            let rendered = handle.render();
            assert!(
                rendered.contains("lintas_test_twice_installed_total 2"),
                "{rendered}"
            );
        }
    }

    #[test]
    fn the_recorder_exports_build_info_and_process_start_time() {
        let handle = install_metrics_recorder().expect("install");

        let rendered = handle.render();
        let build_info = format!(
            "lintas_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        assert!(rendered.contains(&build_info), "{rendered}");
        let start_line = rendered
            .lines()
            .find(|line| line.starts_with("lintas_process_start_time_seconds "))
            .expect("start time sample");
        let started: f64 = start_line
            .rsplit(' ')
            .next()
            .and_then(|value| value.parse().ok())
            .expect("numeric sample");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs_f64();
        assert!(
            started > 1.6e9 && started <= now + 1.0,
            "implausible start time {started}"
        );
        assert!(
            rendered.contains("# HELP lintas_build_info"),
            "descriptions missing: {rendered}"
        );
    }

    #[test]
    fn seconds_histograms_are_exported_with_latency_buckets() {
        let handle = install_metrics_recorder().expect("install");

        ::metrics::histogram!("lintas_test_wait_seconds").record(0.003);

        let rendered = handle.render();
        assert!(
            rendered.contains("lintas_test_wait_seconds_bucket{le=\"0.005\"} 1"),
            "{rendered}"
        );
        assert!(
            rendered.contains("lintas_test_wait_seconds_bucket{le=\"0.0025\"} 0"),
            "{rendered}"
        );
    }

    #[test]
    fn the_start_time_field_is_found_after_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 1000 0 0 0 12 3 0 0 20 0 8 0 \
                    987654 123456789 2000 18446744073709551615";

        assert_eq!(start_ticks_after_boot(stat), Some(987_654));
        assert_eq!(start_ticks_after_boot("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_start_time_comes_from_procfs_and_precedes_now() {
        let started = process_start_time().expect("procfs readable on linux");

        let age = SystemTime::now()
            .duration_since(started)
            .expect("started in the past");
        assert!(
            age < Duration::from_secs(3600),
            "test process started {age:?} ago"
        );
    }

    #[test]
    fn this_crates_metric_names_follow_the_convention() {
        for name in [
            metric_names::BUILD_INFO,
            metric_names::PROCESS_START_TIME_SECONDS,
            metric_names::READY,
            metric_names::SHUTTING_DOWN,
        ] {
            check_metric_name(name, MetricKind::Gauge).expect(name);
        }
    }

    #[test]
    fn metric_names_breaking_the_convention_are_rejected_with_the_rule() {
        let rejected = [
            ("gateway_requests_total", MetricKind::Counter, "must start"),
            (
                "lintas_gateway_requests",
                MetricKind::Counter,
                "end in `_total`",
            ),
            ("lintas_sink_rows_total", MetricKind::Gauge, "only counters"),
            (
                "lintas_sink_insert_ms",
                MetricKind::Histogram,
                "`_seconds` only",
            ),
            ("lintas_Sink_rows_total", MetricKind::Counter, "lowercase"),
            (
                "lintas_sink__rows_total",
                MetricKind::Counter,
                "one underscore",
            ),
            (
                "lintas_sink_insert_latency",
                MetricKind::Histogram,
                "histograms must end",
            ),
        ];
        for (name, kind, reason_part) in rejected {
            let error = check_metric_name(name, kind).expect_err(name);
            assert!(error.to_string().contains(reason_part), "{name}: {error}");
        }
        check_metric_name("lintas_sink_insert_duration_seconds", MetricKind::Histogram)
            .expect("valid histogram");
        check_metric_name("lintas_gateway_requests_total", MetricKind::Counter)
            .expect("valid counter");
    }
}
