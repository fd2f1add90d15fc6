//! `lintas migrate --dry-run` and `lintas query` without a server: rendering, cluster mode,
//! and the errors an operator sees. Runs against the real server are in
//! `tests/clickhouse_schema.rs` and `tests/clickhouse_query_pack.rs`.

use std::process::{Command, Output};

fn lintas(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lintas"));
    command.args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LINTAS") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    command.output().expect("lintas runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn dry_run_renders_the_core_schema_for_18_16_and_the_modern_one_for_26() {
    let core = stdout(&lintas(
        &["migrate", "--dry-run", "--server-version", "18.16.1"],
        &[],
    ));
    assert!(core.starts_with(
        "-- lintas migrate --dry-run: server 18.16.1, core schema, database lintas\n"
    ));
    assert!(core.contains("CREATE DATABASE IF NOT EXISTS `lintas`;"));
    assert!(!core.contains("LowCardinality") && !core.contains("TTL"));

    let modern = stdout(&lintas(
        &["migrate", "--dry-run", "--server-version", "26.9.2"],
        &[
            ("LINTAS__SINK__TTL_DAYS", "90"),
            ("LINTAS__CLICKHOUSE__DEDUP_WINDOW_BLOCKS", "500"),
        ],
    ));
    assert!(modern.contains("modern schema"));
    assert!(modern.contains("tenant_id LowCardinality(String)"));
    assert!(modern.contains("TTL occurred_at + INTERVAL 90 DAY"));
    assert!(modern.contains("non_replicated_deduplication_window = 500"));
    assert_eq!(modern.matches("-- migration ").count(), 4);
}

#[test]
fn dry_run_in_cluster_mode_creates_replicated_tables_behind_distributed_ones() {
    let sql = stdout(&lintas(
        &["migrate", "--dry-run", "--server-version", "24.8"],
        &[
            ("LINTAS__CLICKHOUSE__CLUSTER", "analytics"),
            ("LINTAS__CLICKHOUSE__DATABASE", "cx"),
        ],
    ));
    assert!(sql.starts_with(
        "-- lintas migrate --dry-run: server 24.8.0, modern schema, database cx, cluster analytics\n"
    ));
    assert!(sql.contains("CREATE DATABASE IF NOT EXISTS `cx` ON CLUSTER `analytics`;"));
    assert!(sql.contains("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/cx/interactions_local', '{replica}', row_version)"));
    assert!(sql.contains(
        "ENGINE = Distributed(`analytics`, `cx`, interactions_local, cityHash64(event_id))"
    ));
    assert!(sql.contains("replicated_deduplication_window = 1000"));
    let statements = sql
        .split(";\n\n")
        .filter(|chunk| chunk.contains("CREATE"))
        .count();
    let on_cluster = sql.matches(" ON CLUSTER `analytics`").count();
    assert_eq!(
        on_cluster, statements,
        "every statement runs on the cluster"
    );
}

#[test]
fn a_bad_cluster_name_or_version_is_refused_with_the_reason() {
    let output = lintas(
        &["migrate", "--dry-run"],
        &[("LINTAS__CLICKHOUSE__CLUSTER", "a; DROP")],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("clickhouse.cluster"), "{stderr}");

    let output = lintas(&["migrate", "--dry-run", "--server-version", "latest"], &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a version: \"latest\""), "{stderr}");
}

#[test]
fn migrate_names_the_server_it_cannot_reach() {
    // Port 9 (discard) on loopback: nothing listens there.
    let output = lintas(
        &["migrate"],
        &[("LINTAS__CLICKHOUSE__URL", "http://127.0.0.1:9")],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("connecting to http://127.0.0.1:9/"),
        "{stderr}"
    );
}

#[test]
fn query_lists_the_pack_and_prints_rendered_sql() {
    let listing = stdout(&lintas(&["query"], &[]));
    for name in [
        "channel_mix",
        "interaction_matrix",
        "journey_funnel",
        "first_response_times",
        "feedback_trend",
        "open_service_load",
        "customer_timeline",
    ] {
        assert!(listing.contains(&format!("{name}\n")), "{listing}");
    }
    assert!(
        listing.contains("--param limit=<UInt32> (default 200)"),
        "{listing}"
    );

    let sql = stdout(&lintas(
        &[
            "query",
            "open_service_load",
            "--sql",
            "--param",
            "tenant=acme-shop",
            "--param",
            "as_of=2026-03-31 00:00:00",
        ],
        &[],
    ));
    assert!(sql.contains("tenant_id = 'acme-shop'"), "{sql}");
    assert!(
        sql.contains("toDateTime('2026-03-31 00:00:00', 'UTC')"),
        "{sql}"
    );

    let unknown = lintas(&["query", "nps"], &[]);
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("unknown query \"nps\"; available: channel_mix"),
        "{stderr}"
    );

    let twice = lintas(
        &[
            "query",
            "open_service_load",
            "--sql",
            "--param",
            "tenant=acme-shop",
            "--param",
            "tenant=other-shop",
        ],
        &[],
    );
    assert!(!twice.status.success());
    let stderr = String::from_utf8_lossy(&twice.stderr);
    assert!(stderr.contains("--param tenant given twice"), "{stderr}");
}

#[test]
fn migrate_and_query_give_up_after_the_request_timeout_when_the_server_never_answers() {
    // Connections complete in the kernel's backlog, but nobody ever reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", silent.local_addr().expect("address"));
    let query = [
        "query",
        "customer_timeline",
        "--param",
        "tenant=t",
        "--param",
        "customer=c",
    ];
    for args in [&["migrate"][..], &["migrate", "--dry-run"], &query] {
        let output = lintas(
            args,
            &[
                ("LINTAS__CLICKHOUSE__URL", &url),
                ("LINTAS__CLICKHOUSE__REQUEST_TIMEOUT", "1s"),
            ],
        );
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("within clickhouse.request_timeout (1s)"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn query_names_an_unreachable_server_and_its_cause_once() {
    // Port 9 (discard) on loopback: nothing listens there.
    let output = lintas(
        &[
            "query",
            "channel_mix",
            "--param",
            "tenant=acme",
            "--param",
            "from=2025-01-01",
            "--param",
            "to=2025-02-01",
        ],
        &[("LINTAS__CLICKHOUSE__URL", "http://127.0.0.1:9")],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("http://127.0.0.1:9/"), "{stderr}");
    // The clickhouse client repeats its inner errors in its own message; say each thing once.
    assert_eq!(stderr.matches("Connection refused").count(), 1, "{stderr}");
    assert_eq!(
        stderr.matches("client error (Connect)").count(),
        1,
        "{stderr}"
    );
}
