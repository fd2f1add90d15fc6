//! `lintas send` against the real gateway router with a mock publisher on a loopback port.

use std::collections::HashMap;
use std::io::Write as _;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use lintas_gateway::PublishError;
use lintas_gateway::testing::{MockGateway, MockOutcome};
use serde_json::json;

const KEY: &str = "wk_test_send_0123456789";

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

fn event(id: usize) -> serde_json::Value {
    json!({"event": "message.received", "userId": "cust_1", "messageId": format!("m-{id}"),
           "properties": {"channel": "sms", "text": "hello"}})
}

/// Runs `lintas send` with `args`, `stdin` as input and the key in the environment.
async fn send(gateway: &MockGateway, args: &[&str], stdin: String) -> Output {
    let url = format!("http://{}", gateway.address);
    let mut all_args = vec!["send".to_owned(), "--url".to_owned(), url];
    all_args.extend(args.iter().map(|arg| (*arg).to_owned()));
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lintas"))
            .args(&all_args)
            .env("LINTAS_WRITE_KEY", KEY)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lintas runs");
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes()).expect("stdin written");
        }
        child.wait_with_output().expect("lintas finishes")
    })
    .await
    .expect("the blocking task completes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json_lines(count: usize) -> String {
    (0..count).map(|id| format!("{}\n", event(id))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_are_sent_in_batches_and_all_accepted_exits_0() {
    let gateway = gateway().await;

    let output = send(&gateway, &["--batch-size", "2", "-"], json_lines(5)).await;

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("5 events: 5 accepted, 0 rejected, 0 not sent"),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(gateway.publisher.events().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_events_are_listed_by_input_index_and_exit_1() {
    let gateway = gateway().await;
    let mut events: Vec<serde_json::Value> = (0..3).map(event).collect();
    events[2]["properties"] = json!({});
    let input = json!({ "events": events }).to_string();

    let output = send(&gateway, &["--batch-size", "2"], input).await;

    assert_eq!(output.status.code(), Some(1));
    let errors = text(&output.stderr);
    assert!(
        errors.contains("rejected event 2: missing_field"),
        "{errors}"
    );
    assert!(
        text(&output.stdout).contains("2 accepted, 1 rejected"),
        "{}",
        text(&output.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_is_retried_after_its_retry_after() {
    let gateway = gateway().await;
    gateway
        .publisher
        .script([MockOutcome::Fail(PublishError::QueueFull)]);
    let started = Instant::now();

    let output = send(&gateway, &[], json_lines(1)).await;

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honored"
    );
    assert_eq!(gateway.publisher.events().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_gateway_stops_after_the_retries_and_exits_1() {
    let gateway = gateway().await;
    gateway
        .publisher
        .script(vec![MockOutcome::Fail(PublishError::QueueFull); 3]);

    let output = send(&gateway, &["--max-retries", "1"], json_lines(3)).await;

    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).contains("3 not sent"),
        "{}",
        text(&output.stdout)
    );
    assert!(
        text(&output.stderr).contains("still unavailable"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_stops_at_once_naming_the_error() {
    let gateway = gateway().await;

    let output = send(
        &gateway,
        &["--key", "wk_wrong_key_0000000000"],
        json_lines(1),
    )
    .await;

    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("invalid_write_key"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_names_the_url_and_the_os_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let args = ["send", "--url", &url, "--max-retries", "0"].map(str::to_owned);
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lintas"))
            .args(&args)
            .env("LINTAS_WRITE_KEY", KEY)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lintas runs");
        if let Some(mut input) = child.stdin.take() {
            input
                .write_all(json_lines(1).as_bytes())
                .expect("stdin written");
        }
        child.wait_with_output().expect("lintas finishes")
    })
    .await
    .expect("the blocking task completes");

    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("http://127.0.0.1:{port}/v1/events")),
        "{stderr}"
    );
    assert!(
        stderr.contains("(os error 111)") || stderr.to_lowercase().contains("connection refused"),
        "{stderr}"
    );
}

#[test]
fn an_unusable_url_is_refused_at_once_naming_the_flag_and_the_value() {
    // Each of these can never reach a gateway: retrying them (with a doubling backoff) only
    // delays the error by half a minute and blames the gateway for "no answer".
    for url in [
        "notaurl",
        "",
        "ftp://127.0.0.1:8080",
        "http://[::1",
        "http://127.0.0.1:8080?tenant=acme",
    ] {
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_lintas"))
            .args(["send", "--url", url, "--max-retries", "3", "-"])
            .env("LINTAS_WRITE_KEY", KEY)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lintas runs");
        if let Some(mut input) = child.stdin.take() {
            // The process may exit before reading its input; a closed pipe is fine then.
            input.write_all(json_lines(1).as_bytes()).ok();
        }
        let output = child.wait_with_output().expect("lintas finishes");

        assert_eq!(output.status.code(), Some(1), "{url}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{url} was retried"
        );
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("--url") && stderr.contains(&format!("{url:?}")),
            "{url}: {stderr}"
        );
    }
}

#[test]
fn a_missing_or_empty_write_key_is_refused_naming_the_environment_variable() {
    for key in [None, Some(""), Some("  ")] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lintas"));
        command
            .args(["send", "--url", "http://127.0.0.1:9", "-"])
            .env_remove("LINTAS_WRITE_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(key) = key {
            command.env("LINTAS_WRITE_KEY", key);
        }
        let output = command.output().expect("lintas runs");
        assert_eq!(output.status.code(), Some(1), "{key:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("LINTAS_WRITE_KEY") && stderr.contains("--key"),
            "{key:?}: {stderr}"
        );
    }
}
