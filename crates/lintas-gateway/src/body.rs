//! Reading request bodies under a byte limit.
//!
//! A body is refused with 413 as soon as it is known to be too large: from `Content-Length`
//! before reading anything, else while streaming, the moment the limit is crossed. Nothing beyond
//! the limit is ever buffered. The rest of a refused body is read and discarded (up to
//! [`DRAIN_MAX_BYTES`] within [`DRAIN_TIMEOUT`]) before answering, like a web server's lingering
//! close: a client still uploading would otherwise see a connection reset instead of the 413.
//! Requests refused on their headers alone (401, 404, 415, 429, 503) are drained the same way
//! ([`discard`]).

use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body_util::BodyExt as _;

use crate::error::GatewayError;

/// Most bytes of a refused body read and discarded so the client sees the 413.
pub(crate) const DRAIN_MAX_BYTES: u64 = 16 * 1024 * 1024;
/// Longest time spent discarding a refused body.
pub(crate) const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// The declared `Content-Length`, when present and numeric.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Reads `body` completely if it holds at most `limit` bytes.
///
/// # Errors
///
/// [`GatewayError::PayloadTooLarge`] beyond `limit`; [`GatewayError::MalformedBody`] if the
/// client's stream breaks.
pub(crate) async fn read_limited(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, GatewayError> {
    let too_large = GatewayError::PayloadTooLarge { limit };
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    if let Some(declared) = content_length(headers)
        && declared > limit_u64
    {
        if declared <= DRAIN_MAX_BYTES {
            drain(body, DRAIN_MAX_BYTES).await;
        }
        return Err(too_large);
    }
    let mut body = body;
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| GatewayError::MalformedBody {
            reason: format!("the request body could not be read: {error}"),
        })?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing we read
        };
        if buffer.len() + data.len() > limit {
            drain(
                body,
                DRAIN_MAX_BYTES.saturating_sub(u64::try_from(buffer.len()).unwrap_or(0)),
            )
            .await;
            return Err(too_large);
        }
        buffer.extend_from_slice(&data);
    }
    Ok(buffer.freeze())
}

/// Reads and discards the body of a request refused before its body was needed (bad write key,
/// unknown tenant, wrong content type, rate limit, Kafka not ready), so a client still uploading
/// receives the answer instead of a connection reset: closing a socket with unread data makes
/// the kernel send a reset, which can destroy the response in flight. Bounded like the 413 path:
/// a declared length over [`DRAIN_MAX_BYTES`] is not read at all, else at most that many bytes
/// within [`DRAIN_TIMEOUT`].
///
/// A client that sent `Expect: 100-continue` has not sent its body yet and will not once it sees
/// the final status, so nothing is read: polling the body would ask hyper to send `100 Continue`
/// and invite the upload this is meant to spare.
pub(crate) async fn discard(body: Body, headers: &HeaderMap) {
    let expects_continue = headers
        .get(http::header::EXPECT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("100-continue"));
    if expects_continue {
        return;
    }
    if content_length(headers).is_some_and(|declared| declared > DRAIN_MAX_BYTES) {
        return;
    }
    drain(body, DRAIN_MAX_BYTES).await;
}

/// Reads and discards up to `max` bytes of `body` within [`DRAIN_TIMEOUT`].
async fn drain(mut body: Body, max: u64) {
    let discard = async {
        let mut seen = 0_u64;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += u64::try_from(data.len()).unwrap_or(u64::MAX);
                if seen > max {
                    return;
                }
            }
        }
    };
    // Whatever is left when the time is up stays unread: the connection is closed instead.
    tokio::time::timeout(DRAIN_TIMEOUT, discard).await.ok();
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers_with_length(length: usize) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(length));
        headers
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let body = Body::from(vec![b'x'; 10]);

        let bytes = read_limited(body, &HeaderMap::new(), 10)
            .await
            .expect("within the limit");

        assert_eq!(bytes.len(), 10);
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let body = Body::from(vec![b'x'; 11]);

        let error = read_limited(body, &headers_with_length(11), 10)
            .await
            .expect_err("over the limit");

        assert_eq!(error.code(), "payload_too_large");
    }

    #[tokio::test]
    async fn a_streamed_body_is_refused_once_it_crosses_the_limit() {
        let chunks: Vec<Result<Bytes, std::io::Error>> = (0..5)
            .map(|_| Ok(Bytes::from_static(b"0123456789")))
            .collect();
        let body = Body::from_stream(futures::stream::iter(chunks));

        let error = read_limited(body, &HeaderMap::new(), 25)
            .await
            .expect_err("over the limit");

        assert_eq!(error.code(), "payload_too_large");
    }
}
