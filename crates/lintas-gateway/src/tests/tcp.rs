//! Refusals over real TCP while the client is still uploading a large body: the client must
//! receive the status, not a connection reset. A handler that answers from the headers alone
//! reads and discards the body first ([`crate::body::discard`]); closing a socket with unread
//! data makes the kernel send a reset, which can destroy the answer before the client reads it.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::{ACME_KEY, config_with};
use crate::testing::MockGateway;

/// A body of 8 MiB: more than loopback's socket buffers absorb, so the client is still writing
/// when the gateway has decided from the headers (with 1 MiB, a gateway that did not drain passed
/// too: the whole body fit in the buffers). Within the drain bound (16 MiB), so it is read.
const BODY_BYTES: usize = 8 << 20;

/// Sends `head` (request line and headers, without the blank line) and an 8 MiB body in 16 KiB
/// writes while reading the answer; returns what was read until the server closed, or the read
/// error (a reset).
///
/// The write half stays open until the answer is read: a client that shuts down its side after
/// the body (a half-close) is dropped by hyper's default settings without an answer, which is not
/// what this tests, and ordinary HTTP clients do not do it.
async fn upload(gateway: &MockGateway, head: &str) -> std::io::Result<String> {
    let stream = TcpStream::connect(gateway.address).await?;
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "{head}\r\nHost: {}\r\nContent-Length: {BODY_BYTES}\r\nConnection: close\r\n\r\n",
        gateway.address
    );
    let upload = tokio::spawn(async move {
        let chunk = vec![b'x'; 16 * 1024];
        let written = async {
            writer.write_all(head.as_bytes()).await?;
            for _ in 0..BODY_BYTES / chunk.len() {
                writer.write_all(&chunk).await?;
            }
            writer.flush().await
        }
        .await;
        // Returned, not dropped: dropping the write half would send a FIN (see above).
        (writer, written)
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer))
        .await
        .map_err(|_| std::io::Error::other("no answer within 10 s"))?;
    read?;
    let (_writer, written) = upload.await.map_err(std::io::Error::other)?;
    // A client that writes its whole body before reading (curl, most HTTP libraries) gives up
    // at the first failed write and never sees the answer that did arrive.
    written
        .map_err(|error| std::io::Error::new(error.kind(), format!("upload failed: {error}")))?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// The answer to `head` with a large body, failing the test on a reset or a wrong status.
async fn answer_to(gateway: &MockGateway, head: &str, status: &str) -> String {
    let answer = upload(gateway, head)
        .await
        .unwrap_or_else(|error| panic!("{head}: no answer, {error}"));
    assert!(
        answer.starts_with(status),
        "{head}: expected {status}, got {answer:.300}"
    );
    answer
}

fn events_head(key: &str, content_type: &str) -> String {
    format!(
        "POST /v1/events HTTP/1.1\r\nAuthorization: Bearer {key}\r\nContent-Type: {content_type}"
    )
}

#[tokio::test]
async fn a_wrong_write_key_with_a_large_body_is_answered_401_not_reset() {
    let gateway = MockGateway::start(config_with(&[]))
        .await
        .expect("mock gateway");
    let head = events_head("wk_not_a_valid_key_000", "application/json");
    // Several rounds: a reset is a race, a single lucky run proves little.
    for _ in 0..5 {
        let answer = answer_to(&gateway, &head, "HTTP/1.1 401").await;
        assert!(answer.contains("invalid_write_key"), "{answer:.400}");
    }
    assert!(gateway.publisher.events().is_empty());
}

#[tokio::test]
async fn header_refusals_of_webhooks_content_types_and_methods_arrive_too() {
    let gateway = MockGateway::start(config_with(&[]))
        .await
        .expect("mock gateway");
    let cases = [
        (events_head(ACME_KEY, "text/plain"), "HTTP/1.1 415"),
        (
            "POST /v1/webhooks/nobody/whatsapp HTTP/1.1\r\nContent-Type: application/json".into(),
            "HTTP/1.1 404",
        ),
        (
            "POST /v1/webhooks/acme/nosuchsource HTTP/1.1\r\nContent-Type: application/json".into(),
            "HTTP/1.1 404",
        ),
        (
            "POST /nowhere HTTP/1.1\r\nContent-Type: application/json".into(),
            "HTTP/1.1 404",
        ),
        (
            "PUT /v1/events HTTP/1.1\r\nContent-Type: application/json".into(),
            "HTTP/1.1 405",
        ),
    ];
    for (head, status) in cases {
        answer_to(&gateway, &head, status).await;
    }
    assert!(gateway.publisher.events().is_empty());
    assert!(gateway.publisher.dead_letters().is_empty());
}

#[tokio::test]
async fn a_rate_limited_upload_is_answered_429_with_retry_after() {
    let gateway = MockGateway::start(config_with(&[
        ("LINTAS__GATEWAY__RATE_LIMIT_PER_SEC", "1"),
        ("LINTAS__GATEWAY__RATE_LIMIT_BURST", "1"),
    ]))
    .await
    .expect("mock gateway");
    // The first request takes the tenant's only token (and is refused for its content type).
    answer_to(
        &gateway,
        &events_head(ACME_KEY, "text/plain"),
        "HTTP/1.1 415",
    )
    .await;

    let answer = answer_to(
        &gateway,
        &events_head(ACME_KEY, "application/json"),
        "HTTP/1.1 429",
    )
    .await;
    assert!(
        answer.to_ascii_lowercase().contains("\r\nretry-after: "),
        "{answer:.400}"
    );
}

#[tokio::test]
async fn an_upload_while_kafka_is_down_is_answered_503() {
    let gateway = MockGateway::start(config_with(&[]))
        .await
        .expect("mock gateway");
    gateway.kafka.set_not_ready("broker unreachable");

    let events = answer_to(
        &gateway,
        &events_head(ACME_KEY, "application/json"),
        "HTTP/1.1 503",
    )
    .await;
    assert!(events.contains("kafka_unavailable"), "{events:.400}");
    answer_to(
        &gateway,
        "POST /v1/webhooks/acme/whatsapp HTTP/1.1\r\nContent-Type: application/json",
        "HTTP/1.1 503",
    )
    .await;
    assert!(gateway.publisher.events().is_empty());
}

#[tokio::test]
async fn a_client_waiting_for_100_continue_gets_the_refusal_without_sending_its_body() {
    let gateway = MockGateway::start(config_with(&[]))
        .await
        .expect("mock gateway");
    let mut stream = TcpStream::connect(gateway.address).await.expect("connect");
    let head = format!(
        "{}\r\nHost: {}\r\nContent-Length: {BODY_BYTES}\r\nExpect: 100-continue\r\n\
         Connection: close\r\n\r\n",
        events_head("wk_not_a_valid_key_000", "application/json"),
        gateway.address
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");

    // No body follows: the gateway must answer from the headers, not invite the upload with
    // `100 Continue` and then wait for bytes that never come.
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 10 s")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer:.300}");
    assert!(!answer.contains("100 Continue"), "{answer:.300}");
}
