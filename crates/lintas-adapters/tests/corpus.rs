//! Every corpus sample of the implemented platforms, checked field by field against
//! `expected.json` (see `tests/common/mod.rs` for the loader and the comparison).

mod common;

use common::{CorpusCase, Outcome, assert_matches_manifest, run_request};
use lintas_adapters::{IgnoredKind, UnusableReason};
use lintas_schema::v1::NormalizationFlag;

/// The samples this file checks; `corpus_covers_every_sample_of_the_implemented_platforms`
/// fails when the corpus gains a sample of these platforms that is not listed here.
const CASES: &[&str] = &[
    "chatwoot/conversation_created.json",
    "chatwoot/malformed_created_at_with_offset_id.json",
    "chatwoot/message_created_incoming_id.json",
    "instagram/message_story_reply_id.json",
    "mailgun/inbound_multipart_feedback.txt",
    "mailgun/malformed_multipart_missing_boundary.txt",
    "messenger/malformed_missing_signature.json",
    "messenger/message_reply_upgrade_id.json",
    "messenger/postback_get_started_from_ad.json",
    "postmark/inbound_cancel_subscription.json",
    "segment/identify_traits.json",
    "segment/track_order_completed.json",
    "shopify/malformed_bad_signature.json",
    "shopify/orders_create_gift_note_id.json",
    "stripe/charge_refunded.json",
    "stripe/malformed_truncated_json.json",
    "telegram/callback_query_csat.json",
    "telegram/hostile_prompt_injection_id.json",
    "telegram/message_refund_request_id.json",
    "twilio/malformed_form_body_json_content_type.form",
    "twilio/mms_inbound_damaged_item_id.form",
    "twilio/whatsapp_inbound_stock_question_id.form",
    "typeform/form_response_nps_detractor_id.json",
    "whatsapp/malformed_duplicate_delivery_1.json",
    "whatsapp/malformed_missing_sender.json",
    "whatsapp/malformed_oversized_5mb.json",
    "whatsapp/message_image_caption_id.json",
    "whatsapp/message_text_payment_issue_id.json",
    "whatsapp/status_read.json",
    "whatsapp/verify_handshake.txt",
    "zendesk/malformed_wrong_content_type.json",
    "zendesk/ticket_comment_added_agent.json",
    "zendesk/trigger_satisfaction_custom_body.json",
];

/// Platforms whose adapters exist; add yours when you add an adapter.
const PLATFORMS: &[&str] = &[
    "chatwoot",
    "instagram",
    "messenger",
    "telegram",
    "shopify",
    "typeform",
    "segment",
    "mailgun",
    "postmark",
    "stripe",
    "twilio",
    "whatsapp",
    "zendesk",
];

fn check(file: &str) -> (CorpusCase, Outcome) {
    let case = CorpusCase::load(file);
    let outcome = case.run();
    assert_matches_manifest(&case, &outcome);
    (case, outcome)
}

#[test]
fn corpus_covers_every_sample_of_the_implemented_platforms() {
    for platform in PLATFORMS {
        for file in common::corpus_files_of(platform) {
            assert!(
                CASES.contains(&file.as_str()),
                "{file} has no test: add it to CASES"
            );
        }
    }
}

#[test]
fn every_listed_sample_matches_the_manifest() {
    for file in CASES {
        check(file);
    }
}

#[test]
fn whatsapp_text_in_indonesian_becomes_one_messaging_event_with_detected_language() {
    let (_, outcome) = check("whatsapp/message_text_payment_issue_id.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "message.received");
    assert_eq!(
        event.customer_handles,
        vec!["phone:+15555550106".to_owned()]
    );
    assert_eq!(event.conversation_id, "whatsapp:15555550106");
    assert_eq!(
        event.attributes.get("message_type").map(String::as_str),
        Some("text")
    );
}

#[test]
fn whatsapp_image_keeps_the_caption_as_text_and_the_media_id_as_attribute() {
    let (_, outcome) = check("whatsapp/message_image_caption_id.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(
        event.attributes.get("media_id").map(String::as_str),
        Some("9608168575975751")
    );
    assert_eq!(
        event.attributes.get("media_mime_type").map(String::as_str),
        Some("image/jpeg")
    );
}

#[test]
fn whatsapp_read_receipt_is_a_state_change_not_an_interaction() {
    let (_, outcome) = check("whatsapp/status_read.json");
    let ignored = &outcome.parsed().ignored;
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0].kind, IgnoredKind::StateChange);
    assert_eq!(ignored[0].event_type, "status.read");
    assert_eq!(
        ignored[0].source_event_id.as_deref(),
        Some("wamid.HBgLMTU1NTU1NTAxMDYVAgASGBQLjeyynABpkhzxGmg0PVo2l+KMuwA=")
    );
}

#[test]
fn whatsapp_redelivery_yields_the_same_event_id() {
    let (case, first) = check("whatsapp/malformed_duplicate_delivery_1.json");
    // The retry arrives later; only the receive time differs.
    let mut retry = case.request();
    retry.received_at += chrono::Duration::minutes(3);
    let again = run_request("whatsapp", &retry);
    assert_eq!(first.parsed().events.len(), 1);
    assert_eq!(
        again.parsed().events[0].event_id,
        first.parsed().events[0].event_id
    );
    assert_eq!(
        again.parsed().events[0].occurred_at,
        first.parsed().events[0].occurred_at
    );
}

#[test]
fn whatsapp_message_without_sender_is_unusable_and_still_answered_200() {
    let (_, outcome) = check("whatsapp/malformed_missing_sender.json");
    let parsed = outcome.parsed();
    assert_eq!(parsed.unusable.len(), 1);
    assert_eq!(
        parsed.unusable[0].reason,
        UnusableReason::NoCustomerIdentifier
    );
    assert_eq!(parsed.unusable[0].reason.code(), "no_customer_identifier");
}

#[test]
fn whatsapp_oversized_body_is_refused_with_413_before_anything_else() {
    let (_, outcome) = check("whatsapp/malformed_oversized_5mb.json");
    assert!(matches!(outcome, Outcome::Refused(ref error) if error.code() == "payload_too_large"));
}

#[test]
fn whatsapp_handshake_echoes_the_challenge_and_refuses_a_wrong_token_with_403() {
    let (case, outcome) = check("whatsapp/verify_handshake.txt");
    let Outcome::Answered(response) = outcome else {
        panic!("handshake must be answered");
    };
    assert_eq!(response.content_type, Some("text/plain; charset=utf-8"));

    let mut wrong = case.request();
    wrong.query = wrong.query.replace("corpus-verify-token-0003", "guess");
    assert_eq!(run_request("whatsapp", &wrong).status(), 403);
    let mut no_token = case.request();
    no_token.query = "hub.mode=subscribe&hub.challenge=1158201444".to_owned();
    assert_eq!(run_request("whatsapp", &no_token).status(), 403);
}

#[test]
fn twilio_whatsapp_message_is_messaging_with_inferred_time_and_empty_twiml() {
    let (_, outcome) = check("twilio/whatsapp_inbound_stock_question_id.form");
    let Outcome::Accepted(parsed, response) = &outcome else {
        panic!("accepted");
    };
    let event = &parsed.events[0];
    let inferred = NormalizationFlag::OccurredAtInferred as i32;
    assert!(
        event.normalization_flags.contains(&inferred),
        "OCCURRED_AT_INFERRED is set"
    );
    assert_eq!(
        event.customer_handles,
        vec!["phone:+15555550102".to_owned()]
    );
    assert_eq!(response.content_type, Some("text/xml"));
    assert!(
        std::str::from_utf8(&response.body)
            .expect("UTF-8")
            .contains("<Response></Response>")
    );
}

#[test]
fn twilio_mms_keeps_the_media_as_attributes() {
    let (_, outcome) = check("twilio/mms_inbound_damaged_item_id.form");
    let event = &outcome.parsed().events[0];
    assert_eq!(
        event.attributes.get("media_count").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        event
            .attributes
            .get("media_content_type_0")
            .map(String::as_str),
        Some("image/jpeg")
    );
    assert!(event.attributes.contains_key("media_url_0"));
}

#[test]
fn twilio_signature_covers_the_url_so_another_route_needs_a_new_signature() {
    let case = CorpusCase::load("twilio/mms_inbound_damaged_item_id.form");
    let our_route = format!("{}/v1/webhooks/acme/twilio", common::PUBLIC_HOST);
    let mut moved = case.request();
    moved.public_url = our_route.clone();
    assert_eq!(
        run_request("twilio", &moved).status(),
        401,
        "old signature, new URL"
    );

    let token = common::manifest_secret("twilio_auth_token");
    let signature = lintas_adapters::testing::twilio_signature(&token, &our_route, &case.body)
        .expect("form body");
    let resigned = moved
        .without_header("X-Twilio-Signature")
        .with_header("X-Twilio-Signature", &signature)
        .expect("header");
    assert_eq!(run_request("twilio", &resigned).status(), 200);
}

#[test]
fn stripe_refund_carries_negative_minor_units_and_the_customer_email_as_handle() {
    let (_, outcome) = check("stripe/charge_refunded.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "refund.created");
    let money = event.money.as_ref().expect("money");
    assert_eq!(
        (money.amount_minor, money.currency.as_str()),
        (-8900, "USD")
    );
    assert_eq!(
        event.customer_handles,
        vec!["email:customer.i@example.com".to_owned()]
    );
    assert_eq!(
        event.attributes.get("description").map(String::as_str),
        Some("Order #5521")
    );
    assert_eq!(
        event
            .attributes
            .get("metadata.order_id")
            .map(String::as_str),
        Some("5521")
    );
    assert!(event.text.is_empty());
}

#[test]
fn shopify_order_becomes_an_idr_order_with_the_gift_note_and_every_handle() {
    let (_, outcome) = check("shopify/orders_create_gift_note_id.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "order.created");
    let money = event.money.as_ref().expect("money");
    assert_eq!(
        (money.amount_minor, money.currency.as_str()),
        (1_275_000, "IDR")
    );
    assert_eq!(
        event.customer_handles,
        vec![
            "email:customer.v@example.com".to_owned(),
            "phone:+15555550121".to_owned(),
            "shopify_order:5990000000101".to_owned(),
        ]
    );
    assert_eq!(event.conversation_id, "shopify_order:5990000000101");
    // The language comes from `customer_locale`, not from detection.
    let detected = NormalizationFlag::LanguageDetected as i32;
    assert!(!event.normalization_flags.contains(&detected));
    for (key, value) in [
        ("order_name", "#1077"),
        ("financial_status", "paid"),
        ("note_attribute.gift_wrap", "yes"),
        ("shopify_event_id", "957c3210-9e5e-471e-a4fe-2f2b980adde8"),
        ("shop_domain", "example-shop.myshopify.com"),
    ] {
        assert_eq!(
            event.attributes.get(key).map(String::as_str),
            Some(value),
            "{key}"
        );
    }
}

#[test]
fn shopify_redelivery_with_new_delivery_headers_yields_the_same_event_id() {
    let (case, first) = check("shopify/orders_create_gift_note_id.json");
    // Headers are not signed: a retry (or a replay) with other ids is still the same order event.
    let mut retry = case
        .request()
        .without_header("X-Shopify-Webhook-Id")
        .without_header("X-Shopify-Event-Id")
        .with_header(
            "X-Shopify-Webhook-Id",
            "00000000-0000-4000-8000-000000000001",
        )
        .expect("header");
    retry.received_at += chrono::Duration::seconds(5);
    let again = run_request("shopify", &retry);
    assert_eq!(
        again.parsed().events[0].event_id,
        first.parsed().events[0].event_id
    );
}

#[test]
fn shopify_body_signed_with_another_secret_is_401_signature_invalid() {
    let (_, outcome) = check("shopify/malformed_bad_signature.json");
    assert!(matches!(outcome, Outcome::Refused(ref error) if error.code() == "signature_invalid"));
}

#[test]
fn typeform_nps_detractor_carries_the_rating_and_the_hidden_identity() {
    let (_, outcome) = check("typeform/form_response_nps_detractor_id.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "survey.answered");
    let rating = event.rating.expect("rating");
    assert_eq!(rating.scale(), lintas_schema::v1::RatingScale::Nps);
    assert_eq!((rating.value, rating.min, rating.max), (3.0, 0.0, 10.0));
    assert_eq!(
        event.customer_handles,
        vec!["email:customer.w@example.com".to_owned()]
    );
    assert_eq!(
        event.attributes.get("form_id").map(String::as_str),
        Some("lT4Z3j")
    );
    assert_eq!(
        event
            .attributes
            .get("typeform_event_id")
            .map(String::as_str),
        Some("01JPUQIYAIN0SMAVPDNKP0BE83")
    );
}

#[test]
fn segment_order_completed_is_an_order_with_exact_money_and_the_anonymous_id() {
    let (_, outcome) = check("segment/track_order_completed.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "order.created");
    let money = event.money.as_ref().expect("money");
    assert_eq!(
        (money.amount_minor, money.currency.as_str()),
        (12_900, "USD")
    );
    assert_eq!(event.anonymous_id, "5ecc5c7e-f4a5-482f-a9c7-e403d8f8651a");
    for (key, value) in [
        ("segment_event", "Order Completed"),
        ("properties.order_id", "1042"),
        ("product_count", "1"),
        ("library", "analytics.js"),
    ] {
        assert_eq!(
            event.attributes.get(key).map(String::as_str),
            Some(value),
            "{key}"
        );
    }
}

#[test]
fn segment_identify_is_a_profile_update_not_an_interaction() {
    let (_, outcome) = check("segment/identify_traits.json");
    let ignored = &outcome.parsed().ignored;
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0].kind, IgnoredKind::StateChange);
    assert_eq!(ignored[0].event_type, "identify");
    assert_eq!(
        ignored[0].source_event_id.as_deref(),
        Some("ajs-next-0b994ed43c8d512012e1861503f8bdcc")
    );
}

/// The attribute `key` of `event`, for short assertions.
fn attribute_of<'a>(event: &'a lintas_schema::v1::InteractionEvent, key: &str) -> Option<&'a str> {
    event.attributes.get(key).map(String::as_str)
}

#[test]
fn mailgun_multipart_reply_keeps_only_the_stripped_text_and_the_attachment_metadata() {
    let (_, outcome) = check("mailgun/inbound_multipart_feedback.txt");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "message.received");
    assert_eq!(event.subject, "Re: Your replacement kettle has shipped");
    assert_eq!(
        event.source_event_id,
        "CAFcf6e5028f2571fc8b2ca@mail.example.com"
    );
    assert_eq!(
        event.conversation_id,
        "email_thread:CAFcf6e5028f2571fc8b2ca@mail.example.com"
    );
    // `sender` and `From` name the same address: no extra handle.
    assert!(event.customer_handles.is_empty());
    assert!(!event.text.contains("Customer Q") && !event.text.contains("wrote:"));
    assert_eq!(
        attribute_of(event, "recipient"),
        Some("support@mg.example.com")
    );
    assert_eq!(attribute_of(event, "attachment_count"), Some("1"));
    assert_eq!(
        attribute_of(event, "attachment_0_name"),
        Some("order-note.txt")
    );
    assert_eq!(
        attribute_of(event, "attachment_0_content_type"),
        Some("text/plain")
    );
    let inferred = NormalizationFlag::OccurredAtInferred as i32;
    assert!(!event.normalization_flags.contains(&inferred));
}

#[test]
fn mailgun_urlencoded_delivery_of_the_same_message_is_the_same_event() {
    let (case, multipart) = check("mailgun/inbound_multipart_feedback.txt");
    let content_type = case
        .headers
        .iter()
        .find(|(name, _)| name == "Content-Type")
        .map(|(_, value)| value.clone())
        .expect("content type");
    let form = lintas_adapters::codec::decode_multipart_form(&content_type, &case.body)
        .expect("corpus multipart decodes");
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let urlencoded: Vec<String> = form
        .fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    let mut request = case
        .request()
        .without_header("Content-Type")
        .with_header("Content-Type", "application/x-www-form-urlencoded")
        .expect("header");
    request.body = urlencoded.join("&").into_bytes();
    let urlencoded = run_request("mailgun", &request);
    let (first, again) = (
        &multipart.parsed().events[0],
        &urlencoded.parsed().events[0],
    );
    assert_eq!(again.event_id, first.event_id);
    assert_eq!(again.text, first.text);
    assert_eq!(again.occurred_at, first.occurred_at);
    // The attachment itself only travels in the multipart form; its count is a field.
    assert_eq!(attribute_of(again, "attachment_count"), Some("1"));
}

#[test]
fn mailgun_multipart_without_boundary_is_400_before_any_field_is_read() {
    let (_, outcome) = check("mailgun/malformed_multipart_missing_boundary.txt");
    let Outcome::Refused(error) = &outcome else {
        panic!("refused");
    };
    assert_eq!(error.code(), "malformed_body");
    assert!(error.to_string().contains("boundary"), "{error}");
}

#[test]
fn postmark_reply_uses_the_stripped_reply_and_threads_by_mailbox_hash() {
    let (_, outcome) = check("postmark/inbound_cancel_subscription.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "message.received");
    assert_eq!(event.subject, "Re: Your subscription renews on March 31");
    assert_eq!(event.conversation_id, "mailbox_hash:ticket-7731");
    assert_eq!(
        attribute_of(event, "message_id_header"),
        Some("98bc0a38adf6e2c2337c@mail.example.com")
    );
    assert_eq!(attribute_of(event, "mailbox_hash"), Some("ticket-7731"));
    assert_eq!(attribute_of(event, "message_stream"), Some("inbound"));
    assert_eq!(event.language, "en");
}

#[test]
fn zendesk_agent_comment_is_an_outbound_crm_message_naming_agent_and_ticket() {
    let (_, outcome) = check("zendesk/ticket_comment_added_agent.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "message.sent");
    assert_eq!(event.actor(), lintas_schema::v1::Actor::Agent);
    assert_eq!(event.agent_id, "zendesk_user:8447388090495");
    assert_eq!(event.conversation_id, "zendesk_ticket:35436");
    assert_eq!(event.subject, "Charged twice for order 5521");
    assert_eq!(attribute_of(event, "comment_id"), Some("9876543210"));
    assert_eq!(attribute_of(event, "ticket_status"), Some("PENDING"));
    assert_eq!(attribute_of(event, "via_channel"), Some("web_form"));
    // Nanoseconds in `time` are truncated, never rounded.
    assert_eq!(
        event.occurred_at.as_ref().map(|ts| ts.nanos),
        Some(731_945_000)
    );
}

#[test]
fn zendesk_csat_trigger_becomes_a_survey_answer_with_a_rating() {
    let (case, outcome) = check("zendesk/trigger_satisfaction_custom_body.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "survey.answered");
    assert_eq!(event.conversation_id, "zendesk_ticket:35436");
    let rating = event.rating.as_ref().expect("rating");
    assert_eq!(rating.scale(), lintas_schema::v1::RatingScale::Csat);
    assert_eq!((rating.value, rating.min, rating.max), (1.0, 0.0, 1.0));
    assert_eq!(attribute_of(event, "satisfaction_rating"), Some("Good"));

    // Zendesk redelivers the same rendered body: the same event.
    let mut retry = case.request();
    retry.received_at += chrono::Duration::seconds(30);
    let again = run_request("zendesk", &retry);
    assert_eq!(again.parsed().events[0].event_id, event.event_id);
}

#[test]
fn zendesk_body_labelled_text_plain_is_415_without_sniffing() {
    let (_, outcome) = check("zendesk/malformed_wrong_content_type.json");
    let Outcome::Refused(error) = &outcome else {
        panic!("refused");
    };
    assert_eq!(error.code(), "unsupported_media_type");
    assert!(error.to_string().contains("application/json"), "{error}");
}

fn attribute<'a>(event: &'a lintas_schema::v1::InteractionEvent, key: &str) -> Option<&'a str> {
    event.attributes.get(key).map(String::as_str)
}

#[test]
fn messenger_get_started_from_an_ad_is_a_postback_that_keeps_the_referral() {
    let (_, outcome) = check("messenger/postback_get_started_from_ad.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "postback.received");
    assert_eq!(event.conversation_id, "psid:7000000000000102");
    for (key, value) in [
        ("postback_payload", "GET_STARTED"),
        ("referral_ref", "ramadan_promo"),
        ("referral_source", "ADS"),
        ("referral_type", "OPEN_THREAD"),
        ("referral_ad_id", "6123456789012"),
        ("page_id", "104857600012345"),
    ] {
        assert_eq!(attribute(event, key), Some(value), "{key}");
    }
}

#[test]
fn messenger_reply_keeps_the_replied_message_and_millisecond_precision() {
    let (_, outcome) = check("messenger/message_reply_upgrade_id.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "message.received");
    assert_eq!(
        attribute(event, "reply_to_message_id"),
        Some("m_q9wjdncZlqeWAaCMPrDiUyzdcuzTusuzqMFuAYtL")
    );
    assert_eq!(
        event.occurred_at.as_ref().map(|ts| ts.nanos),
        Some(900_000_000)
    );
    for unexpected in [
        NormalizationFlag::OccurredAtInferred,
        NormalizationFlag::TimestampUnitCorrected,
    ] {
        assert!(!event.normalization_flags.contains(&(unexpected as i32)));
    }
}

#[test]
fn messenger_without_signature_is_refused_before_parsing() {
    let (_, outcome) = check("messenger/malformed_missing_signature.json");
    assert!(matches!(outcome, Outcome::Refused(ref error) if error.code() == "signature_missing"));
}

#[test]
fn instagram_story_reply_keeps_the_story_reference() {
    let (_, outcome) = check("instagram/message_story_reply_id.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.channel(), lintas_schema::v1::Channel::Social);
    assert_eq!(attribute(event, "message_type"), Some("story_reply"));
    assert_eq!(
        attribute(event, "reply_to_story_id"),
        Some("52204447642576617")
    );
    assert!(
        attribute(event, "reply_to_story_url")
            .is_some_and(|url| url.starts_with("https://lookaside.fbsbx.com/ig_messaging_cdn/")),
        "escaped slashes are decoded"
    );
    assert_eq!(
        attribute(event, "instagram_account_id"),
        Some("17841400000012345")
    );
}

#[test]
fn messenger_and_instagram_answer_the_hub_challenge_with_their_verify_token() {
    for (source, file) in [
        ("messenger", "messenger/message_reply_upgrade_id.json"),
        ("instagram", "instagram/message_story_reply_id.json"),
    ] {
        let case = CorpusCase::load(file);
        let mut handshake = case.request();
        handshake.method = http::Method::GET;
        handshake.body.clear();
        handshake.query =
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=corpus-verify-token-0003"
                .to_owned();
        let Outcome::Answered(response) = run_request(source, &handshake) else {
            panic!("{source}: handshake must be answered");
        };
        assert_eq!(response.body.as_ref(), b"1158201444", "{source}");
        handshake.query = handshake.query.replace("0003", "0004");
        assert_eq!(run_request(source, &handshake).status(), 403, "{source}");
    }
}

#[test]
fn telegram_message_is_keyed_by_update_id_with_the_username_as_extra_handle() {
    let (_, outcome) = check("telegram/message_refund_request_id.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "message.received");
    assert_eq!(event.source_event_id, "841203371");
    assert_eq!(event.conversation_id, "telegram_chat:5555550110");
    assert_eq!(
        event.customer_handles,
        vec!["telegram_username:customer_h".to_owned()]
    );
    assert_eq!(attribute(event, "message_id"), Some("5521"));
    assert_eq!(attribute(event, "user_language_code"), Some("id"));
}

#[test]
fn telegram_callback_query_takes_the_receive_time_flagged_and_keeps_the_prompt() {
    let (case, outcome) = check("telegram/callback_query_csat.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "postback.received");
    assert_eq!(event.occurred_at, event.received_at);
    assert_eq!(
        event
            .occurred_at
            .as_ref()
            .and_then(lintas_schema::time::from_timestamp),
        Some(case.received_at)
    );
    assert!(
        event
            .normalization_flags
            .contains(&(NormalizationFlag::OccurredAtInferred as i32))
    );
    assert_eq!(
        attribute(event, "callback_query_id"),
        Some("4382bfdwdsb323b2d9")
    );
    assert_eq!(attribute(event, "prompt_message_id"), Some("5530"));
    assert_eq!(
        attribute(event, "prompt_text"),
        Some("Bagaimana layanan kami hari ini? Pilih 1-5 ⭐")
    );
    assert_eq!(event.conversation_id, "telegram_chat:5555550111");
}

#[test]
fn telegram_prompt_injection_is_stored_verbatim_as_plain_customer_text() {
    let (_, outcome) = check("telegram/hostile_prompt_injection_id.json");
    let parsed = outcome.parsed();
    assert_eq!(parsed.events.len(), 1);
    let event = &parsed.events[0];
    assert!(event.text.contains("<script>alert('x')</script>"));
    assert_eq!(event.event_name, "message.received");
    assert_eq!(event.direction(), lintas_schema::v1::Direction::Inbound);
    assert_eq!(event.actor(), lintas_schema::v1::Actor::Customer);
    assert!(event.money.is_none() && event.rating.is_none());
    assert!(
        !event
            .normalization_flags
            .contains(&(NormalizationFlag::OccurredAtInferred as i32))
    );
}

#[test]
fn chatwoot_message_created_names_the_contact_the_conversation_and_the_page() {
    let (_, outcome) = check("chatwoot/message_created_incoming_id.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "message.received");
    assert_eq!(event.source_event_id, "1187");
    assert_eq!(event.conversation_id, "chatwoot_conversation:210");
    assert_eq!(
        event.customer_handles,
        vec!["email:customer.m@example.com".to_owned()]
    );
    assert_eq!(event.occurred_at.as_ref().map(|ts| ts.nanos), Some(0));
    assert_eq!(attribute(event, "chatwoot_event"), Some("message_created"));
    assert_eq!(
        attribute(event, "chatwoot_channel"),
        Some("Channel::WebWidget")
    );
    assert_eq!(
        attribute(event, "referer"),
        Some("https://www.example.com/produk/kursi-ergonomis")
    );
}

#[test]
fn chatwoot_offset_time_is_converted_not_assumed() {
    let (_, outcome) = check("chatwoot/malformed_created_at_with_offset_id.json");
    let event = &outcome.parsed().events[0];
    assert!(
        !event
            .normalization_flags
            .contains(&(NormalizationFlag::TzAssumed as i32))
    );
    assert_eq!(
        event.customer_handles,
        vec!["email:customer.ao@example.com".to_owned()]
    );
}

#[test]
fn chatwoot_first_message_of_a_new_conversation_is_the_same_event_as_its_message_created() {
    let (case, created) = check("chatwoot/conversation_created.json");
    let first = &created.parsed().events[0];
    assert_eq!(first.source_event_id, "1201");
    assert_eq!(first.conversation_id, "chatwoot_conversation:214");
    assert_eq!(
        attribute(first, "chatwoot_event"),
        Some("conversation_created")
    );

    // The `message_created` Chatwoot sends for the same message a moment later.
    let body = serde_json::json!({
        "event": "message_created", "id": 1201,
        "content": "Hi, could you send a quote for 50 units of the ergonomic chair for our new office? 🏢",
        "created_at": "2025-03-14T10:20:00.000Z", "message_type": "incoming", "private": false,
        "content_type": "text", "sender": {"id": 61, "name": "Customer N", "type": "contact"},
        "inbox": {"id": 4, "name": "Website"}, "account": {"id": 3},
        "conversation": {"id": 214, "channel": "Channel::WebWidget", "inbox_id": 4,
            "contact_inbox": {"contact_id": 61},
            "meta": {"sender": {"id": 61, "email": "customer.n@example.com", "type": "contact"}}},
    })
    .to_string()
    .into_bytes();
    let signed_at = case.received_at.timestamp() + 1;
    let secret = common::manifest_secret("chatwoot_webhook_secret");
    let mut request = case
        .request()
        .without_header("X-Chatwoot-Signature")
        .without_header("X-Chatwoot-Timestamp")
        .with_header(
            "X-Chatwoot-Signature",
            &lintas_adapters::testing::chatwoot_signature(&secret, signed_at, &body),
        )
        .and_then(|request| request.with_header("X-Chatwoot-Timestamp", &signed_at.to_string()))
        .expect("headers");
    request.body = body;
    request.received_at += chrono::Duration::seconds(1);
    let again = run_request("chatwoot", &request);
    let second = &again.parsed().events[0];
    assert_eq!(second.event_id, first.event_id);
    assert_eq!(second.occurred_at, first.occurred_at);
    assert_eq!(second.customer_id, first.customer_id);
    assert_eq!(second.text, first.text);
}
