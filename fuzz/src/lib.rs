//! The harness every fuzz target in `fuzz_targets/` calls: arbitrary bytes handed to one
//! adapter's parser as an authenticated delivery, the way the gateway hands a body over once the
//! signature checked out. The only property checked is the adapter contract's "`parse` never
//! panics"; `parse_bytes` already moves events that break the event contract to `unusable`.
//!
//! Each input is parsed
//! - through [`lintas_adapters::parse_bytes`] once per content type the adapter accepts
//!   (`multipart/form-data` with the boundary the input starts with, so corpus samples parse);
//! - through [`Adapter::parse`] once per header value the parser reads (Shopify's
//!   `X-Shopify-Topic`), which `parse_bytes` cannot set.
//!
//! A registered adapter without a target here is caught by `scripts/fuzz.sh`.

use chrono::{TimeZone, Utc};
use http::Method;
use lintas_adapters::testing::OwnedRequest;
use lintas_adapters::{Adapter, parse_bytes};

/// Boundary used when a multipart input does not start with one.
const FALLBACK_BOUNDARY: &str = "lintasfuzzboundary";

/// Runs `data` through the adapter registered as `source`.
///
/// # Panics
/// When no adapter is registered as `source` (the target is stale), and whenever the adapter
/// panics, which is what the fuzzer is looking for.
pub fn parse(source: &str, data: &[u8]) {
    let Some(adapter) = lintas_adapters::adapter(source) else {
        panic!("no adapter `{source}` is registered: remove its fuzz target");
    };
    for media_type in adapter.content_types() {
        let content_type = content_type_for(media_type, data);
        // Errors (400, ...) are valid outcomes; only a panic is a finding.
        drop(parse_bytes(adapter, &content_type, data));
    }
    for (name, values) in header_variants(source) {
        for value in *values {
            parse_with_header(adapter, data, name, value);
        }
    }
}

/// Headers (name, values to try) whose value steers the parser.
fn header_variants(source: &str) -> &'static [(&'static str, &'static [&'static str])] {
    match source {
        "shopify" => &[(
            "X-Shopify-Topic",
            &[
                "orders/create",
                "orders/paid",
                "orders/cancelled",
                "orders/fulfilled",
                "refunds/create",
                "customers/update",
            ],
        )],
        _ => &[],
    }
}

/// `media_type`, with a boundary parameter for multipart bodies.
fn content_type_for(media_type: &str, data: &[u8]) -> String {
    if media_type != "multipart/form-data" {
        return media_type.to_owned();
    }
    let first_line = data
        .split(|byte| *byte == b'\r' || *byte == b'\n')
        .next()
        .unwrap_or_default();
    let boundary = first_line
        .strip_prefix(b"--")
        .and_then(|boundary| std::str::from_utf8(boundary).ok())
        .filter(|boundary| {
            (1..=70).contains(&boundary.len())
                && boundary.bytes().all(|byte| byte.is_ascii_graphic())
        })
        .unwrap_or(FALLBACK_BOUNDARY);
    format!("{media_type}; boundary={boundary}")
}

fn parse_with_header(adapter: &dyn Adapter, data: &[u8], name: &str, value: &str) {
    let content_type = adapter
        .content_types()
        .first()
        .copied()
        .unwrap_or("application/json");
    // 2025-03-14T00:00:00Z, as `parse_bytes`: runs are reproducible.
    let received_at = Utc
        .timestamp_opt(1_741_910_400, 0)
        .single()
        .unwrap_or_default();
    let request = OwnedRequest::new(
        "fuzz",
        Method::POST,
        "https://ingest.example.com/v1/webhooks/fuzz/source",
        data.to_vec(),
        received_at,
    )
    .with_header("Content-Type", &content_type_for(content_type, data))
    .and_then(|request| request.with_header(name, value));
    if let Ok(request) = request {
        drop(adapter.parse(&request.as_request()));
    }
}
