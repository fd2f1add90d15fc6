//! Inserting a batch into ClickHouse, and isolating the rows ClickHouse refuses.
//!
//! [`RowWriter`] is the seam: [`ClickhouseWriter`] sends pre-encoded RowBinary with the
//! `clickhouse` crate (LZ4-compressed HTTP body); unit tests use a scripted double.
//! [`insert_isolating`] inserts a batch and, when ClickHouse refuses its data, bisects it
//! until every refused row is alone, so the good rows land and only the bad ones go to the DLQ.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lintas_clickhouse::ServerCapabilities;
use metrics::{counter, histogram};

use crate::batch::{Batch, DeadRecord, RowSpan, dedup_token};
use crate::error::InsertError;
use crate::metrics::{INSERT_DURATION_SECONDS, INSERT_ERRORS_TOTAL};

/// Exception codes that mean "this data cannot be stored", as opposed to a server, network or
/// schema problem. A bisected batch separates the rows carrying them.
///
/// 6, 26, 27, 32, 33, 38, 41, 72, 131: the server could not parse a value (RowBinary read past
/// a row, a malformed number or date, an absurd string length); 36, 691: unknown enum value
/// (current servers); 53, 70: type mismatch or conversion; 69, 321, 407: value out of range;
/// 117: incorrect data; 153: division by zero in a column expression; 190: parallel arrays of
/// a `Nested` column of different lengths; 252: too many partitions in one insert block (fixed
/// by splitting); 395: `throwIf` in a column expression; 469: a `CONSTRAINT ... CHECK` failed.
const DATA_ERROR_CODES: &[u32] = &[
    6, 26, 27, 32, 33, 36, 38, 41, 53, 69, 70, 72, 117, 131, 153, 190, 252, 321, 395, 407, 469, 691,
];

/// Refused rows found before any part of a batch was accepted, beyond which the refusals are
/// taken for a schema problem (every row refused alike) rather than bad rows: dead-lettering
/// a whole topic because of a missing migration would be worse than pausing.
const MAX_REFUSED_BEFORE_FIRST_SUCCESS: usize = 16;

/// Size of one compressed chunk of the request body.
const CHUNK_BYTES: usize = 1 << 20;

/// Writes encoded rows to the `interactions` table.
pub(crate) trait RowWriter {
    /// Inserts `data` (`rows` RowBinary rows) with `token` as the server's insert
    /// deduplication token, when the server supports one.
    fn insert(
        &self,
        data: &[u8],
        rows: usize,
        token: Option<String>,
    ) -> impl Future<Output = Result<(), InsertError>> + Send;
}

/// The real writer: `INSERT INTO <db>.interactions (<columns>) FORMAT RowBinary` over HTTP.
#[derive(Clone)]
pub(crate) struct ClickhouseWriter {
    client: clickhouse::Client,
    sql: String,
    timeout: Duration,
    /// Decides which insert settings (the deduplication token) the server understands.
    capabilities: ServerCapabilities,
}

impl std::fmt::Debug for ClickhouseWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickhouseWriter")
            .field("sql", &self.sql)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

impl ClickhouseWriter {
    pub(crate) fn new(
        client: clickhouse::Client,
        sql: String,
        timeout: Duration,
        capabilities: ServerCapabilities,
    ) -> Self {
        Self {
            client,
            sql,
            timeout,
            capabilities,
        }
    }

    async fn insert_once(&self, data: &[u8], token: Option<String>) -> Result<(), InsertError> {
        let mut insert = self.client.insert_formatted_with(self.sql.clone());
        if let Some(token) = token {
            // Empty on servers without insert tokens: 18.16 fails a request naming an unknown
            // setting (code 115).
            for (name, value) in self.capabilities.insert_settings(&token) {
                insert = insert.with_setting(name, value);
            }
        }
        for chunk in data.chunks(CHUNK_BYTES) {
            insert
                .send(Bytes::copy_from_slice(chunk))
                .await
                .map_err(classify)?;
        }
        insert.end().await.map_err(classify)
    }
}

impl RowWriter for ClickhouseWriter {
    async fn insert(
        &self,
        data: &[u8],
        rows: usize,
        token: Option<String>,
    ) -> Result<(), InsertError> {
        let started = Instant::now();
        let result = match tokio::time::timeout(self.timeout, self.insert_once(data, token)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(InsertError::Unavailable {
                kind: "timeout",
                message: format!(
                    "no answer within clickhouse.request_timeout ({:?})",
                    self.timeout
                ),
            }),
        };
        histogram!(INSERT_DURATION_SECONDS).record(started.elapsed().as_secs_f64());
        if let Err(error) = &result {
            counter!(INSERT_ERRORS_TOTAL, "kind" => error.kind()).increment(1);
            tracing::debug!(rows, error = %error, "clickhouse insert failed");
        }
        result
    }
}

/// Sorts a `clickhouse` crate error into data errors and retryable ones.
pub(crate) fn classify(error: clickhouse::error::Error) -> InsertError {
    use clickhouse::error::Error;
    match error {
        Error::BadResponse(message) => match exception_code(&message) {
            Some(code) if DATA_ERROR_CODES.contains(&code) => InsertError::Data { code, message },
            _ => InsertError::Unavailable {
                kind: "server",
                message,
            },
        },
        Error::TimedOut => InsertError::Unavailable {
            kind: "timeout",
            message: error.to_string(),
        },
        other => InsertError::Unavailable {
            kind: "network",
            message: other.to_string(),
        },
    }
}

/// The exception code in a ClickHouse error body: `Code: 190, e.displayText() = ...` (18.16)
/// or `Code: 27. DB::Exception: ...` (current servers).
pub(crate) fn exception_code(message: &str) -> Option<u32> {
    let rest = &message[message.find("Code: ")? + "Code: ".len()..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}

/// What became of a batch's rows.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Inserted {
    /// Rows ClickHouse accepted.
    pub(crate) rows: usize,
    /// Rows it refused, with its message, bound for the DLQ.
    pub(crate) refused: Vec<DeadRecord>,
    /// Insert requests made.
    pub(crate) requests: usize,
}

/// Inserts every row of `batch`; rows ClickHouse refuses as data are isolated by bisection
/// and returned with the server's message.
///
/// Every request carries the token of its own offset range, and the bisection depends only on
/// which rows are refused, so re-running this on the same batch (after a crash, or after a
/// retry that failed half way) repeats the same requests with the same tokens.
///
/// # Errors
///
/// [`InsertError::Unavailable`] as soon as any request fails for a reason other than the
/// data, or when refusals look systemic (see [`MAX_REFUSED_BEFORE_FIRST_SUCCESS`]).
pub(crate) async fn insert_isolating<W: RowWriter>(
    writer: &W,
    topic: &str,
    batch: &Batch,
) -> Result<Inserted, InsertError> {
    let mut outcome = Inserted::default();
    if batch.rows.is_empty() {
        return Ok(outcome);
    }
    // Ranges of row indexes still to insert, the next one on top: offset order is kept.
    let mut pending = vec![(0, batch.rows.len())];
    while let Some((low, high)) = pending.pop() {
        let rows: &[RowSpan] = &batch.rows[low..high];
        let (first, last) = if low == 0 && high == batch.rows.len() {
            (batch.first_offset, batch.last_offset)
        } else {
            (rows[0].offset, rows[rows.len() - 1].offset)
        };
        let data = &batch.data[rows[0].start..rows[rows.len() - 1].end];
        let token = dedup_token(topic, batch.partition, first, last);
        outcome.requests += 1;
        match writer.insert(data, rows.len(), Some(token)).await {
            Ok(()) => outcome.rows += rows.len(),
            Err(InsertError::Data { code, message }) if rows.len() == 1 => {
                if outcome.rows == 0 && outcome.refused.len() >= MAX_REFUSED_BEFORE_FIRST_SUCCESS {
                    return Err(InsertError::Unavailable {
                        kind: "systemic",
                        message: format!(
                            "clickhouse refused {} rows one by one and accepted none, which \
                             points at the schema (run `lintas migrate`), not at the rows: \
                             code {code}: {message}",
                            outcome.refused.len() + 1
                        ),
                    });
                }
                outcome.refused.push(DeadRecord {
                    offset: rows[0].offset,
                    payload: batch.payloads[low].clone(),
                    kind: "clickhouse_rejected",
                    message,
                    tenant: Some(batch.tenants[low].clone()),
                });
            }
            Err(InsertError::Data { .. }) => {
                let middle = low + (high - low) / 2;
                pending.push((middle, high));
                pending.push((low, middle));
            }
            Err(error @ InsertError::Unavailable { .. }) => return Err(error),
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::batch::{BatchLimits, Batcher};

    /// Refuses any request containing a byte listed as bad; records every request.
    struct ScriptedWriter {
        bad_bytes: Vec<u8>,
        unavailable: bool,
        requests: Mutex<Vec<(Vec<u8>, String)>>,
    }

    impl ScriptedWriter {
        fn new(bad_bytes: &[u8]) -> Self {
            Self {
                bad_bytes: bad_bytes.to_vec(),
                unavailable: false,
                requests: Mutex::new(Vec::new()),
            }
        }
    }

    impl RowWriter for ScriptedWriter {
        async fn insert(
            &self,
            data: &[u8],
            _rows: usize,
            token: Option<String>,
        ) -> Result<(), InsertError> {
            self.requests
                .lock()
                .expect("not poisoned")
                .push((data.to_vec(), token.unwrap_or_default()));
            if self.unavailable {
                return Err(InsertError::Unavailable {
                    kind: "network",
                    message: "connection refused".into(),
                });
            }
            match data.iter().find(|byte| self.bad_bytes.contains(byte)) {
                Some(byte) => Err(InsertError::Data {
                    code: 395,
                    message: format!("value {byte} refused"),
                }),
                None => Ok(()),
            }
        }
    }

    /// A batch of partition 3 with one row per byte, at offsets 100, 101, ...
    fn batch_of(bytes: &[u8]) -> Batch {
        let mut batcher = Batcher::new(BatchLimits {
            max_records: u64::MAX,
            max_bytes: u64::MAX,
        });
        let now = Instant::now();
        for (index, byte) in bytes.iter().enumerate() {
            let offset = 100 + index as i64;
            batcher.push_row(3, offset, &[*byte], vec![*byte], "acme".into(), now);
        }
        batcher.close_all();
        batcher.take_closed().expect("one batch")
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn a_clean_batch_is_one_request_with_the_token_of_its_range() {
        let writer = ScriptedWriter::new(&[]);
        let batch = batch_of(&[1, 2, 3, 4]);
        let outcome = block_on(insert_isolating(&writer, "t", &batch)).expect("inserted");
        assert_eq!(outcome.rows, 4);
        assert!(outcome.refused.is_empty());
        let requests = writer.requests.lock().expect("not poisoned");
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].1, dedup_token("t", 3, 100, 103));
    }

    #[test]
    fn refused_rows_are_isolated_and_their_neighbours_land_in_offset_order() {
        let writer = ScriptedWriter::new(&[13, 42]);
        let bytes: Vec<u8> = (1..=50).collect();
        let batch = batch_of(&bytes);
        let outcome = block_on(insert_isolating(&writer, "t", &batch)).expect("inserted");
        assert_eq!(outcome.rows, 48);
        let refused: Vec<(i64, Vec<u8>)> = outcome
            .refused
            .iter()
            .map(|dead| (dead.offset, dead.payload.clone()))
            .collect();
        assert_eq!(refused, vec![(112, vec![13]), (141, vec![42])]);
        assert!(
            outcome
                .refused
                .iter()
                .all(|dead| dead.message.contains("refused"))
        );
        // Accepted requests cover every good byte exactly once, in order.
        let requests = writer.requests.lock().expect("not poisoned");
        let landed: Vec<u8> = requests
            .iter()
            .filter(|(data, _)| !data.iter().any(|byte| [13, 42].contains(byte)))
            .flat_map(|(data, _)| data.clone())
            .collect();
        let expected: Vec<u8> = bytes
            .iter()
            .copied()
            .filter(|b| ![13, 42].contains(b))
            .collect();
        assert_eq!(landed, expected);
    }

    #[test]
    fn bisection_repeats_the_same_requests_and_tokens_on_a_second_run() {
        let batch = batch_of(&(1..=20).collect::<Vec<u8>>());
        let first = ScriptedWriter::new(&[7]);
        let second = ScriptedWriter::new(&[7]);
        block_on(insert_isolating(&first, "t", &batch)).expect("first run");
        block_on(insert_isolating(&second, "t", &batch)).expect("second run");
        assert_eq!(
            *first.requests.lock().expect("not poisoned"),
            *second.requests.lock().expect("not poisoned")
        );
    }

    #[test]
    fn an_unavailable_server_stops_the_batch_with_a_retryable_error() {
        let mut writer = ScriptedWriter::new(&[]);
        writer.unavailable = true;
        let error =
            block_on(insert_isolating(&writer, "t", &batch_of(&[1, 2]))).expect_err("unavailable");
        assert_eq!(error.kind(), "network");
    }

    #[test]
    fn a_batch_refused_row_by_row_is_a_systemic_error_not_dead_letters() {
        let bytes: Vec<u8> = (1..=40).collect();
        let writer = ScriptedWriter::new(&bytes);
        let error =
            block_on(insert_isolating(&writer, "t", &batch_of(&bytes))).expect_err("systemic");
        assert_eq!(error.kind(), "systemic");
        assert!(error.to_string().contains("lintas migrate"), "{error}");
    }

    #[test]
    fn exception_codes_are_read_from_old_and_new_server_messages() {
        assert_eq!(
            exception_code("Code: 190, e.displayText() = DB::Exception: Elements ..."),
            Some(190)
        );
        assert_eq!(
            exception_code("Code: 27. DB::Exception: Cannot parse"),
            Some(27)
        );
        assert_eq!(exception_code("502 Bad Gateway"), None);
    }

    #[test]
    fn data_codes_are_data_errors_and_others_retry() {
        let data = classify(clickhouse::error::Error::BadResponse(
            "Code: 395, e.displayText() = DB::Exception: Value passed to 'throwIf' function is non zero".into(),
        ));
        assert_eq!(data.kind(), "data");
        let missing_table = classify(clickhouse::error::Error::BadResponse(
            "Code: 60, e.displayText() = DB::Exception: Table lintas.interactions doesn't exist."
                .into(),
        ));
        assert_eq!(missing_table.kind(), "server");
        assert_eq!(
            classify(clickhouse::error::Error::TimedOut).kind(),
            "timeout"
        );
        let network = classify(clickhouse::error::Error::Network(
            "connection refused".into(),
        ));
        assert_eq!(network.kind(), "network");
    }
}
