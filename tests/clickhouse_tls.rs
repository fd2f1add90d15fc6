//! `lintas` talks to ClickHouse over https, trusting a private CA given in `SSL_CERT_FILE` as
//! the chart sets it up (`clickhouse.tls.caSecret`), and refuses a server certificate that no
//! trusted root vouches for. The test server listens on https with a certificate from a CA made
//! by `scripts/lib/clickhouse.sh` for this run.
#![cfg(feature = "integration")]

use std::process::{Command, Output};

use lintas_integration_tests::process::lintas_bin;
use lintas_integration_tests::warehouse::{TestDatabase, server_client};
use lintas_integration_tests::{clickhouse_ca, clickhouse_https_url, clickhouse_url, unique_name};

/// `lintas <args>` against `url` and `database`; trusting `ca` alone when given, else only the
/// system roots (which never include the run's CA).
fn lintas(args: &[&str], url: &str, ca: Option<&str>, database: &str) -> anyhow::Result<Output> {
    let mut command = Command::new(lintas_bin());
    command.args(args);
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("LINTAS__") || key_text.starts_with("SSL_CERT_") {
            command.env_remove(key);
        }
    }
    command
        .env("LINTAS__CLICKHOUSE__URL", url)
        .env("LINTAS__CLICKHOUSE__DATABASE", database)
        .env("LINTAS__CLICKHOUSE__REQUEST_TIMEOUT", "20s");
    if let Some(ca) = ca {
        command.env("SSL_CERT_FILE", ca);
    }
    Ok(command.output()?)
}

fn succeeded(output: &Output, what: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout.clone())?)
}

#[tokio::test]
async fn migrate_and_query_work_over_https_with_a_private_ca() -> anyhow::Result<()> {
    let https = clickhouse_https_url();
    let ca = clickhouse_ca();

    let database = unique_name("ch_tls_migrate");
    let output = lintas(&["migrate"], &https, Some(&ca), &database)?;
    let summary = succeeded(&output, "lintas migrate over https")?;
    assert!(
        summary.contains(&format!("schema in database {database}: applied [")),
        "{summary}"
    );
    // What the https session created, seen over plain http.
    let server = server_client();
    let tables: Vec<String> = server
        .query("SELECT name FROM system.tables WHERE database = ? ORDER BY name")
        .bind(&database)
        .fetch_all()
        .await?;
    server
        .query(&format!("DROP DATABASE IF EXISTS `{database}`"))
        .execute()
        .await?;
    assert!(tables.iter().any(|t| t == "interactions"), "{tables:?}");

    // The same answer over https as over http, on the query pack's fixture.
    let db = TestDatabase::migrated("ch_tls_query").await?;
    db.load_fixture().await?;
    let query = [
        "query",
        "channel_mix",
        "--param",
        "tenant=acme-shop",
        "--param",
        "from=2026-03-02",
        "--param",
        "to=2026-04-02",
    ];
    let over_https = succeeded(
        &lintas(&query, &https, Some(&ca), &db.name)?,
        "lintas query over https",
    )?;
    let over_http = succeeded(
        &lintas(&query, &clickhouse_url(), None, &db.name)?,
        "lintas query over http",
    )?;
    assert!(over_https.lines().count() > 1, "{over_https}");
    assert_eq!(over_https, over_http);
    Ok(())
}

#[test]
fn a_certificate_no_trusted_root_vouches_for_is_refused() -> anyhow::Result<()> {
    let https = clickhouse_https_url();
    let database = unique_name("ch_tls_refused");
    let output = lintas(&["migrate"], &https, None, &database)?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&https), "{stderr}");
    assert!(stderr.contains("invalid peer certificate"), "{stderr}");
    assert!(stderr.contains("set SSL_CERT_FILE"), "{stderr}");
    Ok(())
}
