//! The `lintas` binary as an operator uses it: help, and `config check` on good and bad input.

use std::process::{Command, Output};

fn lintas(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lintas"));
    command.args(args);
    // Start from a clean slate so the developer's own LINTAS__* variables cannot leak in.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LINTAS") {
            command.env_remove(key);
        }
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("lintas runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_the_subcommands() {
    let output = lintas(&["--help"], &[]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for subcommand in ["config", "topics", "gateway", "send"] {
        assert!(
            help.contains(subcommand),
            "missing {subcommand} in:\n{help}"
        );
    }
}

#[test]
fn config_check_prints_the_resolved_config_with_secrets_masked() {
    let output = lintas(
        &["config", "check"],
        &[
            ("LINTAS__KAFKA__BROKERS", "kafka-0:9092,kafka-1:9092"),
            ("LINTAS__CLICKHOUSE__PASSWORD", "s3cret-clickhouse-password"),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed = text(&output.stdout);
    assert!(printed.contains("kafka-0:9092,kafka-1:9092"), "{printed}");
    assert!(!printed.contains("s3cret-clickhouse-password"), "{printed}");
    assert!(printed.contains("****"));
}

#[test]
fn config_check_fails_naming_an_invalid_broker_list() {
    let output = lintas(
        &["config", "check"],
        &[("LINTAS__KAFKA__BROKERS", "no port here")],
    );
    assert_eq!(output.status.code(), Some(1));
    let errors = text(&output.stderr);
    assert!(errors.contains("kafka.brokers"), "{errors}");
    assert!(errors.contains("no port here"), "{errors}");
    assert!(errors.contains("host:port"), "{errors}");
}

#[test]
fn config_check_fails_naming_an_invalid_duration() {
    let output = lintas(
        &["config", "check"],
        &[("LINTAS__GATEWAY__REQUEST_TIMEOUT", "soon")],
    );
    assert_eq!(output.status.code(), Some(1));
    let errors = text(&output.stderr);
    assert!(errors.contains("gateway.request_timeout"), "{errors}");
    assert!(errors.contains("soon"), "{errors}");
}

#[test]
fn config_check_reads_a_file_and_the_environment_wins_over_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("lintas.toml");
    std::fs::write(
        &file,
        "[gateway]\nlisten = \"0.0.0.0:9000\"\nrate_limit_per_sec = 50\n",
    )
    .expect("write config");
    let path = file.to_str().expect("utf-8 path");
    let output = lintas(
        &["--config", path, "config", "check"],
        &[("LINTAS__GATEWAY__RATE_LIMIT_PER_SEC", "75")],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed = text(&output.stdout);
    assert!(printed.contains("listen = \"0.0.0.0:9000\""), "{printed}");
    assert!(printed.contains("rate_limit_per_sec = 75"), "{printed}");
}

#[test]
fn config_check_names_a_missing_config_file() {
    let output = lintas(
        &["--config", "/nonexistent/lintas.toml", "config", "check"],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("/nonexistent/lintas.toml"));
}

#[test]
fn config_check_fails_on_what_the_roles_would_refuse_at_start() {
    // Each passes the config crate's own validation, but `lintas gateway` (webhook names) and
    // every role (log filter) refuse to start with it: `config check` must not say "ok".
    for (key, value, named) in [
        (
            "LINTAS__TENANTS__ACME__WEBHOOKS__STRIPE__ENDPOINT_SECERT",
            "whsec_do_not_print_me",
            "tenants.acme.webhooks.stripe.endpoint_secert",
        ),
        (
            "LINTAS__TENANTS__ACME__WEBHOOKS__STRYPE__ENDPOINT_SECRET",
            "whsec_do_not_print_me",
            "tenants.acme.webhooks.strype",
        ),
        (
            "LINTAS__TELEMETRY__LOG_LEVEL",
            "lintas=bogus[",
            "telemetry.log_level",
        ),
    ] {
        let output = lintas(
            &["config", "check"],
            &[
                (
                    "LINTAS__TENANTS__ACME__WRITE_KEYS",
                    "wk_test_0123456789abcdef",
                ),
                (key, value),
            ],
        );
        assert_eq!(output.status.code(), Some(1), "{key}");
        let errors = text(&output.stderr);
        assert!(errors.contains(named), "{key}: {errors}");
        assert!(!errors.contains("do_not_print_me"), "{errors}");
        assert!(!text(&output.stdout).contains("do_not_print_me"));
    }
}
