//! Typed values of an API event: time, money, rating, and the properties kept as attributes.

use lintas_adapters::normalize::Draft;
use lintas_adapters::normalize::money;
use lintas_adapters::normalize::time::{
    EpochUnit, Occurred, STORABLE_RANGE, from_epoch_json, is_storable, parse_datetime,
};
use lintas_schema::v1::{Money, Rating, RatingScale};
use lintas_schema::validate::{MAX_ATTRIBUTE_KEY_BYTES, MAX_ATTRIBUTE_VALUE_BYTES, MAX_ATTRIBUTES};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::{RESERVED_PROPERTIES, Refusal, invalid, missing, named_string};

pub(super) fn occurred_at(timestamp: Option<&Value>) -> Result<Option<Occurred>, Refusal> {
    let expectation = "must be an RFC 3339 time such as 2025-03-14T08:13:55Z, or epoch seconds or \
                       milliseconds";
    let parsed = match timestamp {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => parse_datetime(text)
            .map(Some)
            .ok_or_else(|| invalid("timestamp", expectation)),
        Some(number @ Value::Number(value)) => {
            // The API documents "by magnitude", so a millisecond value is not a correction.
            let magnitude = value.as_i64().or_else(|| value.as_f64().map(|f| f as i64));
            let unit = EpochUnit::by_magnitude(magnitude.unwrap_or_default());
            from_epoch_json(number, unit)
                .map(Some)
                .ok_or_else(|| invalid("timestamp", expectation))
        }
        Some(_) => Err(invalid("timestamp", expectation)),
    }?;
    // A client can fix its clock, so an unstorable time is refused rather than replaced.
    match parsed {
        Some(occurred) if !is_storable(occurred.at) => {
            Err(invalid("timestamp", &format!("must be {STORABLE_RANGE}")))
        }
        other => Ok(other),
    }
}

pub(super) fn money_of(properties: &Map<String, Value>) -> Result<Option<Money>, Refusal> {
    let currency = named_string(properties, "currency", "properties.currency")?;
    if let Some(minor) = properties
        .get("amount_minor")
        .filter(|value| !value.is_null())
    {
        let amount = minor
            .as_i64()
            .ok_or_else(|| invalid("properties.amount_minor", "must be an integer"))?;
        let currency = currency.ok_or_else(|| missing("properties.currency", " with an amount"))?;
        let code = money::currency_code(currency).ok_or_else(|| not_a_currency(currency))?;
        return Ok(Some(Money {
            amount_minor: amount,
            currency: code,
        }));
    }
    let amount = ["amount", "total", "revenue"].iter().find_map(|key| {
        properties
            .get(*key)
            .filter(|value| !value.is_null())
            .map(|v| (*key, v))
    });
    let Some((key, amount)) = amount else {
        return Ok(None);
    };
    let field = format!("properties.{key}");
    let text = match amount {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        _ => return Err(invalid(&field, "must be a decimal number")),
    };
    let currency = currency.ok_or_else(|| missing("properties.currency", " with an amount"))?;
    // Name the currency itself when it is the part at fault, not the amount beside it.
    money::currency_code(currency).ok_or_else(|| not_a_currency(currency))?;
    money::from_decimal_str(&text, currency)
        .map(Some)
        .ok_or_else(|| {
            invalid(
                &field,
                "must be a decimal number in major units (e.g. 89.00) with an ISO 4217 currency",
            )
        })
}

/// `properties.currency` is not an ISO 4217 code: the message names the value (clipped, it is
/// the client's own text) so a typo is found without reading the request again.
fn not_a_currency(currency: &str) -> Refusal {
    let shown = lintas_adapters::normalize::text::truncate_at_char_boundary(currency, 16);
    invalid(
        "properties.currency",
        &format!("`{shown}` is not an ISO 4217 currency code (such as USD, EUR or IDR)"),
    )
}

pub(super) fn rating_of(properties: &Map<String, Value>) -> Result<Option<Rating>, Refusal> {
    let Some(value) = properties.get("rating").filter(|value| !value.is_null()) else {
        return Ok(None);
    };
    let value = value
        .as_f64()
        .ok_or_else(|| invalid("properties.rating", "must be a number"))?;
    let scale_name = named_string(properties, "rating_scale", "properties.rating_scale")?
        .ok_or_else(|| {
            missing(
                "properties.rating_scale",
                " with a rating (nps, csat, stars, ces or thumbs)",
            )
        })?;
    let (scale, min, max) = match scale_name.to_ascii_lowercase().as_str() {
        "nps" => (RatingScale::Nps, 0.0, 10.0),
        "csat" => (RatingScale::Csat, 1.0, 5.0),
        "stars" => (RatingScale::Stars, 1.0, 5.0),
        "ces" => (RatingScale::Ces, 1.0, 7.0),
        "thumbs" => (RatingScale::Thumbs, 0.0, 1.0),
        _ => {
            return Err(invalid(
                "properties.rating_scale",
                "must be nps, csat, stars, ces or thumbs",
            ));
        }
    };
    let bound = |key: &str, default: f64| match properties.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(bound) => bound
            .as_f64()
            .ok_or_else(|| invalid(&format!("properties.{key}"), "must be a number")),
    };
    Ok(Some(Rating {
        scale: scale.into(),
        value,
        min: bound("rating_min", min)?,
        max: bound("rating_max", max)?,
    }))
}

/// Every non-reserved property as an attribute; refused rather than silently cut when over the
/// contract's bounds, so the client learns what was not stored.
pub(super) fn fill_attributes(
    properties: &Map<String, Value>,
    draft: &mut Draft,
) -> Result<(), Refusal> {
    let mut attributes = BTreeMap::new();
    for (key, value) in properties {
        if RESERVED_PROPERTIES.contains(&key.as_str()) {
            continue;
        }
        let text = match value {
            Value::Null => continue,
            Value::String(text) => text.clone(),
            Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => {
                value.to_string()
            }
        };
        if key.is_empty() || key.len() > MAX_ATTRIBUTE_KEY_BYTES {
            return Err(invalid(
                "properties",
                &format!("keys must be 1 to {MAX_ATTRIBUTE_KEY_BYTES} bytes"),
            ));
        }
        if text.len() > MAX_ATTRIBUTE_VALUE_BYTES {
            return Err(invalid(
                &format!("properties.{key}"),
                &format!(
                    "must be at most {MAX_ATTRIBUTE_VALUE_BYTES} bytes (as JSON for objects and arrays)"
                ),
            ));
        }
        attributes.insert(key.clone(), text);
    }
    attributes.append(&mut draft.attributes);
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(invalid(
            "properties",
            &format!("at most {MAX_ATTRIBUTES} properties besides the reserved ones"),
        ));
    }
    draft.attributes = attributes;
    Ok(())
}
