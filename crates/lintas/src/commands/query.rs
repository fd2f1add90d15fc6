//! `lintas query [NAME] [--param k=v]... [--format table|csv|json] [--sql]`: run a query of
//! the analysts' pack (`sql/queries/`). Without NAME, lists the pack.

use clap::{Args, ValueEnum};
use lintas_clickhouse::query::{PACK, PackQuery};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// Query name (file stem under sql/queries); omit to list the pack.
    name: Option<String>,
    /// A parameter, `name=value` (repeatable). `lintas query` lists each query's parameters.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Print the rendered SQL instead of running it.
    #[arg(long)]
    sql: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned columns with a header.
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Json,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected NAME=VALUE, got {text:?}"))
}

pub(crate) fn run(args: QueryArgs, path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let Some(name) = args.name else {
        for query in PACK {
            println!("{}\n    {}", query.name, query.question());
            for param in query.params()? {
                let default = param
                    .default
                    .map(|d| format!(" (default {d})"))
                    .unwrap_or_default();
                println!(
                    "    --param {}=<{}>{default}: {}",
                    param.name, param.ty, param.description
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let query = PackQuery::find(&name)?;
    let mut values = BTreeMap::new();
    for (key, value) in args.params {
        // Last-wins would silently run another range than the one the analyst read first.
        if values.contains_key(&key) {
            anyhow::bail!("--param {key} given twice: give each parameter once");
        }
        values.insert(key, value);
    }
    let sql = query.render(&values)?;
    if args.sql {
        println!("{sql}");
        return Ok(ExitCode::SUCCESS);
    }
    let config = super::load_config(path)?;
    let client = lintas_clickhouse::client(&config.clickhouse);
    let format = match args.format {
        Format::Table => "TabSeparatedWithNames",
        Format::Csv => "CSVWithNames",
        Format::Json => "JSONEachRow",
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let bytes = runtime
        .block_on(async {
            // Created inside the runtime: a timer needs its reactor.
            tokio::time::timeout(
                config.clickhouse.request_timeout,
                lintas_clickhouse::query::fetch(&client, &query, &sql, format),
            )
            .await
        })
        .map_err(|_| {
            anyhow::anyhow!(
                "no answer from {} within clickhouse.request_timeout ({})",
                config.clickhouse.url,
                humantime::format_duration(config.clickhouse.request_timeout)
            )
        })?
        .map_err(|error| {
            let described = super::describe_clickhouse_error(&error);
            anyhow::anyhow!("on {}: {described}", config.clickhouse.url)
        })?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            let text = String::from_utf8_lossy(&bytes);
            let rows = lintas_clickhouse::query::parse_tsv(&text);
            out.write_all(render_table(&rows).as_bytes())?;
            // A mistyped tenant or a reversed range looks like "no data" otherwise.
            if rows.len() <= 1 {
                eprintln!("no rows: check the tenant and the time range of the parameters");
            }
        }
        Format::Csv | Format::Json => out.write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A cell as it can be shown in a terminal: customer text may hold newlines, tabs or escape
/// sequences, which would break the columns or drive the terminal.
fn printable(cell: &str) -> String {
    if !cell.chars().any(char::is_control) {
        return cell.to_owned();
    }
    cell.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Columns padded to their widest cell (in characters), two spaces apart.
fn render_table(rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| printable(cell)).collect())
        .collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_param("as_of=2026-03-31 00:00:00"),
            Ok(("as_of".to_owned(), "2026-03-31 00:00:00".to_owned()))
        );
        assert_eq!(parse_param("q=a=b"), Ok(("q".to_owned(), "a=b".to_owned())));
        assert!(parse_param("novalue").is_err());
        assert!(parse_param("=x").is_err());
    }

    #[test]
    fn tables_align_on_the_widest_cell() {
        let rows = vec![
            vec!["channel".to_owned(), "n".to_owned()],
            vec!["messaging".to_owned(), "12".to_owned()],
        ];
        assert_eq!(render_table(&rows), "channel    n\nmessaging  12\n");
    }

    #[test]
    fn control_characters_in_cells_are_shown_escaped() {
        let rows = vec![
            vec!["text".to_owned(), "n".to_owned()],
            vec!["hi\nthere\t\u{1b}[31m".to_owned(), "1".to_owned()],
        ];
        let table = render_table(&rows);
        assert_eq!(table.lines().count(), 2, "{table}");
        assert!(table.contains("hi\\nthere\\t\\u{1b}[31m  1"), "{table}");
        assert!(!table.contains('\u{1b}'), "{table}");
    }
}
