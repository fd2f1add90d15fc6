//! Adapter throughput: one representative, correctly signed delivery per registered adapter,
//! run through [`lintas_adapters::receive`] exactly as the gateway runs it (size, content type,
//! signature, parsing, contract validation). Reported in events per second.
//!
//! The bodies are in `benches/samples/`: invented data in each platform's wire format, one
//! customer interaction each, so the figure is "deliveries per second" for chat platforms and
//! the cost of one event for order and e-mail platforms. Signatures are computed at start with
//! this file's secrets and a pinned clock, so the bench needs nothing outside the crate (no
//! corpus, no network).
//!
//! ```text
//! cargo bench -p lintas-adapters --bench adapters -- --warm-up-time 1 --measurement-time 3
//! ```

use std::collections::BTreeMap;
use std::hint::black_box;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::Method;
use lintas_adapters::signature::{encode_base64, hmac_sha1, hmac_sha256};
use lintas_adapters::testing::{self, OwnedRequest};
use lintas_adapters::{Secrets, VerifyPolicy};

/// "Now" for every request: 2025-03-14T12:00:00Z. Signed timestamps use it too, so adapters
/// with a replay window (Stripe, Chatwoot, Zendesk, Mailgun) accept the deliveries.
const NOW_SECS: i64 = 1_741_953_600;
const NOW_ISO: &str = "2025-03-14T12:00:00Z";
const TENANT: &str = "bench";
/// Every secret of every adapter; the value does not change the cost of an HMAC.
const SECRET: &str = "bench_secret_6f1c0a9e2b7d4c58";
const MAILGUN_BOUNDARY: &str = "BENCHBOUNDARY0123456789";
const MAILGUN_TOKEN: &str = "benchtoken0000000000000000000000000000000000009001";

const JSON: &str = "application/json";

/// One adapter's benchmark input.
struct Case {
    source: &'static str,
    request: OwnedRequest,
}

fn received_at() -> DateTime<Utc> {
    // A constant in range: `single()` cannot be `None`.
    Utc.timestamp_opt(NOW_SECS, 0)
        .single()
        .expect("NOW_SECS is a valid time")
}

fn public_url(source: &str) -> String {
    format!("https://ingest.example.com/v1/webhooks/{TENANT}/{source}")
}

fn post(source: &'static str, content_type: &str, body: Vec<u8>) -> OwnedRequest {
    OwnedRequest::new(
        TENANT,
        Method::POST,
        &public_url(source),
        body,
        received_at(),
    )
    .with_header("Content-Type", content_type)
    .expect("valid content type")
}

fn header(request: OwnedRequest, name: &str, value: &str) -> OwnedRequest {
    request
        .with_header(name, value)
        .unwrap_or_else(|error| panic!("header {name}: {error}"))
}

fn sample(source: &'static str) -> Vec<u8> {
    let bytes: &[u8] = match source {
        "chatwoot" => include_bytes!("samples/chatwoot.json"),
        "instagram" => include_bytes!("samples/instagram.json"),
        "mailgun" => include_bytes!("samples/mailgun.txt"),
        "messenger" => include_bytes!("samples/messenger.json"),
        "postmark" => include_bytes!("samples/postmark.json"),
        "segment" => include_bytes!("samples/segment.json"),
        "shopify" => include_bytes!("samples/shopify.json"),
        "stripe" => include_bytes!("samples/stripe.json"),
        "telegram" => include_bytes!("samples/telegram.json"),
        "twilio" => include_bytes!("samples/twilio.form"),
        "typeform" => include_bytes!("samples/typeform.json"),
        "whatsapp" => include_bytes!("samples/whatsapp.json"),
        "zendesk" => include_bytes!("samples/zendesk.json"),
        other => panic!("no bench sample for adapter `{other}`: add benches/samples/{other}.*"),
    };
    // Trailing newlines of the files are not part of what the platforms send.
    bytes.trim_ascii_end().to_vec()
}

/// The signed request for `source`, built the way the platform would send it.
fn case(source: &'static str) -> Case {
    let body = sample(source);
    let request = match source {
        "whatsapp" | "messenger" | "instagram" => {
            let signature = testing::meta_signature(SECRET, &body);
            header(post(source, JSON, body), "X-Hub-Signature-256", &signature)
        }
        "twilio" => {
            let signature = testing::twilio_signature(SECRET, &public_url(source), &body)
                .expect("the twilio sample is a valid form");
            let request = post(source, "application/x-www-form-urlencoded", body);
            header(request, "X-Twilio-Signature", &signature)
        }
        "telegram" => header(
            post(source, JSON, body),
            "X-Telegram-Bot-Api-Secret-Token",
            SECRET,
        ),
        "chatwoot" => {
            let signature = testing::chatwoot_signature(SECRET, NOW_SECS, &body);
            let request = header(
                post(source, JSON, body),
                "X-Chatwoot-Timestamp",
                &NOW_SECS.to_string(),
            );
            header(request, "X-Chatwoot-Signature", &signature)
        }
        "stripe" => {
            let signature = testing::stripe_signature(SECRET, NOW_SECS, &body);
            header(
                post(source, "application/json; charset=utf-8", body),
                "Stripe-Signature",
                &signature,
            )
        }
        "mailgun" => {
            // The signature is a form field, so the body is completed here. Multipart wants
            // CRLF; the sample file keeps LF to stay editable.
            let template = String::from_utf8(body).expect("the mailgun sample is UTF-8");
            let signature = testing::mailgun_signature(SECRET, NOW_SECS, MAILGUN_TOKEN);
            let body = template
                .replace("{timestamp}", &NOW_SECS.to_string())
                .replace("{signature}", &signature)
                .replace('\n', "\r\n");
            let content_type = format!("multipart/form-data; boundary={MAILGUN_BOUNDARY}");
            post(source, &content_type, body.into_bytes())
        }
        "postmark" => header(
            post(source, JSON, body),
            "Authorization",
            &testing::basic_authorization(SECRET, SECRET),
        ),
        "zendesk" => {
            let signature = testing::zendesk_signature(SECRET, NOW_ISO, &body);
            let request = header(
                post(source, JSON, body),
                "X-Zendesk-Webhook-Signature-Timestamp",
                NOW_ISO,
            );
            header(request, "X-Zendesk-Webhook-Signature", &signature)
        }
        "shopify" => {
            let signature = encode_base64(&hmac_sha256(SECRET.as_bytes(), &[&body]));
            let request = header(post(source, JSON, body), "X-Shopify-Topic", "orders/create");
            let request = header(
                request,
                "X-Shopify-Shop-Domain",
                "example-shop.myshopify.com",
            );
            header(request, "X-Shopify-Hmac-Sha256", &signature)
        }
        "typeform" => {
            let mac = hmac_sha256(SECRET.as_bytes(), &[&body]);
            let signature = format!("sha256={}", encode_base64(&mac));
            header(post(source, JSON, body), "Typeform-Signature", &signature)
        }
        "segment" => {
            let signature = hex::encode(hmac_sha1(SECRET.as_bytes(), &[&body]));
            header(post(source, JSON, body), "X-Signature", &signature)
        }
        other => panic!("no signing recipe for adapter `{other}`: add one to benches/adapters.rs"),
    };
    Case { source, request }
}

/// Every secret name of the adapter, each set to [`SECRET`].
fn secrets_for(adapter: &dyn lintas_adapters::Adapter) -> BTreeMap<String, String> {
    adapter
        .secret_names()
        .iter()
        .map(|name| ((*name).to_owned(), SECRET.to_owned()))
        .collect()
}

fn bench_adapters(c: &mut Criterion) {
    let policy = VerifyPolicy::default();
    let mut group = c.benchmark_group("adapters");
    for adapter in lintas_adapters::registry() {
        let Case { source, request } = case(adapter.id());
        let store = secrets_for(*adapter);
        let secrets = Secrets::new(&store);
        let view = request.as_request();
        // A bench of a refusal or of an ignored delivery would measure the wrong path: check
        // first that the sample is accepted and yields events, and count them.
        let parsed = lintas_adapters::receive(*adapter, &view, &secrets, &policy)
            .unwrap_or_else(|error| panic!("{source}: the bench sample is refused: {error}"));
        assert!(
            !parsed.events.is_empty(),
            "{source}: the bench sample yields no event: {parsed:?}"
        );
        let num_events = u64::try_from(parsed.events.len()).expect("event count fits u64");
        group.throughput(Throughput::Elements(num_events));
        group.bench_function(source, |bencher| {
            bencher
                .iter(|| lintas_adapters::receive(*adapter, black_box(&view), &secrets, &policy));
        });
    }
    group.finish();
}

criterion_group!(benches, bench_adapters);
criterion_main!(benches);
