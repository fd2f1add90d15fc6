//! Every query of the pack on the real ClickHouse server, against the seeded fixture
//! (`lintas_clickhouse::fixture`): the answers must equal `sql/queries/expected/*.tsv`, the
//! same files `scripts/chdb_check.py` checks on ClickHouse 26.x.
#![cfg(feature = "integration")]

use std::collections::BTreeSet;
use std::process::Command;

use lintas_clickhouse::query::{PACK, PackQuery, fetch, parse_tsv};
use lintas_integration_tests::clickhouse_url;
use lintas_integration_tests::process::lintas_bin;
use lintas_integration_tests::warehouse::{TestDatabase, expected_answers};

#[tokio::test]
async fn every_query_of_the_pack_returns_the_expected_rows() -> anyhow::Result<()> {
    let db = TestDatabase::migrated("ch_pack").await?;
    db.load_fixture().await?;
    let answers = expected_answers()?;
    let covered: BTreeSet<&str> = answers.iter().map(|a| a.query.as_str()).collect();
    let pack: BTreeSet<&str> = PACK.iter().map(|q| q.name).collect();
    assert_eq!(
        covered, pack,
        "every query needs an expected answer, and only those"
    );

    for answer in &answers {
        let query = PackQuery::find(&answer.query)?;
        let sql = query.render(&answer.params)?;
        let bytes = fetch(&db.client, &query, &sql, "TabSeparatedWithNames").await?;
        let rows = parse_tsv(&String::from_utf8(bytes)?);
        assert_eq!(
            rows,
            answer.rows,
            "{} on ClickHouse {}:\n{sql}",
            answer.file.display(),
            db.capabilities.version
        );
        assert!(
            answer.rows.len() > 1,
            "{}: expects no data rows",
            answer.file.display()
        );
    }
    Ok(())
}

#[tokio::test]
async fn lintas_query_prints_a_table_csv_and_json() -> anyhow::Result<()> {
    let db = TestDatabase::migrated("ch_query_cli").await?;
    db.load_fixture().await?;
    let run = |args: &[&str]| -> anyhow::Result<String> {
        let output = Command::new(lintas_bin())
            .arg("query")
            .args(args)
            .env("LINTAS__CLICKHOUSE__URL", clickhouse_url())
            .env("LINTAS__CLICKHOUSE__DATABASE", &db.name)
            .output()?;
        anyhow::ensure!(
            output.status.success(),
            "lintas query {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8(output.stdout)?)
    };

    let listing = run(&[])?;
    for query in PACK {
        assert!(listing.contains(query.name), "{listing}");
        assert!(listing.contains(query.question()), "{listing}");
    }

    let timeline = [
        "customer_timeline",
        "--param",
        "tenant=acme-shop",
        "--param",
        "customer=email:a@example.com",
        "--param",
        "limit=2",
    ];
    let table = run(&timeline)?;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].starts_with("at                   channel    direction"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("2026-03-02 09:00:00  messaging  inbound "),
        "{table}"
    );
    assert!(lines[1].ends_with("where is my order 1042?"), "{table}");

    let csv = run(&[&timeline[..], &["--format", "csv"]].concat())?;
    assert!(csv.starts_with("\"at\",\"channel\",\"direction\""), "{csv}");
    assert_eq!(csv.lines().count(), 3, "{csv}");

    let json = run(&[&timeline[..], &["--format", "json"]].concat())?;
    let objects: Vec<serde_json::Value> = json
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(objects.len(), 2, "{json}");
    assert_eq!(objects[1]["agent_id"], "agent:ana");
    assert_eq!(objects[1]["at"], "2026-03-02 09:05:00");

    // Counts are JSON numbers, not the strings ClickHouse writes for 64-bit integers by default.
    let mix = run(&[
        "channel_mix",
        "--param",
        "tenant=acme-shop",
        "--param",
        "from=2026-03-02",
        "--param",
        "to=2026-04-02",
        "--format",
        "json",
    ])?;
    let first: serde_json::Value = serde_json::from_str(mix.lines().next().unwrap_or_default())?;
    assert!(first["interactions"].is_u64(), "{mix}");

    // A wrong parameter is refused before any request, naming what was wrong.
    let bad = Command::new(lintas_bin())
        .args([
            "query",
            "channel_mix",
            "--param",
            "tenant=a",
            "--param",
            "from=March",
        ])
        .env("LINTAS__CLICKHOUSE__URL", clickhouse_url())
        .output()?;
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("parameter from=\"March\" is not a valid Date"),
        "{stderr}"
    );
    Ok(())
}
