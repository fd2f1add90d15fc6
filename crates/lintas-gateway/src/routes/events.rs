//! `POST /v1/events`: a batch of interactions from a channel team, as JSON or protobuf.
//!
//! Order of the checks: write key (401), tenant rate limit (429), Kafka readiness (503), content
//! type (415), body size while reading (413), decoding (400), batch size (413), then each event is
//! mapped and validated on its own: invalid events are reported back by index and the valid ones
//! are produced. The answer is 202 only after Kafka acknowledged every accepted event; a batch in
//! which no event is valid is 400.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use http::{HeaderMap, StatusCode, header};
use lintas_schema::identity::event_id_for;
use lintas_schema::v1::{InteractionEvent, InteractionEventBatch};
use prost::Message as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{RequestDeadline, publish_within};
use crate::error::{GatewayError, Rejection};
use crate::metrics::{self, API_SOURCE};
use crate::publisher::Publisher;
use crate::routes::api_json;
use crate::state::AppState;

/// Media types `POST /v1/events` reads.
const EXPECTED_CONTENT_TYPES: &str = "application/json or application/x-protobuf";

/// One accepted event in the 202 answer.
#[derive(Debug, Serialize)]
struct Accepted {
    index: usize,
    event_id: String,
}

/// The 202 answer.
#[derive(Debug, Serialize)]
struct BatchResponse {
    accepted: Vec<Accepted>,
    rejected: Vec<Rejection>,
}

/// The JSON body: `{"events": [...]}` (`batch` is accepted as in Segment's batch API).
#[derive(Debug, Deserialize)]
struct JsonBatch {
    #[serde(alias = "batch")]
    events: Vec<Value>,
}

enum Format {
    Json,
    Protobuf,
}

/// The handler of `POST /v1/events`.
pub(crate) async fn post_events<P: Publisher>(
    State(state): State<AppState<P>>,
    deadline: RequestDeadline,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, GatewayError> {
    let checked = admit(&state, &headers);
    let (tenant, format) = match checked {
        Ok(admitted) => admitted,
        Err(error) => {
            crate::body::discard(body, &headers).await;
            return Err(error);
        }
    };
    let bytes =
        crate::body::read_limited(body, &headers, state.settings().body_limit_bytes).await?;
    let received_at = Utc::now();
    let limit = state.settings().max_batch_events;
    let (events, rejected) = match format {
        Format::Json => decode_json(&bytes, &tenant, received_at, limit)?,
        Format::Protobuf => decode_protobuf(&bytes, &tenant, received_at, limit)?,
    };
    metrics::batch_events(API_SOURCE, events.len() + rejected.len());
    for rejection in &rejected {
        metrics::event_rejected(API_SOURCE, rejection.code);
    }
    if events.is_empty() {
        return Err(GatewayError::NoValidEvents { rejected });
    }
    let (indexes, events): (Vec<usize>, Vec<InteractionEvent>) = events.into_iter().unzip();
    publish_within(&state, deadline, state.publisher().publish(&events)).await?;
    metrics::events_accepted(API_SOURCE, events.len());
    tracing::debug!(
        tenant = %tenant,
        accepted = events.len(),
        rejected = rejected.len(),
        "event batch accepted"
    );
    let accepted = indexes
        .into_iter()
        .zip(events)
        .map(|(index, event)| Accepted {
            index,
            event_id: event.event_id,
        })
        .collect();
    Ok((
        StatusCode::ACCEPTED,
        Json(BatchResponse { accepted, rejected }),
    )
        .into_response())
}

/// The checks made on the headers alone: the tenant and the body's format.
fn admit<P: Publisher>(
    state: &AppState<P>,
    headers: &HeaderMap,
) -> Result<(String, Format), GatewayError> {
    let tenant = authenticate(state, headers)?.to_owned();
    state.admit(&tenant)?;
    state.require_kafka()?;
    let format = format_of(headers)?;
    Ok((tenant, format))
}

/// The tenant owning the bearer key.
fn authenticate<'a, P: Publisher>(
    state: &'a AppState<P>,
    headers: &HeaderMap,
) -> Result<&'a str, GatewayError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or(GatewayError::MissingWriteKey)?;
    let (scheme, key) = value
        .trim()
        .split_once(' ')
        .ok_or(GatewayError::MissingWriteKey)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(GatewayError::MissingWriteKey);
    }
    state
        .config()
        .tenant_for_write_key(key.trim())
        .ok_or(GatewayError::InvalidWriteKey)
}

fn format_of(headers: &HeaderMap) -> Result<Format, GatewayError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let media_type = content_type.map(lintas_adapters::codec::media_type);
    match media_type.as_deref() {
        Some("application/json") => Ok(Format::Json),
        Some("application/x-protobuf" | "application/protobuf") => Ok(Format::Protobuf),
        _ => Err(GatewayError::UnsupportedMediaType {
            got: content_type.map(|value| GatewayError::clip(value, 100)),
            expected: EXPECTED_CONTENT_TYPES,
        }),
    }
}

type Decoded = (Vec<(usize, InteractionEvent)>, Vec<Rejection>);

fn check_count(count: usize, limit: usize) -> Result<(), GatewayError> {
    if count == 0 {
        return Err(GatewayError::EmptyBatch);
    }
    if count > limit {
        return Err(GatewayError::BatchTooLarge { count, limit });
    }
    Ok(())
}

fn decode_json(
    bytes: &[u8],
    tenant: &str,
    received_at: chrono::DateTime<Utc>,
    limit: usize,
) -> Result<Decoded, GatewayError> {
    let batch: JsonBatch = serde_json::from_slice(bytes).map_err(|error| {
        let reason = lintas_adapters::AdapterError::malformed_json(&error).to_string();
        GatewayError::MalformedBody {
            reason: format!(
                "expected {{\"events\": [...]}}: {}",
                reason.trim_start_matches("malformed request: ")
            ),
        }
    })?;
    check_count(batch.events.len(), limit)?;
    let mut events = Vec::with_capacity(batch.events.len());
    let mut rejected = Vec::new();
    for (index, value) in batch.events.iter().enumerate() {
        match api_json::map_event(value, index, tenant, received_at)
            .and_then(|event| validated(event, index))
        {
            Ok(event) => events.push((index, event)),
            Err(rejection) => rejected.push(rejection),
        }
    }
    Ok((events, rejected))
}

fn decode_protobuf(
    bytes: &[u8],
    tenant: &str,
    received_at: chrono::DateTime<Utc>,
    limit: usize,
) -> Result<Decoded, GatewayError> {
    let batch =
        InteractionEventBatch::decode(bytes).map_err(|error| GatewayError::MalformedBody {
            reason: format!("expected a lintas.v1.InteractionEventBatch: {error}"),
        })?;
    check_count(batch.events.len(), limit)?;
    let received = lintas_schema::time::to_timestamp(received_at);
    let mut events = Vec::with_capacity(batch.events.len());
    let mut rejected = Vec::new();
    for (index, mut event) in batch.events.into_iter().enumerate() {
        // The sender cannot choose the tenant, the source or the receive time.
        event.tenant_id = tenant.to_owned();
        event.source = API_SOURCE.to_owned();
        event.received_at = Some(received);
        if event.event_id.is_empty() {
            let (event_id, _) = event_id_for(tenant, API_SOURCE, Some(&event.source_event_id));
            event.event_id = event_id.to_string();
        }
        match validated(event, index) {
            Ok(event) => events.push((index, event)),
            Err(rejection) => rejected.push(rejection),
        }
    }
    Ok((events, rejected))
}

fn validated(event: InteractionEvent, index: usize) -> Result<InteractionEvent, Rejection> {
    match lintas_schema::validate_event(&event) {
        Ok(()) => storable(event, index),
        Err(error) => Err(Rejection {
            index,
            code: error.code(),
            message: error.to_string(),
        }),
    }
}

/// Refuses an `occurred_at` that ClickHouse would wrap into a wrong date (a protobuf sender sets
/// it directly; JSON times are checked while mapping).
fn storable(event: InteractionEvent, index: usize) -> Result<InteractionEvent, Rejection> {
    let at = event
        .occurred_at
        .as_ref()
        .and_then(lintas_schema::time::from_timestamp);
    if at.is_some_and(lintas_adapters::normalize::time::is_storable) {
        return Ok(event);
    }
    Err(Rejection {
        index,
        code: "invalid_field",
        message: format!(
            "occurred_at: must be {}",
            lintas_adapters::normalize::time::STORABLE_RANGE
        ),
    })
}
