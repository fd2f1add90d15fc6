//! Every metric the Grafana dashboards and the Helm chart's alerts read (`deploy/metrics.txt`,
//! kept in sync with them by `deploy/check.sh`) is exported by a running role.
//!
//! The gateway, classifier and sink run as `lintas` processes, as in the chart's Deployments, on
//! the real broker and ClickHouse server with topics, groups and a database of their own.
//! The classifier and sink must list their metrics from the first scrape (they register every
//! series at start). The gateway's labelled series exist once traffic has them, so the test sends
//! what a day brings: an accepted event (which then flows through classifier and sink into
//! ClickHouse), a wrong write key, a batch with one invalid event, and an authentic WhatsApp
//! webhook that cannot become an event (dead-lettered). Then every listed metric must be in some
//! role's `/metrics`.
#![cfg(feature = "integration")]

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;
use lintas_integration_tests::process::{LintasProcess, lintas_bin};
use lintas_integration_tests::{clickhouse_url, kafka_brokers, unique_name, wait_for};
use serde_json::json;

const TENANT: &str = "metrics";
const WRITE_KEY: &str = "wk_deploy_metrics_0123456789";
const WHATSAPP_APP_SECRET: &str = "deploy-metrics-app-secret";
/// Start-up on a busy 2-core machine includes connecting to Kafka and joining a group.
const READY_DEADLINE: Duration = Duration::from_secs(90);
/// From the gateway's 202 to a row in ClickHouse: a consumer-group join, a transaction and a
/// sink batch (batch_max_wait defaults to 1s).
const FLOW_DEADLINE: Duration = Duration::from_secs(120);

/// The metric names listed in deploy/metrics.txt.
fn listed_metrics() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/metrics.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert!(names.len() > 10, "{} lists only {names:?}", path.display());
    names
}

/// Sample names (what Prometheus stores, `_bucket` etc. included) of a text exposition.
fn sample_names(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// The value of an unlabelled sample, or the sum over all label sets of `name`.
fn sample_sum(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .filter(|line| line.split(['{', ' ']).next() == Some(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn free_port() -> u16 {
    // Closed again before the role binds it: a small race that would fail the test loudly.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// One role as a process, with the address of its `/metrics`.
struct Role {
    name: &'static str,
    base_url: String,
    _process: LintasProcess,
}

impl Role {
    fn start(name: &'static str, env: &[(String, String)]) -> anyhow::Result<Self> {
        let port = free_port();
        let mut env = env.to_vec();
        let listen_key = if name == "gateway" {
            "LINTAS__GATEWAY__LISTEN"
        } else {
            "LINTAS__TELEMETRY__ADMIN_LISTEN"
        };
        env.push((listen_key.to_owned(), format!("127.0.0.1:{port}")));
        Ok(Self {
            name,
            base_url: format!("http://127.0.0.1:{port}"),
            _process: LintasProcess::spawn(name, &[name], &env)?,
        })
    }

    async fn wait_ready(&self, client: &reqwest::Client) {
        let url = format!("{}/readyz", self.base_url);
        wait_for(
            &format!("{} /readyz", self.name),
            READY_DEADLINE,
            || async {
                let response = client.get(&url).send().await.ok()?;
                response.status().is_success().then_some(())
            },
        )
        .await;
    }

    async fn scrape(&self, client: &reqwest::Client) -> anyhow::Result<String> {
        let response = client
            .get(format!("{}/metrics", self.base_url))
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "{} /metrics: {}",
            self.name,
            response.status()
        );
        Ok(response.text().await?)
    }
}

/// Config env shared by the three roles: real services, unique topics, groups and database.
fn pipeline_env() -> Vec<(String, String)> {
    let prefix = unique_name("deploy_metrics");
    let tenant = TENANT.to_uppercase();
    vec![
        ("LINTAS__KAFKA__BROKERS".to_owned(), kafka_brokers()),
        (
            "LINTAS__KAFKA__TOPIC_RAW".to_owned(),
            format!("{prefix}.raw"),
        ),
        (
            "LINTAS__KAFKA__TOPIC_CLASSIFIED".to_owned(),
            format!("{prefix}.classified"),
        ),
        (
            "LINTAS__KAFKA__TOPIC_DLQ".to_owned(),
            format!("{prefix}.dlq"),
        ),
        (
            "LINTAS__KAFKA__TOPIC_CONTEXT".to_owned(),
            format!("{prefix}.context"),
        ),
        ("LINTAS__TOPICS__PARTITIONS".to_owned(), "2".to_owned()),
        (
            "LINTAS__TOPICS__REPLICATION_FACTOR".to_owned(),
            "1".to_owned(),
        ),
        ("LINTAS__CLICKHOUSE__URL".to_owned(), clickhouse_url()),
        ("LINTAS__CLICKHOUSE__DATABASE".to_owned(), prefix.clone()),
        (
            "LINTAS__CLASSIFIER__GROUP_ID".to_owned(),
            format!("{prefix}_classifier"),
        ),
        (
            "LINTAS__SINK__GROUP_ID".to_owned(),
            format!("{prefix}_sink"),
        ),
        (
            format!("LINTAS__TENANTS__{tenant}__WRITE_KEYS"),
            WRITE_KEY.to_owned(),
        ),
        (
            format!("LINTAS__TENANTS__{tenant}__WEBHOOKS__WHATSAPP__APP_SECRET"),
            WHATSAPP_APP_SECRET.to_owned(),
        ),
        (
            format!("LINTAS__TENANTS__{tenant}__WEBHOOKS__WHATSAPP__VERIFY_TOKEN"),
            "deploy-metrics-verify-token".to_owned(),
        ),
        ("LINTAS__TELEMETRY__LOG_LEVEL".to_owned(), "warn".to_owned()),
    ]
}

/// `lintas topics apply` and `lintas migrate`, as the chart's setup Job runs them before the
/// roles start.
fn setup(env: &[(String, String)]) -> anyhow::Result<()> {
    for args in [&["topics", "apply"][..], &["migrate"][..]] {
        let status = Command::new(lintas_bin())
            .args(args)
            .envs(
                env.iter()
                    .map(|(key, value)| (key.as_str(), value.as_str())),
            )
            .status()
            .with_context(|| format!("running lintas {}", args.join(" ")))?;
        anyhow::ensure!(
            status.success(),
            "lintas {} failed: {status}",
            args.join(" ")
        );
    }
    Ok(())
}

/// Metrics of `role` (by name prefix) that the first scrape lacks.
fn missing_of_role(listed: &[String], role: &str, exposition: &str) -> Vec<String> {
    let exported = sample_names(exposition);
    let prefix = format!("lintas_{role}_");
    listed
        .iter()
        .filter(|name| name.starts_with(&prefix) && !exported.contains(*name))
        .cloned()
        .collect()
}

fn corpus_file(relative: &str) -> PathBuf {
    let dir = std::env::var("LINTAS_CORPUS_DIR")
        .expect("LINTAS_CORPUS_DIR is set by .cargo/config.toml to the shared channel corpus");
    Path::new(&dir).join(relative)
}

/// The traffic that gives the gateway's labelled series their first samples.
async fn send_traffic(client: &reqwest::Client, gateway: &Role) -> anyhow::Result<()> {
    let events_url = format!("{}/v1/events", gateway.base_url);
    let event = |id: &str| {
        json!({"type": "track", "event": "message.received", "userId": "cust_deploy_1",
            "messageId": id, "properties": {"channel": "web_chat", "text": "where is my order?"}})
    };
    let post = |key: &'static str, body: serde_json::Value| {
        client
            .post(&events_url)
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let accepted = post(WRITE_KEY, json!({"events": [event("deploy-metrics-1")]})).await?;
    anyhow::ensure!(
        accepted.status().as_u16() == 202,
        "valid event: {}",
        accepted.status()
    );

    let refused = post(
        "wk_not_a_key_of_anyone_0000",
        json!({"events": [event("deploy-metrics-2")]}),
    )
    .await?;
    anyhow::ensure!(
        refused.status().as_u16() == 401,
        "wrong key: {}",
        refused.status()
    );

    // The second event has no channel, user or text: refused alone, its neighbour accepted.
    let mixed = post(
        WRITE_KEY,
        json!({"events": [event("deploy-metrics-3"), {"type": "track"}]}),
    )
    .await?;
    let body: serde_json::Value = serde_json::from_slice(&mixed.bytes().await?)?;
    let rejected = body["rejected"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(
        rejected == 1,
        "mixed batch: one event must be rejected, got {body}"
    );

    let webhook = std::fs::read(corpus_file("whatsapp/malformed_missing_sender.json"))?;
    let signature = lintas_adapters::testing::meta_signature(WHATSAPP_APP_SECRET, &webhook);
    let dead_letter = client
        .post(format!(
            "{}/v1/webhooks/{TENANT}/whatsapp",
            gateway.base_url
        ))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(webhook)
        .send()
        .await?;
    anyhow::ensure!(
        dead_letter.status().is_success(),
        "authentic but unusable webhook: {}",
        dead_letter.status()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_of_the_dashboards_and_alerts_is_exported_by_a_running_role()
-> anyhow::Result<()> {
    let listed = listed_metrics();
    let env = pipeline_env();
    setup(&env)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;

    let gateway = Role::start("gateway", &env)?;
    let classifier = Role::start("classifier", &env)?;
    let sink = Role::start("sink", &env)?;
    for role in [&gateway, &classifier, &sink] {
        role.wait_ready(&client).await;
    }

    // Registered at start: a dashboard shows zeros, not "no data", before the first event.
    for role in [&classifier, &sink] {
        let first = role.scrape(&client).await?;
        let missing = missing_of_role(&listed, role.name, &first);
        assert!(
            missing.is_empty(),
            "{}'s first scrape lacks {missing:?}",
            role.name
        );
    }

    send_traffic(&client, &gateway).await?;
    // The accepted events reach ClickHouse, so the dashboards' rates move end to end.
    wait_for("a row inserted by the sink", FLOW_DEADLINE, || async {
        let exposition = sink.scrape(&client).await.ok()?;
        (sample_sum(&exposition, "lintas_sink_rows_inserted_total") >= 1.0).then_some(())
    })
    .await;

    let mut exported_by: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for role in [&gateway, &classifier, &sink] {
        let exposition = role.scrape(&client).await?;
        for name in sample_names(&exposition) {
            exported_by.entry(name).or_default().push(role.name);
        }
        if role.name == "classifier" {
            let classified = sample_sum(&exposition, "lintas_classifier_events_classified_total");
            assert!(
                classified >= 2.0,
                "classifier counted {classified} classified events, want the 2 accepted"
            );
        }
    }
    let missing: Vec<&String> = listed
        .iter()
        .filter(|name| !exported_by.contains_key(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "metrics read by deploy/grafana or the PrometheusRule but exported by no role: {missing:?}"
    );
    Ok(())
}
