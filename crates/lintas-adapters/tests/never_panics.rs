//! `parse` (and `verify`) never panic, whatever the bytes: property tests over arbitrary input,
//! arbitrary JSON shapes and mutations of the real corpus samples.

mod common;

use lintas_adapters::testing::OwnedRequest;
use lintas_adapters::{Secrets, VerifyPolicy, parse_bytes};
use proptest::prelude::*;

/// Source id and the content type its platform sends. Add your adapter here.
const ADAPTERS: &[(&str, &str)] = &[
    ("chatwoot", "application/json"),
    ("instagram", "application/json"),
    ("mailgun", "application/x-www-form-urlencoded"),
    ("mailgun", MAILGUN_MULTIPART),
    ("messenger", "application/json"),
    ("postmark", "application/json"),
    ("telegram", "application/json"),
    ("stripe", "application/json"),
    ("segment", "application/json"),
    ("shopify", "application/json"),
    ("twilio", "application/x-www-form-urlencoded"),
    ("typeform", "application/json"),
    ("whatsapp", "application/json"),
    ("zendesk", "application/json"),
];

/// The Content-Type of the Mailgun corpus sample: mutations of it keep reaching the fields.
const MAILGUN_MULTIPART: &str = "multipart/form-data; boundary=ef248456c343faf779a70bdeaa9a57";

/// One valid sample per adapter, the seed of the mutation tests.
const SEEDS: &[(&str, &str)] = &[
    ("chatwoot", "chatwoot/conversation_created.json"),
    ("instagram", "instagram/message_story_reply_id.json"),
    ("messenger", "messenger/postback_get_started_from_ad.json"),
    ("postmark", "postmark/inbound_cancel_subscription.json"),
    ("telegram", "telegram/callback_query_csat.json"),
    ("stripe", "stripe/charge_refunded.json"),
    ("segment", "segment/track_order_completed.json"),
    ("shopify", "shopify/orders_create_gift_note_id.json"),
    ("twilio", "twilio/mms_inbound_damaged_item_id.form"),
    ("typeform", "typeform/form_response_nps_detractor_id.json"),
    ("whatsapp", "whatsapp/message_image_caption_id.json"),
    ("zendesk", "zendesk/ticket_comment_added_agent.json"),
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
            "instagram",
            "message_created",
            "conversation_created",
            "incoming",
            "outgoing",
            "Channel::Email",
            "1741931112900",
            "cus_1",
            "form_response",
            "nps",
            "opinion_scale",
            "track",
            "page",
            "Order Completed",
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
                    "messaging",
                    "sender",
                    "recipient",
                    "postback",
                    "is_echo",
                    "reply_to",
                    "update_id",
                    "message",
                    "edited_message",
                    "callback_query",
                    "chat",
                    "date",
                    "event",
                    "conversation",
                    "message_type",
                    "private",
                    "content",
                    "created_at",
                    "meta",
                    "context",
                    "form_response",
                    "answers",
                    "hidden",
                    "number",
                    "field",
                    "event_type",
                    "userId",
                    "anonymousId",
                    "messageId",
                    "properties",
                    "batch",
                    "line_items",
                    "total_price",
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
        for header in [
            "X-Telegram-Bot-Api-Secret-Token",
            "X-Chatwoot-Signature",
            "X-Hub-Signature-256",
            "X-Twilio-Signature",
            "Stripe-Signature",
            "X-Shopify-Hmac-Sha256",
            "Typeform-Signature",
            "X-Signature",
            "Authorization",
            "X-Zendesk-Webhook-Signature",
        ] {
            request = request.without_header(header).with_header(header, &value).expect("visible ASCII");
        }
        let outcome = adapter.verify(&request.as_request(), &Secrets::new(&store), &VerifyPolicy::default());
        prop_assert!(outcome.is_err(), "{source}: a random header must not authenticate");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary shapes in the places the Meta messaging, Telegram and Chatwoot adapters read.
    #[test]
    fn chat_envelopes_never_panic_whatever_their_items(value in json_value()) {
        let meta_items = serde_json::json!([
            value.clone(),
            {"sender": value.clone(), "recipient": {"id": "1"}, "timestamp": value.clone(), "message": value.clone()},
            {"sender": {"id": "7"}, "recipient": value.clone(), "message": {"is_echo": true, "mid": value.clone()}},
            {"sender": {"id": "7"}, "postback": value.clone()},
            {"sender": {"id": "7"}, "reaction": value.clone()},
            {"sender": {"id": "7"}, "referral": value.clone()},
        ]);
        let envelopes = [
            serde_json::json!({"object": "page", "entry": [{"id": value.clone(), "messaging": meta_items.clone(), "standby": [value.clone()]}]}),
            serde_json::json!({"object": "instagram", "entry": [{"id": "1", "messaging": meta_items, "changes": [value.clone()]}]}),
            serde_json::json!({"update_id": 1, "message": value.clone()}),
            serde_json::json!({"update_id": value.clone(), "edited_message": value.clone()}),
            serde_json::json!({"update_id": 1, "business_message": value.clone()}),
            serde_json::json!({"update_id": 1, "callback_query": value.clone()}),
            serde_json::json!({"event": "message_created", "message_type": "incoming", "sender": value.clone(),
                "conversation": value.clone(), "created_at": value.clone(), "content": value.clone()}),
            serde_json::json!({"event": "conversation_created", "messages": [value.clone()], "meta": value.clone(),
                "channel": "Channel::Email"}),
        ];
        for envelope in envelopes {
            parse_all(&serde_json::to_vec(&envelope).expect("serializable"));
        }
    }
}

/// `value` as an `application/x-www-form-urlencoded` component.
fn form_component(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Mailgun's sample is multipart: its mutations are parsed with its boundary (a seed of the
    /// shared mutation test would be parsed without one).
    #[test]
    fn mailgun_multipart_mutations_never_panic(
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let case = common::CorpusCase::load("mailgun/inbound_multipart_feedback.txt");
        let mut body = case.body.clone();
        for (at, byte) in flips {
            let index = at.index(body.len());
            body[index] = byte;
        }
        body.truncate(cut.index(body.len() + 1));
        parse_all(&body);
    }

    /// Mailgun signs in the body: random `signature`, `timestamp` and `token` fields never
    /// authenticate and never panic.
    #[test]
    fn mailgun_verify_never_panics_on_arbitrary_signature_fields(
        signature in "[ -~]{0,100}",
        timestamp in prop_oneof![Just("1741952714".to_owned()), "[ -~]{0,30}"],
        token in "[ -~]{0,60}",
    ) {
        let case = common::CorpusCase::load("mailgun/inbound_multipart_feedback.txt");
        let adapter = lintas_adapters::adapter("mailgun").expect("registered");
        let store = common::secrets_for("mailgun");
        let mut request: OwnedRequest = case
            .request()
            .without_header("Content-Type")
            .with_header("Content-Type", "application/x-www-form-urlencoded")
            .expect("header");
        request.body = format!(
            "sender=a%40example.com&signature={}&timestamp={}&token={}",
            form_component(&signature),
            form_component(&timestamp),
            form_component(&token)
        )
        .into_bytes();
        let outcome = adapter.verify(&request.as_request(), &Secrets::new(&store), &VerifyPolicy::default());
        prop_assert!(outcome.is_err(), "random signature fields must not authenticate");
    }

    /// Arbitrary shapes in the places the e-mail and Zendesk adapters read.
    #[test]
    fn email_and_zendesk_envelopes_never_panic_whatever_their_fields(value in json_value()) {
        let envelopes = [
            serde_json::json!({"MessageID": value.clone(), "From": value.clone(), "FromFull": value.clone(),
                "Date": value.clone(), "TextBody": value.clone(), "Headers": value.clone(), "Attachments": [value.clone()]}),
            serde_json::json!({"MessageID": "m", "FromFull": {"Email": "a@example.com"}, "HtmlBody": value.clone(),
                "Headers": [{"Name": "References", "Value": value.clone()}], "RecordType": value.clone()}),
            serde_json::json!({"type": "zen:event-type:ticket.comment_added", "id": value.clone(), "time": value.clone(),
                "detail": value.clone(), "event": {"comment": value.clone()}}),
            serde_json::json!({"type": "zen:event-type:ticket.created", "id": "e", "detail": {"requester_id": value.clone(),
                "submitter_id": value.clone(), "description": value.clone(), "tags": value.clone()}}),
            serde_json::json!({"ticket": {"id": value.clone(), "satisfaction_rating": value.clone(),
                "requester": value.clone(), "updated_at": value.clone()}}),
        ];
        for envelope in envelopes {
            parse_all(&serde_json::to_vec(&envelope).expect("serializable"));
        }
        let text = value.to_string();
        let form = format!("from={}&sender={}&Date={}&message-headers={}&body-html={}",
            form_component(&text), form_component(&text), form_component(&text),
            form_component(&text), form_component(&text));
        parse_all(form.as_bytes());
    }
}
