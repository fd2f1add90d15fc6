//! The public router: `/v1/events`, `/v1/webhooks/{tenant}/{source}`, the admin endpoints, and
//! the middleware every request passes (deadline, metrics, tracing).

mod api_json;
mod events;
mod webhooks;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::request::Parts;
use http::{HeaderMap, Method, Uri};
use tokio::time::Instant;
use tower_http::trace::TraceLayer;

use crate::error::GatewayError;
use crate::metrics;
use crate::publisher::{PublishError, Publisher};
use crate::state::AppState;

/// Route template of the event API, also its metric label.
pub const EVENTS_ROUTE: &str = "/v1/events";
/// Route template of the webhooks, also their metric label.
pub const WEBHOOKS_ROUTE: &str = "/v1/webhooks/{tenant}/{source}";
/// Metric label of requests that matched no route.
const UNMATCHED_ROUTE: &str = "unmatched";
/// Deadline assumed when a handler runs without [`track`] (never in [`router`]).
const FALLBACK_DEADLINE: Duration = Duration::from_secs(10);

/// When the request must be answered: its arrival plus `gateway.request_timeout`. Handlers wait
/// for Kafka until then, so the whole request, upload included, fits in the timeout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestDeadline(Instant);

impl<S: Send + Sync> FromRequestParts<S> for RequestDeadline {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Self>()
            .copied()
            .unwrap_or_else(|| Self(Instant::now() + FALLBACK_DEADLINE)))
    }
}

/// Builds the public router: the gateway's routes with `state`, plus `admin` (`/healthz`,
/// `/readyz`, `/metrics`) on the same port.
pub fn router<P: Publisher>(state: AppState<P>, admin: Router) -> Router {
    let request_timeout = state.settings().request_timeout;
    Router::new()
        .route(EVENTS_ROUTE, post(events::post_events::<P>))
        .route(
            WEBHOOKS_ROUTE,
            post(webhooks::receive::<P>).get(webhooks::handshake::<P>),
        )
        .with_state(state)
        .merge(admin)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Handlers read bodies themselves under the endpoint's own limit (see `body`).
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(request_timeout, track))
        .layer(TraceLayer::new_for_http())
}

/// Gives the request its deadline, answers 503 when it is exceeded, and counts the outcome.
async fn track(
    State(request_timeout): State<Duration>,
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let deadline = started + request_timeout;
    request.extensions_mut().insert(RequestDeadline(deadline));
    let route = matched.map_or_else(
        || UNMATCHED_ROUTE.to_owned(),
        |path| path.as_str().to_owned(),
    );
    // A handler waiting for Kafka stops at the same deadline with a more precise error; this is
    // the net for everything else (a client uploading too slowly, say).
    let response = match tokio::time::timeout_at(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_elapsed) => GatewayError::RequestTimeout {
            timeout: request_timeout,
        }
        .into_response(),
    };
    metrics::request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// Waits for `publish` until the request's deadline and maps the outcome to the HTTP error.
pub(crate) async fn publish_within<P: Publisher>(
    state: &AppState<P>,
    deadline: RequestDeadline,
    publish: impl Future<Output = Result<(), PublishError>>,
) -> Result<(), GatewayError> {
    match tokio::time::timeout_at(deadline.0, publish).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(PublishError::QueueFull)) => Err(GatewayError::QueueFull),
        Ok(Err(PublishError::Delivery(reason))) => Err(GatewayError::KafkaUnavailable { reason }),
        Err(_elapsed) => Err(GatewayError::AckTimeout {
            timeout: state.settings().request_timeout,
        }),
    }
}

async fn not_found(uri: Uri, headers: HeaderMap, body: Body) -> GatewayError {
    crate::body::discard(body, &headers).await;
    GatewayError::NotFound {
        path: GatewayError::clip(uri.path(), 200),
    }
}

async fn method_not_allowed(method: Method, headers: HeaderMap, body: Body) -> GatewayError {
    crate::body::discard(body, &headers).await;
    GatewayError::MethodNotAllowed {
        method: method.to_string(),
    }
}
