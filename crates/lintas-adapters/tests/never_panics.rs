//! `parse` (and `verify`) never panic, whatever the bytes: property tests over arbitrary input,
//! arbitrary JSON shapes and mutations of the real corpus samples.

mod common;

use lintas_adapters::testing::OwnedRequest;
use lintas_adapters::{Secrets, VerifyPolicy, parse_bytes};
use proptest::prelude::*;

/// Source id and the content type its platform sends. Add your adapter here.
const ADAPTERS: &[(&str, &str)] = &[
    ("stripe", "application/json"),
    ("twilio", "application/x-www-form-urlencoded"),
    ("whatsapp", "application/json"),
];

/// One valid sample per adapter, the seed of the mutation tests.
const SEEDS: &[(&str, &str)] = &[
    ("stripe", "stripe/charge_refunded.json"),
    ("twilio", "twilio/mms_inbound_damaged_item_id.form"),
    ("whatsapp", "whatsapp/message_image_caption_id.json"),
];

fn parse_all(body: &[u8]) {
    for (source, content_type) in ADAPTERS {
        let adapter = lintas_adapters::adapter(source).expect("registered");
        if let Ok(parsed) = parse_bytes(adapter, content_type, body) {
            for event in &parsed.events {
                assert!(
                    lintas_schema::validate_event(event).is_ok(),
                    "{source}: {event:?}"
                );
            }
        }
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::json!(f)),
        ".{0,40}".prop_map(serde_json::Value::String),
        // Values that steer into the adapters' branches.
        prop::sample::select(vec![
            "whatsapp_business_account",
            "messages",
            "text",
            "image",
            "reaction",
            "location",
            "interactive",
            "system",
            "charge.refunded",
            "payment_intent.succeeded",
            "usd",
            "idr",
            "1741921541",
            "15555550106",
            "cus_1",
        ])
        .prop_map(|s| serde_json::Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "object",
                    "entry",
                    "changes",
                    "field",
                    "value",
                    "messages",
                    "statuses",
                    "contacts",
                    "from",
                    "id",
                    "timestamp",
                    "type",
                    "text",
                    "body",
                    "image",
                    "caption",
                    "wa_id",
                    "data",
                    "created",
                    "currency",
                    "amount",
                    "amount_refunded",
                    "customer",
                    "receipt_email",
                    "previous_attributes",
                    "metadata",
                    "reaction",
                    "emoji",
                    "location",
                    "referral",
                    "context",
                ]),
                inner,
                0..6,
            )
            .prop_map(|map| serde_json::Value::Object(
                map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        parse_all(&body);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_json_shapes(value in json_value()) {
        let body = serde_json::to_vec(&value).expect("serializable");
        parse_all(&body);
        // The same shape inside a WhatsApp envelope reaches the message handling.
        let wrapped = serde_json::json!({
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "messages", "value": {"messages": [value.clone()], "contacts": [value]}}]}]
        });
        parse_all(&serde_json::to_vec(&wrapped).expect("serializable"));
    }

    #[test]
    fn parse_never_panics_on_mutated_corpus_samples(
        seed in 0..SEEDS.len(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let (source, file) = SEEDS[seed];
        let case = common::CorpusCase::load(file);
        let mut body = case.body.clone();
        for (at, byte) in flips {
            let index = at.index(body.len());
            body[index] = byte;
        }
        body.truncate(cut.index(body.len() + 1));
        parse_all(&body);
        let _ = source;
    }

    #[test]
    fn verify_never_panics_on_arbitrary_signature_headers(
        seed in 0..SEEDS.len(),
        value in "[ -~]{0,200}",
    ) {
        let (source, file) = SEEDS[seed];
        let case = common::CorpusCase::load(file);
        let adapter = lintas_adapters::adapter(source).expect("registered");
        let store = common::secrets_for(source);
        let mut request: OwnedRequest = case.request();
        for header in ["X-Hub-Signature-256", "X-Twilio-Signature", "Stripe-Signature"] {
            request = request.without_header(header).with_header(header, &value).expect("visible ASCII");
        }
        let outcome = adapter.verify(&request.as_request(), &Secrets::new(&store), &VerifyPolicy::default());
        prop_assert!(outcome.is_err(), "{source}: a random header must not authenticate");
    }
}
