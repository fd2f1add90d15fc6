//! `lintas-loadgen` against the real gateway router with a mock publisher on a loopback port:
//! every generated event passes the gateway's validation, each gets its own `event_id`, and a
//! refused request fails the run loudly.

use std::collections::{HashMap, HashSet};
use std::process::{Command, Output};

use lintas_gateway::testing::MockGateway;
use serde_json::Value;

const KEY: &str = "wk_test_loadgen_0123456789";

async fn gateway() -> MockGateway {
    let env: HashMap<String, String> = HashMap::from([(
        "LINTAS__TENANTS__ACME__WRITE_KEYS".to_owned(),
        KEY.to_owned(),
    )]);
    let config = lintas_config::load(None, env).expect("valid config");
    MockGateway::start(config)
        .await
        .expect("mock gateway starts")
}

/// Runs the tool with `args` against `gateway`, with `key` in the environment.
async fn loadgen(gateway: &MockGateway, key: &str, args: &[&str]) -> Output {
    let mut all_args = vec!["--url".to_owned(), format!("http://{}", gateway.address)];
    all_args.extend(args.iter().map(|arg| (*arg).to_owned()));
    let key = key.to_owned();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_lintas-loadgen"))
            .args(&all_args)
            .env("LINTAS_WRITE_KEY", key)
            .env_remove("LINTAS_GATEWAY_URL")
            .output()
            .expect("lintas-loadgen runs")
    })
    .await
    .expect("the blocking task completes")
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is one JSON report ({error}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_generated_event_is_accepted_with_its_own_event_id() {
    let gateway = gateway().await;
    let args = [
        "--events",
        "2050",
        "--batch",
        "100",
        "--concurrency",
        "4",
        "--customers",
        "50",
        "--language-percent",
        "50",
        "--warmup",
        "0s",
        "--json",
    ];
    let output = loadgen(&gateway, KEY, &args).await;

    let report = report(&output);
    assert!(
        output.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(report["ok"], true);
    assert_eq!(report["events_sent"], 2050);
    assert_eq!(report["events_accepted"], 2050);
    assert_eq!(report["events_rejected"], 0);
    assert_eq!(report["requests"], 21, "20 full batches and one of 50");
    assert_eq!(report["statuses"]["202"], 21);
    assert!(report["events_per_sec"].as_f64().expect("a rate") > 0.0);
    assert!(report["latency_ms"]["p99"].as_f64().expect("p99") > 0.0);

    let events = gateway.publisher.events();
    assert_eq!(events.len(), 2050);
    let ids: HashSet<&str> = events.iter().map(|event| event.event_id.as_str()).collect();
    assert_eq!(
        ids.len(),
        2050,
        "messageIds are unique, so event_ids are too"
    );
    let customers: HashSet<&str> = events
        .iter()
        .map(|event| event.customer_id.as_str())
        .collect();
    assert!(
        customers.len() > 1 && customers.len() <= 50,
        "{} customers",
        customers.len()
    );
    // Half the texts carry their language, the gateway detects the others' (`en` or `id`).
    let languages: HashSet<&str> = events
        .iter()
        .filter(|event| !event.text.is_empty())
        .map(|event| event.language.as_str())
        .collect();
    assert!(
        languages.contains("en") && languages.contains("id"),
        "{languages:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_up_is_sent_but_not_counted() {
    let gateway = gateway().await;
    let args = [
        "--events", "300", "--batch", "100", "--warmup", "300ms", "--json",
    ];
    let output = loadgen(&gateway, KEY, &args).await;

    let report = report(&output);
    assert!(output.status.success(), "{report}");
    assert_eq!(report["events_accepted"], 300);
    assert!(
        gateway.publisher.events().len() > 300,
        "the warm-up also reached the gateway"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_write_key_fails_the_run_with_the_status_and_the_answer() {
    let gateway = gateway().await;
    // One event per request: the gateway answers 401 from the headers alone, and a larger body
    // still in flight can meet a closed connection, which the client then reports as a
    // transport error instead of the 401 (seen once in a CI run with batches of 100).
    let args = [
        "--events",
        "1000",
        "--batch",
        "1",
        "--concurrency",
        "2",
        "--warmup",
        "0s",
        "--max-failed-requests",
        "3",
        "--json",
    ];
    let output = loadgen(&gateway, "wk_not_the_key_0123456789", &args).await;

    assert_eq!(output.status.code(), Some(1));
    let report = report(&output);
    assert_eq!(report["ok"], false);
    assert_eq!(report["events_accepted"], 0);
    assert!(report["statuses"]["401"].as_u64().expect("401 count") >= 3);
    assert_eq!(
        report["aborted"], true,
        "it stops after --max-failed-requests"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("FAILED"), "{stderr}");
    assert!(stderr.contains("401:"), "{stderr}");
    assert!(gateway.publisher.events().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duration_run_stops_by_itself() {
    let gateway = gateway().await;
    let args = [
        "--duration",
        "500ms",
        "--batch",
        "50",
        "--concurrency",
        "2",
        "--warmup",
        "0s",
        "--json",
    ];
    let output = loadgen(&gateway, KEY, &args).await;

    let report = report(&output);
    assert!(output.status.success(), "{report}");
    let elapsed = report["elapsed_secs"].as_f64().expect("elapsed");
    assert!((0.5..10.0).contains(&elapsed), "{elapsed}");
    assert_eq!(report["events_accepted"], report["events_sent"]);
}
