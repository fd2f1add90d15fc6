//! End to end: the example day of a small shop (`examples/shop-day/day.toml`) replayed over HTTP
//! through `lintas gateway`, `lintas classifier` and `lintas sink` running as separate processes
//! on the real broker and ClickHouse server. Every accepted event must be exactly one row of
//! `interactions FINAL` with the expected normalized fields, interaction type and journey stage,
//! and nothing of the tenant may be dead-lettered.
//!
//! The second test SIGKILLs the sink and then the classifier while the day is being replayed,
//! restarts each, and asserts the same: the sink commits offsets only after its insert (a
//! re-insert deduplicates in `FINAL`), the classifier's transactions make its output exactly
//! once.
#![cfg(feature = "integration")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lintas_integration_tests::classifier::ClassifierTopics;
use lintas_integration_tests::process::LintasProcess;
use lintas_integration_tests::{clickhouse_url, kafka_brokers, sink::server_client, unique_name};
use lintas_shop_day::verify::{ClickhouseTarget, compare, count_dlq, stored_rows, wait_for_rows};
use lintas_shop_day::{Day, ReplayOptions, ReplayReport, TenantSecrets};

/// Longest wait for every accepted event to be a row.
const ROWS_DEADLINE: Duration = Duration::from_secs(90);

/// One test's pipeline: private topics, database, tenant and gateway port.
struct Pipeline {
    topics: ClassifierTopics,
    database: String,
    sink_group: String,
    tenant: String,
    port: u16,
    config_path: PathBuf,
    _dir: TempDir,
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

impl Pipeline {
    async fn create() -> anyhow::Result<Self> {
        let topics = ClassifierTopics::create("e2e").await?;
        let database = unique_name("e2e");
        // The random tail of a UUIDv7: tests running at once get different tenants.
        let id = unique_name("t");
        let tenant = format!("kopi-senja-{}", &id[id.len() - 12..]);
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            listener.local_addr()?.port()
        };
        let dir = std::env::temp_dir().join(unique_name("e2e-shop-day"));
        std::fs::create_dir_all(&dir)?;
        let secrets = lintas_shop_day::tenant::generate_secrets();
        let config_path = dir.join("lintas.toml");
        std::fs::write(
            &config_path,
            format!(
                "[gateway]\nlisten = \"127.0.0.1:{port}\"\n\n{}",
                lintas_shop_day::tenant::tenant_toml(&tenant, &secrets)
            ),
        )?;
        let pipeline = Self {
            topics,
            database,
            sink_group: unique_name("e2e_sink"),
            tenant,
            port,
            config_path,
            _dir: TempDir(dir),
        };
        let config = pipeline.config()?;
        let client = server_client();
        let capabilities = lintas_clickhouse::ServerCapabilities::detect(&client).await?;
        let options = lintas_clickhouse::schema_options(&config, &capabilities);
        lintas_clickhouse::migrate(&client, &options, &capabilities).await?;
        Ok(pipeline)
    }

    /// Env of every role: the private topics, database and groups, small sink batches.
    fn env(&self) -> Vec<(String, String)> {
        let mut env = self.topics.env();
        env.extend(
            [
                ("LINTAS__CLICKHOUSE__URL", clickhouse_url()),
                ("LINTAS__CLICKHOUSE__DATABASE", self.database.clone()),
                ("LINTAS__CLICKHOUSE__REQUEST_TIMEOUT", "5s".to_owned()),
                ("LINTAS__SINK__GROUP_ID", self.sink_group.clone()),
                ("LINTAS__SINK__BATCH_MAX_ROWS", "10".to_owned()),
                ("LINTAS__SINK__BATCH_MAX_WAIT", "200ms".to_owned()),
                ("LINTAS__SINK__RETRY_INITIAL_BACKOFF", "100ms".to_owned()),
                ("LINTAS__SINK__RETRY_MAX_BACKOFF", "2s".to_owned()),
                // A killed sink's partitions move after this long (the broker's minimum).
                ("LINTAS__KAFKA__SESSION_TIMEOUT", "6s".to_owned()),
            ]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value)),
        );
        env
    }

    fn config(&self) -> anyhow::Result<lintas_config::Config> {
        let env = self.env().into_iter().collect();
        Ok(lintas_config::load(Some(&self.config_path), env)?)
    }

    fn spawn(&self, role: &str) -> anyhow::Result<LintasProcess> {
        let config = self.config_path.to_string_lossy().into_owned();
        LintasProcess::spawn(role, &["--config", &config, role], &self.env())
    }

    /// `lintas run` (all roles in one process); `embedded` leaves `kafka.brokers` empty.
    fn spawn_run(&self, embedded: bool) -> anyhow::Result<LintasProcess> {
        let config = self.config_path.to_string_lossy().into_owned();
        let mut env = self.env();
        if embedded {
            env.retain(|(key, _)| key != "LINTAS__KAFKA__BROKERS");
            env.push(("LINTAS__KAFKA__BROKERS".to_owned(), String::new()));
        }
        LintasProcess::spawn("run", &["--config", &config, "run", "--migrate"], &env)
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_gateway_ready(&self, gateway: &mut LintasProcess) -> anyhow::Result<()> {
        let url = format!("{}/readyz", self.base_url());
        let started = Instant::now();
        loop {
            if let Some(status) = gateway.try_wait()? {
                anyhow::bail!("lintas gateway exited during start: {status}");
            }
            if let Ok(response) = reqwest::get(&url).await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "gateway not ready within 60s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn replay(&self, pause: Duration) -> anyhow::Result<ReplayReport> {
        let day = Day::builtin()?;
        let secrets = TenantSecrets::from_config(&self.config()?, &self.tenant)?;
        let options = ReplayOptions {
            base_url: self.base_url(),
            public_base: None,
            tenant: self.tenant.clone(),
            verbose: false,
            pause,
        };
        Ok(lintas_shop_day::replay(&day, &secrets, &options, &mut std::io::sink()).await?)
    }

    /// Every accepted event is one row with the expected fields and labels; no DLQ record.
    async fn assert_every_event_landed_exactly(&self, report: &ReplayReport) -> anyhow::Result<()> {
        self.assert_rows_exact(report, ROWS_DEADLINE).await?;
        let config = self.config()?;
        let dlq = count_dlq(
            &config.kafka,
            &kafka_brokers(),
            &self.topics.dlq,
            &self.tenant,
        )?;
        assert_eq!(dlq.tenant, 0, "dead-lettered records of the tenant");
        assert_eq!(dlq.unattributed, 0, "undecodable dead-lettered records");
        Ok(())
    }

    /// Every accepted event is one row with the expected fields and labels within `deadline`.
    async fn assert_rows_exact(
        &self,
        report: &ReplayReport,
        deadline: Duration,
    ) -> anyhow::Result<()> {
        assert_eq!(
            report.events_accepted(),
            report.events_sent(),
            "the gateway refused events: {:?}",
            report
                .outcomes
                .iter()
                .filter(|outcome| !outcome.accepted)
                .map(|outcome| (&outcome.expected.step, &outcome.rejection))
                .collect::<Vec<_>>()
        );
        let config = self.config()?;
        let target = ClickhouseTarget::from_config(&config);
        let rows =
            wait_for_rows(&target, &self.tenant, &report.outcomes, deadline, |_, _| {}).await?;
        let verification = compare(&report.outcomes, &rows);
        assert!(
            verification.is_exact(),
            "rows differ from the day: missing {:?}, duplicated {:?}, unexpected {}, fields {:#?}, labels {:#?}",
            verification.missing,
            verification.duplicated,
            verification.unexpected,
            verification.field_mismatches,
            verification.label_mismatches
        );
        assert_eq!(verification.rows, report.events_sent());
        assert_eq!(rows.len(), report.events_sent());
        Ok(())
    }

    async fn rows_now(&self) -> anyhow::Result<usize> {
        let target = ClickhouseTarget::from_config(&self.config()?);
        // The table exists (migrated at create); a failed read counts as none yet.
        Ok(stored_rows(&target, &self.tenant)
            .await
            .map_or(0, |rows| rows.len()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_day_lands_once_per_event_with_its_fields_and_labels() -> anyhow::Result<()> {
    let started = Instant::now();
    let pipeline = Pipeline::create().await?;
    let mut gateway = pipeline.spawn("gateway")?;
    let mut classifier = pipeline.spawn("classifier")?;
    let mut sink = pipeline.spawn("sink")?;
    pipeline.wait_gateway_ready(&mut gateway).await?;

    let report = pipeline.replay(Duration::ZERO).await?;
    assert!(report.events_sent() >= 50, "the day has its events");
    pipeline.assert_every_event_landed_exactly(&report).await?;

    assert!(gateway.terminate(Duration::from_secs(30))?, "gateway exit");
    assert!(
        classifier.terminate(Duration::from_secs(30))?,
        "classifier exit"
    );
    assert!(sink.terminate(Duration::from_secs(30))?, "sink exit");
    eprintln!(
        "e2e shop day: {} events, {:.1}s",
        report.events_sent(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_day_survives_sink_and_classifier_sigkill_mid_replay() -> anyhow::Result<()> {
    let started = Instant::now();
    let pipeline = Pipeline::create().await?;
    let mut gateway = pipeline.spawn("gateway")?;
    let mut classifier = pipeline.spawn("classifier")?;
    let mut sink = pipeline.spawn("sink")?;
    pipeline.wait_gateway_ready(&mut gateway).await?;

    // 52 requests 150 ms apart: about 8 s of replay to kill the roles in.
    let replaying = {
        let pipeline_url = pipeline.base_url();
        let day = Day::builtin()?;
        let secrets = TenantSecrets::from_config(&pipeline.config()?, &pipeline.tenant)?;
        let options = ReplayOptions {
            base_url: pipeline_url,
            public_base: None,
            tenant: pipeline.tenant.clone(),
            verbose: false,
            pause: Duration::from_millis(150),
        };
        tokio::spawn(async move {
            lintas_shop_day::replay(&day, &secrets, &options, &mut std::io::sink()).await
        })
    };

    // The sink dies once some rows landed, the classifier a little later; both restart at once.
    let deadline = Instant::now() + Duration::from_secs(60);
    while pipeline.rows_now().await? < 5 {
        anyhow::ensure!(Instant::now() < deadline, "no rows within 60s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sink.kill9()?;
    let rows_at_sink_kill = pipeline.rows_now().await?;
    let mut sink = pipeline.spawn("sink")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    classifier.kill9()?;
    let mut classifier = pipeline.spawn("classifier")?;
    let replay_done_before_kills = replaying.is_finished();

    let report = replaying.await??;
    assert!(
        !replay_done_before_kills,
        "the replay ended before the kills: they were not mid-replay"
    );
    assert!(
        rows_at_sink_kill < report.events_sent(),
        "the sink was killed after everything landed"
    );
    pipeline.assert_every_event_landed_exactly(&report).await?;

    assert!(gateway.terminate(Duration::from_secs(30))?, "gateway exit");
    assert!(
        classifier.terminate(Duration::from_secs(30))?,
        "classifier exit"
    );
    assert!(sink.terminate(Duration::from_secs(30))?, "sink exit");
    eprintln!(
        "e2e shop day with kills: {} events, {rows_at_sink_kill} rows at the sink kill, {:.1}s",
        report.events_sent(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `lintas run` stopped with SIGTERM the moment the replay's last request was answered: it
/// drains before exiting, so every accepted event is a row once it has exited. On the embedded
/// broker nothing survives the process, so a lost event would show as a missing row.
async fn lintas_run_loses_nothing_on_sigterm(embedded: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let pipeline = Pipeline::create().await?;
    let mut run = pipeline.spawn_run(embedded)?;
    pipeline.wait_gateway_ready(&mut run).await?;
    let report = pipeline.replay(Duration::ZERO).await?;
    assert!(run.terminate(Duration::from_secs(60))?, "lintas run exit");
    // Nothing runs any more: the rows must already be there (a short deadline, no waiting).
    pipeline
        .assert_rows_exact(&report, Duration::from_secs(1))
        .await?;
    eprintln!(
        "lintas run (embedded {embedded}): {} events, {:.1}s",
        report.events_sent(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lintas_run_on_the_real_broker_drains_accepted_events_on_sigterm() -> anyhow::Result<()> {
    lintas_run_loses_nothing_on_sigterm(false).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lintas_run_on_the_embedded_broker_drains_accepted_events_on_sigterm() -> anyhow::Result<()>
{
    lintas_run_loses_nothing_on_sigterm(true).await
}
