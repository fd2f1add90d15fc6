//! Realistic `POST /v1/events` bodies: Segment-style events a channel team would send.
//!
//! The mix is what a support and commerce team produces in a day: mostly customer messages on
//! chat channels (English and Bahasa Indonesia), agent replies, orders, NPS answers and page
//! views, spread over `customers` distinct `userId`s so Kafka keys (tenant + customer) spread over
//! the partitions as in production.
//!
//! Every event has a `messageId` unique within the run and across runs (run id + a sequence
//! shared by all generators of the run), so the gateway derives a distinct `event_id` for each
//! and nothing collapses as a duplicate downstream. Choices come from a seeded PRNG, so a seed
//! reproduces the same mix; only the ids and timestamps differ between runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

/// Customer messages with their language, `{order}` replaced by an order number.
const CUSTOMER_TEXTS: &[(&str, &str)] = &[
    (
        "en",
        "Hi, my order {order} arrived damaged. Can I get a replacement?",
    ),
    (
        "en",
        "Where is my package? Order {order} was supposed to arrive yesterday.",
    ),
    ("en", "Do you ship to Surabaya, and how long does it take?"),
    (
        "en",
        "I was charged twice for order {order}, please refund one of the charges.",
    ),
    ("en", "Is the black running shoe in size 42 back in stock?"),
    (
        "en",
        "Please cancel my subscription at the end of this billing period.",
    ),
    (
        "id",
        "Kak, paket saya dengan nomor pesanan {order} belum sampai, bisa dicek?",
    ),
    (
        "id",
        "Min, saya mau tukar ukuran sepatu dari 42 ke 43, caranya bagaimana?",
    ),
    ("id", "Apakah bisa COD untuk area Jakarta Selatan?"),
    (
        "id",
        "Saya sudah transfer untuk pesanan {order} tapi statusnya masih menunggu pembayaran.",
    ),
    ("id", "Promo diskon 20% ini berlaku sampai kapan kak?"),
    (
        "id",
        "Barangnya sudah sampai, kualitasnya bagus sekali. Terima kasih!",
    ),
];

/// Agent replies with their language.
const AGENT_TEXTS: &[(&str, &str)] = &[
    (
        "en",
        "Thanks for reaching out! I have checked order {order}: it is out for delivery today.",
    ),
    (
        "en",
        "I am sorry about that. A replacement for order {order} ships tomorrow.",
    ),
    (
        "en",
        "The duplicate charge for order {order} has been refunded; allow 5-10 business days.",
    ),
    (
        "id",
        "Terima kasih sudah menghubungi kami. Pesanan {order} sedang dalam pengiriman.",
    ),
    (
        "id",
        "Mohon maaf atas ketidaknyamanannya, refund untuk pesanan {order} sudah kami proses.",
    ),
];

/// NPS comments with their language, by score band (detractor, passive, promoter).
const NPS_COMMENTS: [(&str, &str); 3] = [
    ("id", "Pengiriman lambat sekali, dua minggu baru sampai."),
    ("en", "Good products, but delivery could be faster."),
    (
        "en",
        "Fast delivery and the support team answered within minutes!",
    ),
];

/// Chat channels customers write on, as the gateway names them.
const CHAT_CHANNELS: &[&str] = &[
    "whatsapp",
    "telegram",
    "web_chat",
    "instagram",
    "sms",
    "email",
];

const PAGES: &[(&str, &str)] = &[
    ("/products/sepatu-lari-x1", "Sepatu Lari X1"),
    ("/pricing", "Pricing"),
    ("/help/shipping", "Shipping coverage"),
    ("/checkout", "Checkout"),
];

/// A small, fast, seedable PRNG (SplitMix64): the mix must be reproducible and cheap, not
/// cryptographic, and a dependency for it is not worth it.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (`bound` > 0); the modulo bias is irrelevant for a load mix.
    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// A uniform element of `items`, which are the non-empty constant tables of this module.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        debug_assert!(!items.is_empty(), "pick from an empty table");
        let len = u64::try_from(items.len()).unwrap_or(u64::MAX);
        let index = usize::try_from(self.below(len)).unwrap_or_default();
        &items[index % items.len()]
    }
}

/// Makes event batches. Clones share the run id and the `messageId` sequence, so every
/// generator of a run (one per worker, or one that pre-generates) yields distinct ids.
#[derive(Debug, Clone)]
pub(crate) struct EventGenerator {
    rng: SplitMix64,
    run_id: Arc<str>,
    next_sequence: Arc<AtomicU64>,
    num_customers: u64,
    language_percent: u8,
}

impl EventGenerator {
    /// A generator for `num_customers` distinct `userId`s (at least 1); `run_id` prefixes every
    /// `messageId`.
    pub(crate) fn new(run_id: &str, seed: u64, num_customers: u64) -> Self {
        Self {
            rng: SplitMix64(seed),
            run_id: Arc::from(run_id),
            next_sequence: Arc::new(AtomicU64::new(0)),
            num_customers: num_customers.max(1),
            language_percent: 0,
        }
    }

    /// Sets the share of events with text that carry `properties.language` (0-100). Without it
    /// the gateway detects the language, which costs more than the rest of the mapping; most
    /// channel teams do not know the language, so the default is none.
    #[must_use]
    pub(crate) fn with_language_percent(mut self, percent: u8) -> Self {
        self.language_percent = percent.min(100);
        self
    }

    /// Another generator of the same run with its own choices (`stream` = worker number), so
    /// workers do not all send the same mix in lockstep.
    pub(crate) fn fork(&self, stream: u64) -> Self {
        let mut fork = self.clone();
        fork.rng = SplitMix64(self.rng.0 ^ stream.wrapping_mul(0xA24B_AED4_963E_E407));
        fork
    }

    /// A `{"events": [...]}` body of `num_events` events that happened shortly before `now`.
    pub(crate) fn batch_body(&mut self, num_events: usize, now: DateTime<Utc>) -> Bytes {
        let count = u64::try_from(num_events).unwrap_or(u64::MAX);
        let first = self.next_sequence.fetch_add(count, Ordering::Relaxed);
        let events: Vec<Value> = (first..first.saturating_add(count))
            .map(|sequence| self.event(sequence, now))
            .collect();
        // Serializing a `Value` of strings and numbers cannot fail.
        Bytes::from(serde_json::to_vec(&json!({ "events": events })).unwrap_or_default())
    }

    fn event(&mut self, sequence: u64, now: DateTime<Utc>) -> Value {
        let customer = self.rng.below(self.num_customers);
        let order = 100_000 + customer * 7 + self.rng.below(7);
        // Up to ten minutes late, in milliseconds: clients send events in batches after the fact.
        let lag_ms = i64::try_from(self.rng.below(600_000)).unwrap_or_default();
        let timestamp =
            (now - TimeDelta::milliseconds(lag_ms)).to_rfc3339_opts(SecondsFormat::Millis, true);
        let message_id = format!("lg-{}-{sequence}", self.run_id);
        let user_id = format!("cust_{customer:07}");
        let context = json!({
            "library": { "name": "lintas-loadgen", "version": env!("CARGO_PKG_VERSION") },
            "traits": {
                "email": format!("customer.{customer}@example.com"),
                "phone": format!("+1555{:07}", customer % 10_000_000),
            },
        });
        let roll = self.rng.below(100);
        let mut text_language = None;
        let (kind, event, mut properties) = match roll {
            0..60 => {
                let channel = *self.rng.pick(CHAT_CHANNELS);
                let (language, template) = *self.rng.pick(CUSTOMER_TEXTS);
                let text = template.replace("{order}", &order.to_string());
                text_language = Some(language);
                let properties = json!({
                    "channel": channel,
                    "text": text,
                    "conversation_id": format!("{channel}:{user_id}"),
                });
                ("track", Some("message.received"), properties)
            }
            60..75 => {
                let channel = *self.rng.pick(CHAT_CHANNELS);
                let (language, template) = *self.rng.pick(AGENT_TEXTS);
                let text = template.replace("{order}", &order.to_string());
                text_language = Some(language);
                let properties = json!({
                    "channel": channel,
                    "direction": "outbound",
                    "actor": "agent",
                    "agent_id": format!("agent_{}", self.rng.below(40)),
                    "text": text,
                    "conversation_id": format!("{channel}:{user_id}"),
                });
                ("track", Some("message.sent"), properties)
            }
            75..87 => {
                let quantity = 1 + self.rng.below(3);
                let properties = json!({
                    "channel": "online_store",
                    "order_id": order.to_string(),
                    "total": format!("{}.00", 125_000 * quantity),
                    "currency": "IDR",
                    "products": [{ "sku": "SLX1-BLK-42", "name": "Sepatu Lari X1", "quantity": quantity }],
                });
                ("track", Some("Order Completed"), properties)
            }
            87..95 => {
                let score = self.rng.below(11);
                let band = match score {
                    0..=6 => 0,
                    7..=8 => 1,
                    _ => 2,
                };
                let (language, comment) = NPS_COMMENTS[band];
                let properties = json!({
                    "channel": "survey",
                    "rating": score,
                    "rating_scale": "nps",
                    "text": comment,
                    "survey_id": "nps_2025_q1",
                });
                text_language = Some(language);
                ("track", Some("survey.answered"), properties)
            }
            _ => {
                let (path, title) = *self.rng.pick(PAGES);
                let properties = json!({
                    "path": path,
                    "title": title,
                    "url": format!("https://shop.example.com{path}"),
                });
                ("page", None, properties)
            }
        };
        let tag_language = self.rng.below(100) < u64::from(self.language_percent);
        if let (Some(language), true, Some(fields)) =
            (text_language, tag_language, properties.as_object_mut())
        {
            fields.insert("language".to_owned(), Value::from(language));
        }
        let mut object = json!({
            "type": kind,
            "userId": user_id,
            "messageId": message_id,
            "timestamp": timestamp,
            "properties": properties,
            "context": context,
        });
        if let (Some(event), Some(fields)) = (event, object.as_object_mut()) {
            fields.insert("event".to_owned(), Value::from(event));
        }
        object
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn events_of(body: &Bytes) -> Vec<Value> {
        let parsed: Value = serde_json::from_slice(body).expect("the body is JSON");
        parsed["events"]
            .as_array()
            .expect("an events array")
            .clone()
    }

    #[test]
    fn a_batch_has_the_requested_number_of_events() {
        let mut generator = EventGenerator::new("run", 7, 100);
        for size in [1, 17, 500] {
            let body = generator.batch_body(size, Utc::now());
            assert_eq!(events_of(&body).len(), size);
        }
    }

    #[test]
    fn message_ids_are_unique_across_batches_and_forked_generators() {
        let generator = EventGenerator::new("run", 7, 10);
        let mut workers: Vec<EventGenerator> =
            (0..4).map(|stream| generator.fork(stream)).collect();
        let mut seen = HashSet::new();
        for _ in 0..5 {
            for worker in &mut workers {
                for event in events_of(&worker.batch_body(100, Utc::now())) {
                    let id = event["messageId"].as_str().expect("a string messageId");
                    assert!(id.starts_with("lg-run-"), "{id}");
                    assert!(seen.insert(id.to_owned()), "duplicate messageId {id}");
                }
            }
        }
        assert_eq!(seen.len(), 2_000);
    }

    #[test]
    fn every_event_has_the_shape_the_gateway_accepts() {
        let now = Utc::now();
        let mut generator = EventGenerator::new("run", 42, 50);
        let events = events_of(&generator.batch_body(1_000, now));
        let mut kinds = HashSet::new();
        for event in &events {
            let kind = event["type"].as_str().expect("type");
            kinds.insert(kind.to_owned());
            let user_id = event["userId"].as_str().expect("userId");
            assert!(user_id.starts_with("cust_"), "{user_id}");
            let timestamp = event["timestamp"].as_str().expect("timestamp");
            let at = DateTime::parse_from_rfc3339(timestamp).expect("RFC 3339 timestamp");
            assert!(
                at <= now && now - at.to_utc() <= TimeDelta::minutes(10),
                "{timestamp}"
            );
            let properties = event["properties"].as_object().expect("properties object");
            assert!(event["context"]["traits"]["email"].is_string());
            match kind {
                // The gateway requires `event` and `properties.channel` for track events.
                "track" => {
                    assert!(event["event"].is_string(), "{event}");
                    assert!(properties["channel"].is_string(), "{event}");
                }
                "page" => assert!(properties["path"].is_string(), "{event}"),
                other => panic!("unexpected type {other}"),
            }
            if properties.contains_key("total") {
                assert!(
                    properties["currency"].is_string(),
                    "money needs a currency: {event}"
                );
            }
            if properties.contains_key("rating") {
                assert_eq!(properties["rating_scale"], "nps");
            }
        }
        assert!(
            kinds.contains("track") && kinds.contains("page"),
            "{kinds:?}"
        );
    }

    #[test]
    fn language_is_absent_by_default_and_present_on_every_text_at_100_percent() {
        let now = Utc::now();
        let languages = |generator: &mut EventGenerator| -> Vec<Option<String>> {
            events_of(&generator.batch_body(500, now))
                .iter()
                .filter(|event| event["properties"]["text"].is_string())
                .map(|event| event["properties"]["language"].as_str().map(str::to_owned))
                .collect()
        };
        let without = languages(&mut EventGenerator::new("run", 3, 10));
        assert!(!without.is_empty() && without.iter().all(Option::is_none));

        let mut tagged = EventGenerator::new("run", 3, 10).with_language_percent(100);
        let with = languages(&mut tagged);
        assert!(
            with.iter()
                .all(|language| matches!(language.as_deref(), Some("en" | "id")))
        );
        assert!(
            with.iter()
                .any(|language| language.as_deref() == Some("id"))
        );
    }

    #[test]
    fn user_ids_stay_within_the_customer_count() {
        let mut generator = EventGenerator::new("run", 1, 3);
        let users: HashSet<String> = events_of(&generator.batch_body(300, Utc::now()))
            .iter()
            .map(|event| event["userId"].as_str().expect("userId").to_owned())
            .collect();
        assert_eq!(users.len(), 3, "{users:?}");
    }

    #[test]
    fn the_same_seed_gives_the_same_mix() {
        let now = Utc::now();
        let strip_ids = |body: Bytes| -> Vec<Value> {
            events_of(&body)
                .into_iter()
                .map(|mut event| {
                    event["messageId"] = Value::Null;
                    event
                })
                .collect()
        };
        let first = strip_ids(EventGenerator::new("a", 9, 20).batch_body(50, now));
        let second = strip_ids(EventGenerator::new("b", 9, 20).batch_body(50, now));
        assert_eq!(first, second);
    }
}
