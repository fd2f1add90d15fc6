//! Authentication comes first: a wrong or missing signature, a stale Stripe timestamp or a missing
//! secret is a 401 before anything is parsed, and no error ever carries a secret.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{CorpusCase, Outcome, run_request};
use lintas_adapters::testing::{OwnedRequest, meta_signature, stripe_signature};
use lintas_adapters::{AdapterError, Secrets, VerifyPolicy};

fn refused(outcome: &Outcome) -> &AdapterError {
    match outcome {
        Outcome::Refused(error) => error,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A request whose body would fail to parse (400) if parsing ever ran before authentication.
fn with_unparseable_body(mut request: OwnedRequest) -> OwnedRequest {
    request.body = b"{\"truncated\": ".to_vec();
    request
}

#[test]
fn a_missing_signature_header_is_401_for_every_adapter() {
    for (file, header) in [
        (
            "whatsapp/message_text_payment_issue_id.json",
            "X-Hub-Signature-256",
        ),
        (
            "twilio/mms_inbound_damaged_item_id.form",
            "X-Twilio-Signature",
        ),
        ("stripe/charge_refunded.json", "Stripe-Signature"),
    ] {
        let case = CorpusCase::load(file);
        let request = with_unparseable_body(case.request().without_header(header));
        let outcome = run_request(&case.source, &request);
        assert_eq!(refused(&outcome).code(), "signature_missing", "{file}");
        assert_eq!(outcome.status(), 401, "{file}");
    }
}

#[test]
fn a_wrong_signature_is_401_without_parsing() {
    let case = CorpusCase::load("whatsapp/message_text_payment_issue_id.json");
    let forged = meta_signature("not-the-app-secret", &case.body);
    let request = with_unparseable_body(
        case.request()
            .without_header("X-Hub-Signature-256")
            .with_header("X-Hub-Signature-256", &forged)
            .expect("header"),
    );
    let outcome = run_request("whatsapp", &request);
    assert_eq!(refused(&outcome).code(), "signature_invalid");

    let garbage = case
        .request()
        .without_header("X-Hub-Signature-256")
        .with_header("X-Hub-Signature-256", "sha256=not-hex")
        .expect("header");
    assert_eq!(run_request("whatsapp", &garbage).status(), 401);
}

#[test]
fn a_tampered_body_fails_every_signature_scheme() {
    for file in [
        "whatsapp/message_text_payment_issue_id.json",
        "twilio/mms_inbound_damaged_item_id.form",
        "stripe/charge_refunded.json",
    ] {
        let case = CorpusCase::load(file);
        let mut request = case.request();
        // Flip one character of customer content (a digit of an id or amount).
        let at = request
            .body
            .iter()
            .position(u8::is_ascii_digit)
            .expect("a digit");
        request.body[at] = if request.body[at] == b'9' { b'8' } else { b'9' };
        let outcome = run_request(&case.source, &request);
        assert_eq!(refused(&outcome).code(), "signature_invalid", "{file}");
    }
}

#[test]
fn a_stripe_timestamp_outside_five_minutes_is_401_in_either_direction() {
    let case = CorpusCase::load("stripe/charge_refunded.json");
    let secret = common::manifest_secret("stripe_endpoint_secret");
    let now = case.received_at.timestamp();
    for (signed_at, accepted) in [
        (now - 301, false),
        (now - 300, true),
        (now + 300, true),
        (now + 301, false),
        (now - 86_400, false),
    ] {
        let request = case
            .request()
            .without_header("Stripe-Signature")
            .with_header(
                "Stripe-Signature",
                &stripe_signature(&secret, signed_at, &case.body),
            )
            .expect("header");
        let outcome = run_request("stripe", &request);
        if accepted {
            assert_eq!(outcome.status(), 200, "signed at now{:+}", signed_at - now);
        } else {
            let error = refused(&outcome);
            assert_eq!(
                error.code(),
                "timestamp_outside_tolerance",
                "signed at now{:+}",
                signed_at - now
            );
            assert_eq!(error.status().as_u16(), 401);
        }
    }
}

#[test]
fn a_stale_but_authentic_stripe_delivery_is_401_before_its_body_is_parsed() {
    let case = CorpusCase::load("stripe/malformed_truncated_json.json");
    let secret = common::manifest_secret("stripe_endpoint_secret");
    let stale = case.received_at.timestamp() - 3_600;
    let request = case
        .request()
        .without_header("Stripe-Signature")
        .with_header(
            "Stripe-Signature",
            &stripe_signature(&secret, stale, &case.body),
        )
        .expect("header");
    // Fresh, the same truncated body is a 400 (see the corpus test); stale, it is never parsed.
    let outcome = run_request("stripe", &request);
    assert_eq!(refused(&outcome).code(), "timestamp_outside_tolerance");
}

#[test]
fn the_stripe_tolerance_comes_from_the_policy() {
    let case = CorpusCase::load("stripe/charge_refunded.json");
    let store = common::secrets_for("stripe");
    let secrets = Secrets::new(&store);
    let adapter = lintas_adapters::adapter("stripe").expect("stripe");
    let request = case.request();
    // The corpus signature's `t` lies 1 s before the receive time.
    let strict = VerifyPolicy {
        timestamp_tolerance: Duration::from_secs(0),
    };
    let error = lintas_adapters::receive(adapter, &request.as_request(), &secrets, &strict)
        .expect_err("a zero tolerance refuses a 1 s old signature");
    assert_eq!(error.code(), "timestamp_outside_tolerance");
}

#[test]
fn any_matching_stripe_v1_signature_is_accepted_during_secret_rolling() {
    let case = CorpusCase::load("stripe/charge_refunded.json");
    let original = case
        .headers
        .iter()
        .find(|(name, _)| name == "Stripe-Signature")
        .map(|(_, value)| value.clone())
        .expect("corpus signature");
    let (timestamp, valid) = original.split_once(',').expect("t and v1");
    let rolled = format!("{timestamp},v1={},{valid},v0=ignored", "ab".repeat(32));
    let request = case
        .request()
        .without_header("Stripe-Signature")
        .with_header("Stripe-Signature", &rolled)
        .expect("header");
    assert_eq!(run_request("stripe", &request).status(), 200);
}

#[test]
fn a_missing_secret_is_401_not_configured_naming_the_secret() {
    let case = CorpusCase::load("whatsapp/message_text_payment_issue_id.json");
    let adapter = lintas_adapters::adapter("whatsapp").expect("whatsapp");
    let empty: BTreeMap<String, String> = BTreeMap::new();
    let error = lintas_adapters::receive(
        adapter,
        &case.request().as_request(),
        &Secrets::new(&empty),
        &VerifyPolicy::default(),
    )
    .expect_err("no secret configured");
    assert_eq!(
        error,
        AdapterError::NotConfigured {
            secret: "app_secret"
        }
    );
    assert_eq!(error.status().as_u16(), 401);
}

#[test]
fn content_type_is_checked_before_the_signature() {
    let case = CorpusCase::load("twilio/malformed_form_body_json_content_type.form");
    let request = case.request().without_header("X-Twilio-Signature");
    assert_eq!(run_request("twilio", &request).status(), 415);
}

#[test]
fn no_error_message_or_debug_output_contains_a_secret() {
    let secrets: Vec<String> = ["whatsapp", "twilio", "stripe"]
        .into_iter()
        .flat_map(|source| common::secrets_for(source).into_values())
        .collect();
    let mut failures = Vec::new();
    for (file, header) in [
        (
            "whatsapp/message_text_payment_issue_id.json",
            "X-Hub-Signature-256",
        ),
        (
            "twilio/mms_inbound_damaged_item_id.form",
            "X-Twilio-Signature",
        ),
        ("stripe/charge_refunded.json", "Stripe-Signature"),
    ] {
        let case = CorpusCase::load(file);
        let forged = case
            .request()
            .without_header(header)
            .with_header(header, "t=1,v1=00,sha256=00")
            .expect("header");
        failures.push(run_request(&case.source, &forged));
        failures.push(run_request(
            &case.source,
            &case.request().without_header(header),
        ));
    }
    let handshake = CorpusCase::load("whatsapp/verify_handshake.txt");
    let mut wrong = handshake.request();
    wrong.query = wrong.query.replace("0003", "0004");
    failures.push(run_request("whatsapp", &wrong));
    for outcome in &failures {
        let error = refused(outcome);
        let printed = format!("{error} {error:?}");
        for secret in &secrets {
            assert!(!printed.contains(secret.as_str()), "{printed}");
        }
    }
}

#[test]
fn a_wrong_content_type_is_415_naming_what_is_accepted() {
    let case = CorpusCase::load("twilio/malformed_form_body_json_content_type.form");
    let outcome = case.run();
    let message = refused(&outcome).to_string();
    assert!(message.contains("application/json"), "{message}");
    assert!(
        message.contains("application/x-www-form-urlencoded"),
        "{message}"
    );

    let stripe = CorpusCase::load("stripe/charge_refunded.json");
    let unlabeled = stripe.request().without_header("Content-Type");
    assert_eq!(run_request("stripe", &unlabeled).status(), 415);
}
