//! Writes what the chDB check (`scripts/chdb_check.py`) feeds to ClickHouse 26.x, all made by
//! this crate's production code:
//!
//! - `DIR/fixture.bin`: the query-pack fixture as RowBinary from `encode_rows`, the body the
//!   sink sends; `DIR/fixture.jsonl`: the same rows as JSON, the values a decoder must read
//!   back; `DIR/columns.txt`: the insert's column list.
//! - `DIR/schema.sql`: every migration rendered for SERVER_VERSION (database `lintas`, TTL of
//!   TTL_DAYS), exactly as `lintas migrate --dry-run --server-version SERVER_VERSION` prints it.
//! - `DIR/pack.json`: for each expected answer in `sql/queries/expected/`, the query rendered
//!   with its parameters (as `lintas query` renders it) and the expected rows.
//!
//! Usage: cargo run -p lintas-clickhouse --example write_fixture -- DIR SERVER_VERSION [TTL_DAYS]

use std::io::Write as _;
use std::path::{Path, PathBuf};

use lintas_clickhouse::query::PackQuery;
use lintas_clickhouse::{SchemaOptions, ServerCapabilities, ServerVersion};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(version)) = (args.first(), args.get(1)) else {
        anyhow::bail!("usage: write_fixture DIR SERVER_VERSION [TTL_DAYS]");
    };
    let dir = PathBuf::from(dir);
    let ttl_days: u32 = match args.get(2) {
        Some(days) => days
            .parse()
            .map_err(|_| anyhow::anyhow!("TTL_DAYS must be a whole number, got {days:?}"))?,
        None => 0,
    };
    std::fs::create_dir_all(&dir)?;

    let rows = lintas_clickhouse::fixture::rows();
    std::fs::write(
        dir.join("fixture.bin"),
        lintas_clickhouse::encode_rows(&rows),
    )?;
    let mut json = std::io::BufWriter::new(std::fs::File::create(dir.join("fixture.jsonl"))?);
    for row in &rows {
        writeln!(json, "{}", serde_json::to_string(row)?)?;
    }
    json.flush()?;
    std::fs::write(
        dir.join("columns.txt"),
        lintas_clickhouse::COLUMNS.join("\n") + "\n",
    )?;

    let capabilities = ServerCapabilities::new(ServerVersion::parse(version)?);
    let options = SchemaOptions {
        database: "lintas".to_owned(),
        variant: capabilities.schema_variant(),
        cluster: None,
        ttl_days,
        // The configuration's default (`clickhouse.dedup_window_blocks`).
        dedup_window_blocks: 1000,
    };
    let script = lintas_clickhouse::migrate::render_script(&options, &capabilities);
    std::fs::write(dir.join("schema.sql"), script)?;

    let expected_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql/queries/expected");
    let mut cases = Vec::new();
    for answer in lintas_clickhouse::fixture::expected_answers(&expected_dir)? {
        let sql = PackQuery::find(&answer.query)?.render(&answer.params)?;
        cases.push(serde_json::json!({
            "file": answer.file.file_name().map(|f| f.to_string_lossy().into_owned()),
            "query": answer.query,
            "sql": sql,
            "expected": answer.rows,
        }));
    }
    std::fs::write(dir.join("pack.json"), serde_json::to_string_pretty(&cases)?)?;
    println!(
        "{} rows, {} schema for {}, {} pack cases written to {}",
        rows.len(),
        options.variant.as_str(),
        capabilities.version,
        cases.len(),
        dir.display()
    );
    Ok(())
}
