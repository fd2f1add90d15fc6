//! `typeform`: Typeform response webhooks (`event_type = form_response`), NPS included.
//!
//! - Authenticity: `Typeform-Signature: sha256=<base64 HMAC-SHA256 of the raw body>`, keyed with
//!   the webhook's `webhook_secret` (the `secret` set on the webhook). Typeform signs no
//!   timestamp: a replayed response maps to the same event through its response token.
//! - Content type: `application/json`.
//! - Mapping:
//!
//! | payload | result |
//! | --- | --- |
//! | `form_response` | `survey.answered`, channel SURVEY, inbound / customer |
//! | other `event_type`s (`form_response_partial`, ...) | ignored, unmapped |
//! | a response naming nobody (no identity hidden field, no e-mail or phone answer) | unusable: no customer identifier |
//!
//! - Rating (the first scale answer, by the field's type): `nps` -> NPS, 0-10; `opinion_scale` ->
//!   NPS when it runs 0-10 (Typeform's default, and how NPS is often built), else CSAT on its own
//!   range (`start_at_one`, `steps` from the form definition); `rating` -> STARS, 1 to `steps`
//!   (default 5). A value off its scale sets no rating.
//! - `text`: the rating as the respondent saw it (`NPS 3/10`, `Rating 4/5`), then every text
//!   answer and chosen label in answer order, joined with ` - `:
//!   `NPS 3/10 - Pengiriman lambat sekali, ...`.
//! - Identity from hidden fields (set by the link the customer clicked): `customer_id` ->
//!   `customer_id:<v>`, `user_id` -> `user_id:<v>` (the Segment namespace), `email` -> `email:`,
//!   `phone` -> `phone:`; then e-mail and phone answers. The first found is `customer_id`, the
//!   others are extra handles.
//! - Fields: `source_event_id` = `form_response.token` (one per response, also on a re-sent
//!   webhook), else the delivery's `event_id`; `occurred_at` = `form_response.submitted_at`
//!   (ISO 8601). Form id and title, response token, `event_id`, calculated score, other answers
//!   (`answer.<field ref>`) and other hidden fields (`hidden.<name>`) go to `attributes`.
//!
//! Docs: <https://www.typeform.com/developers/webhooks/example-payload/>,
//! <https://www.typeform.com/developers/webhooks/secure-your-webhooks/>,
//! <https://www.typeform.com/developers/responses/reference/retrieve-responses/>.

use serde::Deserialize;
use serde_json::Value;

use lintas_schema::v1::{Actor, Channel, Direction, Rating, RatingScale};

use crate::codec::{json_scalar, json_str, parse_json};
use crate::normalize::Draft;
use crate::normalize::handle::{email_handle, handle, phone_handle};
use crate::normalize::time::parse_datetime;
use crate::signature::{decode_base64, verify_hmac_sha256};
use crate::{
    Adapter, AdapterError, IgnoredKind, Parsed, Secrets, UnusableReason, VerifyPolicy,
    WebhookRequest,
};

/// The Typeform adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Typeform;

/// Source id.
pub const ID: &str = "typeform";
/// The webhook's secret (`secret` when creating the webhook), which signs every delivery.
pub const WEBHOOK_SECRET: &str = "webhook_secret";

const SIGNATURE_HEADER: &str = "Typeform-Signature";
/// Hidden fields and answers kept as attributes, each.
const MAX_EXTRA_ATTRIBUTES: usize = 20;
/// Hidden fields that name the respondent, in order of preference, with their namespace.
const IDENTITY_HIDDEN_FIELDS: [(&str, &str); 2] =
    [("customer_id", "customer_id"), ("user_id", "user_id")];

impl Adapter for Typeform {
    fn id(&self) -> &'static str {
        ID
    }

    fn secret_names(&self) -> &'static [&'static str] {
        &[WEBHOOK_SECRET]
    }

    fn content_types(&self) -> &'static [&'static str] {
        &["application/json"]
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &Secrets<'_>,
        _policy: &VerifyPolicy,
    ) -> Result<(), AdapterError> {
        let secret = secrets.require(WEBHOOK_SECRET)?;
        let header = request
            .header(SIGNATURE_HEADER)
            .ok_or(AdapterError::SignatureMissing {
                header: SIGNATURE_HEADER,
            })?;
        let presented = header
            .strip_prefix("sha256=")
            .and_then(decode_base64)
            .ok_or(AdapterError::SignatureInvalid {
                header: SIGNATURE_HEADER,
                reason: "expected `sha256=` followed by a base64 HMAC-SHA256",
            })?;
        if verify_hmac_sha256(secret.as_bytes(), &[request.body], &presented) {
            Ok(())
        } else {
            Err(AdapterError::SignatureInvalid {
                header: SIGNATURE_HEADER,
                reason: "does not match the body signed with the configured `webhook_secret`",
            })
        }
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        let delivery: Delivery = parse_json(request.body)?;
        let Some(event_type) = delivery.event_type.as_deref() else {
            return Err(AdapterError::malformed(
                "not a Typeform webhook: `event_type` is missing",
            ));
        };
        let response = delivery.form_response;
        let token = json_str(&response, &["token"]);
        let source_event_id = token.or(delivery.event_id.as_deref());
        let mut parsed = Parsed::default();
        if event_type != "form_response" {
            parsed.push_ignored(IgnoredKind::Unmapped, event_type, source_event_id);
            return Ok(parsed);
        }
        let answers = array(&response, "answers");
        let fields = array(&response["definition"], "fields");
        let Some((customer_id, customer_handles)) = respondent(&response, answers) else {
            parsed.push_unusable(UnusableReason::NoCustomerIdentifier, source_event_id);
            return Ok(parsed);
        };
        let rated = answers
            .iter()
            .find_map(|answer| rating(answer, fields).map(|rating| (answer, rating)));

        let mut text_parts: Vec<String> = Vec::new();
        if let Some((_, rating)) = &rated {
            text_parts.push(rating_text(rating));
        }
        text_parts.extend(answers.iter().filter_map(answer_text));

        let mut draft = Draft {
            source_event_id: source_event_id.unwrap_or_default().to_owned(),
            channel: Channel::Survey,
            direction: Direction::Inbound,
            actor: Actor::Customer,
            event_name: "survey.answered".to_owned(),
            occurred_at: json_str(&response, &["submitted_at"]).and_then(parse_datetime),
            customer_id,
            customer_handles,
            text: text_parts.join(" - "),
            rating: rated.as_ref().map(|(_, rating)| *rating),
            ..Draft::default()
        };
        draft.attribute("typeform_event_id", delivery.event_id.as_deref());
        draft.attribute("form_id", json_str(&response, &["form_id"]));
        draft.attribute("form_title", json_str(&response, &["definition", "title"]));
        draft.attribute("response_token", token);
        draft.attribute("landed_at", json_str(&response, &["landed_at"]));
        draft.attribute(
            "calculated_score",
            json_scalar(&response, &["calculated", "score"]),
        );
        draft.attribute("ending_ref", json_str(&response, &["ending", "ref"]));
        if let Some((answer, _)) = rated {
            draft.attribute("rating_field_ref", field_key(answer));
        }
        add_extra_attributes(&mut draft, &response, answers);
        parsed.events.push(draft.into_event(ID, request));
        Ok(parsed)
    }
}

#[derive(Debug, Deserialize)]
struct Delivery {
    event_id: Option<String>,
    event_type: Option<String>,
    #[serde(default)]
    form_response: Value,
}

fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The respondent's handles from hidden fields and e-mail / phone answers, the first one as
/// `customer_id`.
fn respondent(response: &Value, answers: &[Value]) -> Option<(String, Vec<String>)> {
    let hidden = &response["hidden"];
    let mut handles: Vec<String> = IDENTITY_HIDDEN_FIELDS
        .iter()
        .filter_map(|(field, namespace)| {
            json_scalar(hidden, &[field]).and_then(|value| handle(namespace, &value))
        })
        .collect();
    handles.extend(json_str(hidden, &["email"]).and_then(email_handle));
    handles.extend(json_scalar(hidden, &["phone"]).and_then(|phone| phone_handle(&phone)));
    for answer in answers {
        match json_str(answer, &["type"]) {
            Some("email") => handles.extend(json_str(answer, &["email"]).and_then(email_handle)),
            Some("phone_number") => {
                handles.extend(json_str(answer, &["phone_number"]).and_then(phone_handle));
            }
            _ => {}
        }
    }
    if handles.is_empty() {
        return None;
    }
    let customer_id = handles.remove(0);
    Some((customer_id, handles))
}

/// The rating an answer gives, when its field is a scale and the value lies on it.
fn rating(answer: &Value, fields: &[Value]) -> Option<Rating> {
    let value = answer.get("number")?.as_f64()?;
    let field_id = json_str(answer, &["field", "id"]);
    let definition = fields
        .iter()
        .find(|field| field_id.is_some() && json_str(field, &["id"]) == field_id);
    let property =
        |name: &str| definition.and_then(|field| field.pointer(&format!("/properties/{name}")));
    let steps = property("steps").and_then(Value::as_f64);
    let (scale, min, max) = match json_str(answer, &["field", "type"])? {
        "nps" => (RatingScale::Nps, 0.0, 10.0),
        "opinion_scale" => {
            let min = if property("start_at_one").and_then(Value::as_bool) == Some(true) {
                1.0
            } else {
                0.0
            };
            let max = min + steps.unwrap_or(11.0) - 1.0;
            if (min, max) == (0.0, 10.0) {
                (RatingScale::Nps, min, max)
            } else {
                (RatingScale::Csat, min, max)
            }
        }
        "rating" => (RatingScale::Stars, 1.0, steps.unwrap_or(5.0)),
        _ => return None,
    };
    let on_scale = min < max && (min..=max).contains(&value);
    on_scale.then_some(Rating {
        scale: scale.into(),
        value,
        min,
        max,
    })
}

/// `NPS 3/10` or `Rating 4/5`.
fn rating_text(rating: &Rating) -> String {
    let label = if rating.scale == i32::from(RatingScale::Nps) {
        "NPS"
    } else {
        "Rating"
    };
    format!("{label} {}/{}", rating.value, rating.max)
}

/// What the respondent wrote or chose, for the text.
fn answer_text(answer: &Value) -> Option<String> {
    match json_str(answer, &["type"])? {
        "text" => json_str(answer, &["text"]).map(str::to_owned),
        "choice" => json_str(answer, &["choice", "label"])
            .or_else(|| json_str(answer, &["choice", "other"]))
            .map(str::to_owned),
        "choices" => {
            let mut chosen: Vec<&str> = array(&answer["choices"], "labels")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            chosen.extend(json_str(answer, &["choices", "other"]));
            (!chosen.is_empty()).then(|| chosen.join(", "))
        }
        _ => None,
    }
}

/// The field's `ref` (stable across form edits), else its id.
fn field_key(answer: &Value) -> Option<&str> {
    json_str(answer, &["field", "ref"]).or_else(|| json_str(answer, &["field", "id"]))
}

/// Other hidden fields, and scalar answers that are neither text nor contact details.
fn add_extra_attributes(draft: &mut Draft, response: &Value, answers: &[Value]) {
    if let Some(hidden) = response.get("hidden").and_then(Value::as_object) {
        let extra = hidden.keys().filter(|name| {
            !matches!(name.as_str(), "email" | "phone")
                && !IDENTITY_HIDDEN_FIELDS
                    .iter()
                    .any(|(field, _)| field == name)
        });
        for name in extra.take(MAX_EXTRA_ATTRIBUTES) {
            draft.attribute(
                &format!("hidden.{name}"),
                json_scalar(&response["hidden"], &[name]),
            );
        }
    }
    let scalars = answers.iter().filter_map(|answer| {
        let value = match json_str(answer, &["type"])? {
            "number" => json_scalar(answer, &["number"]),
            "boolean" => json_scalar(answer, &["boolean"]),
            "date" => json_scalar(answer, &["date"]),
            "url" => json_scalar(answer, &["url"]),
            "file_url" => json_scalar(answer, &["file_url"]),
            "choice" => json_scalar(answer, &["choice", "ref"]),
            _ => None,
        }?;
        Some((field_key(answer)?, value))
    });
    for (key, value) in scalars.take(MAX_EXTRA_ATTRIBUTES) {
        draft.attribute(&format!("answer.{key}"), Some(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_response(response: Value) -> Result<Parsed, AdapterError> {
        let body = serde_json::json!({
            "event_id": "01EVENT", "event_type": "form_response", "form_response": response
        });
        crate::parse_bytes(&Typeform, "application/json", body.to_string().as_bytes())
    }

    #[test]
    fn an_opinion_scale_from_zero_to_ten_is_an_nps_rating() {
        let parsed = parse_response(serde_json::json!({
            "token": "tok1", "submitted_at": "2025-03-14T16:11:09Z",
            "hidden": {"user_id": "cust_0001", "utm_source": "email"},
            "definition": {"fields": [{"id": "f1", "type": "opinion_scale", "properties": {"steps": 11}}]},
            "answers": [
                {"type": "number", "number": 9, "field": {"id": "f1", "type": "opinion_scale", "ref": "score"}},
                {"type": "choice", "choice": {"label": "Fast delivery", "ref": "fast"}, "field": {"id": "f2", "type": "multiple_choice", "ref": "why"}},
                {"type": "email", "email": "A@Example.com", "field": {"id": "f3", "type": "email"}}
            ]
        }))
        .expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.customer_id, "user_id:cust_0001");
        assert_eq!(
            event.customer_handles,
            vec!["email:a@example.com".to_owned()]
        );
        assert_eq!(event.text, "NPS 9/10 - Fast delivery");
        let rating = event.rating.expect("rating");
        assert_eq!(rating.scale(), RatingScale::Nps);
        assert_eq!((rating.value, rating.min, rating.max), (9.0, 0.0, 10.0));
        assert_eq!(
            event
                .attributes
                .get("hidden.utm_source")
                .map(String::as_str),
            Some("email")
        );
        assert_eq!(
            event.attributes.get("answer.why").map(String::as_str),
            Some("fast")
        );
        assert_eq!(event.source_event_id, "tok1");
    }

    #[test]
    fn stars_and_short_scales_keep_their_own_range() {
        let fields = serde_json::json!([
            {"id": "s", "type": "rating", "properties": {"steps": 5}},
            {"id": "o", "type": "opinion_scale", "properties": {"steps": 5, "start_at_one": true}}
        ]);
        let fields = fields.as_array().expect("array");
        let stars = serde_json::json!({"number": 4, "field": {"id": "s", "type": "rating"}});
        let rated = rating(&stars, fields).expect("stars");
        assert_eq!(
            (rated.scale(), rated.min, rated.max),
            (RatingScale::Stars, 1.0, 5.0)
        );
        assert_eq!(rating_text(&rated), "Rating 4/5");
        let csat = serde_json::json!({"number": 5, "field": {"id": "o", "type": "opinion_scale"}});
        let rated = rating(&csat, fields).expect("csat");
        assert_eq!(
            (rated.scale(), rated.min, rated.max),
            (RatingScale::Csat, 1.0, 5.0)
        );
        let off_scale = serde_json::json!({"number": 11, "field": {"id": "x", "type": "nps"}});
        assert_eq!(rating(&off_scale, fields), None);
    }

    #[test]
    fn an_anonymous_response_is_unusable() {
        let parsed = parse_response(serde_json::json!({"token": "tok2",
            "answers": [{"type": "number", "number": 3, "field": {"id": "n", "type": "nps"}}]}))
        .expect("parses");
        assert_eq!(
            parsed.unusable[0].reason,
            UnusableReason::NoCustomerIdentifier
        );
        assert_eq!(parsed.unusable[0].source_event_id.as_deref(), Some("tok2"));
    }

    #[test]
    fn partial_responses_are_unmapped_and_a_missing_type_is_malformed() {
        let body = br#"{"event_id":"e","event_type":"form_response_partial","form_response":{"token":"t"}}"#;
        let parsed = crate::parse_bytes(&Typeform, "application/json", body).expect("parses");
        assert_eq!(parsed.ignored[0].kind, IgnoredKind::Unmapped);
        assert_eq!(parsed.ignored[0].source_event_id.as_deref(), Some("t"));
        let refused = crate::parse_bytes(&Typeform, "application/json", br#"{"event_id":"e"}"#)
            .expect_err("no type");
        assert_eq!(refused.code(), "malformed_body");
    }
}
