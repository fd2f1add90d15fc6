//! A ClickHouse database of its own per test, migrated with `lintas_clickhouse::migrate` and
//! optionally loaded with the query-pack fixture; dropped again when the handle is dropped.
//!
//! Also reads the pack's expected answers (`sql/queries/expected/*.tsv`), which the chDB check
//! (`scripts/chdb_check.py`) asserts on ClickHouse 26.x as well.

use std::path::Path;

use lintas_clickhouse::fixture::ExpectedAnswer;
use lintas_clickhouse::{SchemaOptions, ServerCapabilities};

use crate::{clickhouse_url, test_config, unique_name};

/// A migrated database on the real test server.
#[derive(Debug)]
pub struct TestDatabase {
    /// The database's name.
    pub name: String,
    /// A client whose default database is this one.
    pub client: clickhouse::Client,
    /// The server's capabilities.
    pub capabilities: ServerCapabilities,
    /// The options the schema was rendered with.
    pub options: SchemaOptions,
}

/// A client of the test server without a default database, validation off (18.16 lacks
/// `RowBinaryWithNamesAndTypes`).
pub fn server_client() -> clickhouse::Client {
    clickhouse::Client::default()
        .with_url(clickhouse_url())
        .with_validation(false)
}

impl TestDatabase {
    /// A fresh database named `<prefix>_<uuid>` with every migration applied.
    pub async fn migrated(prefix: &str) -> anyhow::Result<Self> {
        let name = unique_name(prefix);
        let database_key = ("LINTAS__CLICKHOUSE__DATABASE", name.as_str());
        let config = test_config(&[database_key]);
        let server = server_client();
        let capabilities = ServerCapabilities::detect(&server).await?;
        let options = lintas_clickhouse::schema_options(&config, &capabilities);
        lintas_clickhouse::migrate(&server, &options, &capabilities).await?;
        Ok(Self {
            client: server.with_database(&name),
            name,
            capabilities,
            options,
        })
    }

    /// Inserts the fixture rows as the sink does: RowBinary from `encode_rows`, the insert
    /// statement from `insert_sql`, with the server's insert settings.
    pub async fn load_fixture(&self) -> anyhow::Result<usize> {
        let rows = lintas_clickhouse::fixture::rows();
        let bytes = lintas_clickhouse::encode_rows(&rows);
        let sql = lintas_clickhouse::insert_sql(&self.name, lintas_clickhouse::INTERACTIONS_TABLE);
        let mut insert = self.client.insert_formatted_with(sql);
        for (name, value) in self.capabilities.insert_settings("fixture/0/0-19") {
            insert = insert.with_setting(name, value);
        }
        insert.send(bytes.into()).await?;
        insert.end().await?;
        Ok(rows.len())
    }

    /// The first column of `sql`'s answer, one string per row.
    pub async fn column(&self, sql: &str) -> anyhow::Result<Vec<String>> {
        let mut cursor = self.client.query_raw(sql).fetch_bytes("TabSeparated")?;
        let bytes = cursor.collect().await?;
        let text = String::from_utf8(bytes.to_vec())?;
        Ok(lintas_clickhouse::query::parse_tsv(&text)
            .into_iter()
            .map(|row| row.into_iter().next().unwrap_or_default())
            .collect())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop cannot await: a short-lived runtime on its own thread, so this also works
        // while the test's runtime is shutting down. Best effort: names are unique anyway.
        let sql = format!("DROP DATABASE IF EXISTS `{}`", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(server_client().query(&sql).execute()).ok()
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// Every expected answer of the pack (`sql/queries/expected/*.tsv`).
pub fn expected_answers() -> anyhow::Result<Vec<ExpectedAnswer>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sql/queries/expected");
    Ok(lintas_clickhouse::fixture::expected_answers(&dir)?)
}
