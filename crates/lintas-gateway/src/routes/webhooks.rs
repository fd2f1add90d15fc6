//! `POST /v1/webhooks/{tenant}/{source}` (deliveries) and `GET` (verification handshakes).
//!
//! Order: adapter (404 `unknown_source`), tenant (404 `unknown_tenant`), rate limit (429), Kafka
//! readiness for deliveries (503), body under the adapter's own limit while reading (413), then
//! [`lintas_adapters::receive`] (415, 401, 400). An accepted delivery is answered with the
//! adapter's success response only after Kafka acknowledged its events and, when some items
//! could not become events, the raw body in the dead-letter topic with the reason in headers.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use http::{HeaderMap, HeaderValue, Method, Uri, header};
use lintas_adapters::{Adapter, Parsed, SecretStore, Secrets, WebhookRequest, WebhookResponse};
use lintas_config::Sensitive;
use lintas_kafka::dlq::DlqReason;

use super::{RequestDeadline, publish_within};
use crate::error::GatewayError;
use crate::metrics;
use crate::publisher::Publisher;
use crate::state::AppState;

/// DLQ stage header value of records written here.
const DLQ_STAGE: &str = "gateway";

/// One tenant's secrets for one source, straight from the configuration.
struct ConfiguredSecrets<'a>(Option<&'a BTreeMap<String, Sensitive<String>>>);

impl SecretStore for ConfiguredSecrets<'_> {
    fn secret(&self, name: &str) -> Option<&str> {
        self.0?.get(name).map(|secret| secret.expose().as_str())
    }
}

/// What both methods resolve before the adapter runs.
struct Target<'a> {
    adapter: &'static dyn Adapter,
    tenant: String,
    secrets: ConfiguredSecrets<'a>,
}

fn resolve<'a, P: Publisher>(
    state: &'a AppState<P>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Target<'a>, GatewayError> {
    let Path((tenant, source)) = path.map_err(|rejection| GatewayError::MalformedBody {
        reason: format!("invalid path: {rejection}"),
    })?;
    let adapter = lintas_adapters::adapter(&source).ok_or_else(|| {
        let known: Vec<&str> = lintas_adapters::registry().iter().map(|a| a.id()).collect();
        GatewayError::UnknownSource {
            source_id: GatewayError::clip(&source, 64),
            known: known.join(", "),
        }
    })?;
    let tenant_config =
        state
            .config()
            .tenants
            .get(&tenant)
            .ok_or_else(|| GatewayError::UnknownTenant {
                tenant: GatewayError::clip(&tenant, 64),
            })?;
    state.admit(&tenant)?;
    Ok(Target {
        adapter,
        secrets: ConfiguredSecrets(tenant_config.webhook_secrets(adapter.id())),
        tenant,
    })
}

/// The parts of the HTTP request an adapter reads.
struct Incoming<'r> {
    method: &'r Method,
    uri: &'r Uri,
    headers: &'r HeaderMap,
    body: &'r [u8],
}

fn webhook_request<'r>(
    target: &'r Target<'_>,
    incoming: &Incoming<'r>,
    public_url: &'r str,
) -> WebhookRequest<'r> {
    WebhookRequest {
        tenant: &target.tenant,
        method: incoming.method,
        public_url,
        headers: incoming.headers,
        query: incoming.uri.query().unwrap_or_default(),
        body: incoming.body,
        received_at: Utc::now(),
    }
}

fn public_url<P: Publisher>(state: &AppState<P>, uri: &Uri, headers: &HeaderMap) -> String {
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| uri.path(), |value| value.as_str());
    state.settings().request_url(headers, path_and_query)
}

/// `GET`: the platform's verification handshake.
pub(crate) async fn handshake<P: Publisher>(
    State(state): State<AppState<P>>,
    path: Result<Path<(String, String)>, PathRejection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, GatewayError> {
    let target = match resolve(&state, path) {
        Ok(target) => target,
        Err(error) => {
            crate::body::discard(body, &headers).await;
            return Err(error);
        }
    };
    let bytes = crate::body::read_limited(body, &headers, target.adapter.max_body_bytes()).await?;
    let url = public_url(&state, &uri, &headers);
    let incoming = Incoming {
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &bytes,
    };
    let request = webhook_request(&target, &incoming, &url);
    let secrets = Secrets::new(&target.secrets);
    let response = lintas_adapters::handshake(target.adapter, &request, &secrets)
        .map_err(|error| refused(&target, error))?;
    Ok(into_response(response))
}

/// `POST`: a delivery.
pub(crate) async fn receive<P: Publisher>(
    State(state): State<AppState<P>>,
    deadline: RequestDeadline,
    path: Result<Path<(String, String)>, PathRejection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, GatewayError> {
    let target = match resolve(&state, path).and_then(|target| {
        state.require_kafka()?;
        Ok(target)
    }) {
        Ok(target) => target,
        Err(error) => {
            crate::body::discard(body, &headers).await;
            return Err(error);
        }
    };
    let bytes = crate::body::read_limited(body, &headers, target.adapter.max_body_bytes()).await?;
    let url = public_url(&state, &uri, &headers);
    let incoming = Incoming {
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &bytes,
    };
    let request = webhook_request(&target, &incoming, &url);
    let secrets = Secrets::new(&target.secrets);
    let parsed = lintas_adapters::receive(
        target.adapter,
        &request,
        &secrets,
        &state.settings().verify_policy,
    )
    .map_err(|error| refused(&target, error))?;

    let source = target.adapter.id();
    let dead_letter = dlq_reason(&parsed, &target.tenant, source);
    let publisher = state.publisher();
    let write = async {
        if !parsed.events.is_empty() {
            publisher.publish(&parsed.events).await?;
        }
        if let Some(reason) = &dead_letter {
            publisher.dead_letter(&bytes, reason).await?;
        }
        Ok(())
    };
    publish_within(&state, deadline, write).await?;

    metrics::events_accepted(source, parsed.events.len());
    if let Some(first) = parsed.unusable.first() {
        metrics::dlq_record(source, first.reason.code());
    }
    for ignored in &parsed.ignored {
        metrics::ignored(source, ignored.kind.code());
    }
    tracing::debug!(
        tenant = %target.tenant,
        source,
        events = parsed.events.len(),
        unusable = parsed.unusable.len(),
        ignored = parsed.ignored.len(),
        "webhook accepted"
    );
    Ok(into_response(target.adapter.success_response()))
}

/// Logs an authentication refusal (the audit line the corpus policy asks for) and wraps the error.
fn refused(target: &Target<'_>, error: lintas_adapters::AdapterError) -> GatewayError {
    let status = error.status().as_u16();
    if status == 401 || status == 403 {
        tracing::info!(
            tenant = %target.tenant,
            source = target.adapter.id(),
            code = error.code(),
            "webhook refused"
        );
    }
    GatewayError::Adapter(error)
}

/// One DLQ record per request for its unusable items: the raw body once, the first item's reason
/// as the error kind and every item's reason in the message.
fn dlq_reason(parsed: &Parsed, tenant: &str, source: &str) -> Option<DlqReason> {
    let first = parsed.unusable.first()?;
    let reasons: Vec<String> = parsed
        .unusable
        .iter()
        .map(|item| match &item.source_event_id {
            Some(id) => format!("{} (item {id})", item.reason),
            None => item.reason.to_string(),
        })
        .collect();
    Some(DlqReason {
        stage: DLQ_STAGE.to_owned(),
        error_kind: first.reason.code().to_owned(),
        message: reasons.join("; "),
        origin: None,
        tenant: Some(tenant.to_owned()),
        source: Some(source.to_owned()),
    })
}

fn into_response(response: WebhookResponse) -> Response {
    let mut http_response = (response.status, response.body).into_response();
    match response.content_type {
        Some(content_type) => {
            http_response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        None => {
            http_response.headers_mut().remove(header::CONTENT_TYPE);
        }
    }
    http_response
}
