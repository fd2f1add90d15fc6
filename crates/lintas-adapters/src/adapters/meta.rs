//! What all Meta Graph webhooks share (WhatsApp Cloud API, Messenger, Instagram): the
//! `X-Hub-Signature-256` body signature and the `hub.challenge` verification handshake.
//!
//! Secrets: `app_secret` (the Meta App Secret, signs every delivery) and `verify_token` (chosen
//! when subscribing, checked on the handshake).
//! Docs: <https://developers.facebook.com/docs/graph-api/webhooks/getting-started>.

use crate::codec::{decode_form, form_value};
use crate::signature::{constant_time_eq, decode_hex, verify_hmac_sha256};
use crate::{AdapterError, Secrets, WebhookRequest, WebhookResponse};

/// Secret signing every delivery.
pub const APP_SECRET: &str = "app_secret";
/// Secret echoed by the subscription handshake.
pub const VERIFY_TOKEN: &str = "verify_token";
/// The secrets of every Meta adapter, signing secret first.
pub const SECRET_NAMES: &[&str] = &[APP_SECRET, VERIFY_TOKEN];

const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";
/// Meta's challenges are short numbers; anything long or odd is not a handshake we echo.
const MAX_CHALLENGE_BYTES: usize = 256;

/// Checks `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>`. The raw bytes
/// are what Meta signed (`\uXXXX` escapes and `\/` included), so the body is never re-serialized.
pub fn verify_hub_signature(
    request: &WebhookRequest<'_>,
    secrets: &Secrets<'_>,
) -> Result<(), AdapterError> {
    let app_secret = secrets.require(APP_SECRET)?;
    let header = request
        .header(SIGNATURE_HEADER)
        .ok_or(AdapterError::SignatureMissing {
            header: SIGNATURE_HEADER,
        })?;
    let presented = header.strip_prefix("sha256=").and_then(decode_hex).ok_or(
        AdapterError::SignatureInvalid {
            header: SIGNATURE_HEADER,
            reason: "expected `sha256=` followed by a hex HMAC-SHA256",
        },
    )?;
    if verify_hmac_sha256(app_secret.as_bytes(), &[request.body], &presented) {
        Ok(())
    } else {
        Err(AdapterError::SignatureInvalid {
            header: SIGNATURE_HEADER,
            reason: "does not match the body signed with the configured `app_secret`",
        })
    }
}

/// Answers `GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...` with the challenge
/// as plain text when the token matches (403 when it does not). A `GET` without `hub.mode` is not
/// a handshake: `Ok(None)`, answered 405.
pub fn hub_handshake(
    request: &WebhookRequest<'_>,
    secrets: &Secrets<'_>,
) -> Result<Option<WebhookResponse>, AdapterError> {
    let params = decode_form(request.query.as_bytes())?;
    let Some(mode) = form_value(&params, "hub.mode") else {
        return Ok(None);
    };
    if mode != "subscribe" {
        return Err(AdapterError::HandshakeRejected {
            reason: "`hub.mode` must be `subscribe`",
        });
    }
    let expected = secrets.require(VERIFY_TOKEN)?;
    let presented = form_value(&params, "hub.verify_token").unwrap_or_default();
    if !constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        return Err(AdapterError::HandshakeRejected {
            reason: "`hub.verify_token` does not match the configured `verify_token`",
        });
    }
    let challenge = form_value(&params, "hub.challenge").unwrap_or_default();
    // Echoing is only safe for an inert token: visible ASCII, short.
    let echoable = !challenge.is_empty()
        && challenge.len() <= MAX_CHALLENGE_BYTES
        && challenge.bytes().all(|byte| byte.is_ascii_graphic());
    if !echoable {
        return Err(AdapterError::malformed(
            "`hub.challenge` must be 1-256 visible ASCII characters",
        ));
    }
    Ok(Some(WebhookResponse::ok_text(challenge.to_owned())))
}
