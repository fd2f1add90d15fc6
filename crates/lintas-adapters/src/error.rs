//! Why a webhook request was refused, and the HTTP status the gateway answers with.
//!
//! Every variant maps to one status and one stable `code` (for the metric label and the JSON error
//! body `{"error": {"code", "message"}}`). Messages name what was wrong (the header, the secret's
//! *name*, the expectation) and never carry a secret value or body content: a body may hold
//! customer data, so a parse failure reports only its category and position.

use http::StatusCode;
use thiserror::Error;

/// A refused webhook request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdapterError {
    /// The body exceeds [`Adapter::max_body_bytes`](crate::Adapter::max_body_bytes). The gateway
    /// normally refuses before buffering; the adapters check again so no caller can skip it.
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The adapter's limit in bytes.
        limit: usize,
    },

    /// The request's `Content-Type` is not one the platform sends to this endpoint. The body is
    /// never sniffed: a form body labelled JSON is refused, not guessed.
    #[error(
        "content type {} is not accepted here; expected {expected}",
        got.as_deref().unwrap_or("(none)")
    )]
    UnsupportedMediaType {
        /// The media type received (at most 100 bytes of it), `None` when absent.
        got: Option<String>,
        /// What the endpoint accepts, for the message.
        expected: String,
    },

    /// The header carrying the platform's signature or token is absent. Never a reason to fall
    /// back to trusting the request.
    #[error("missing `{header}` header: the request cannot be authenticated")]
    SignatureMissing {
        /// The header that should carry the signature.
        header: &'static str,
    },

    /// The signature or token does not match the configured secret, or cannot be decoded.
    #[error("`{header}` does not authenticate this request: {reason}")]
    SignatureInvalid {
        /// The header that carried the signature.
        header: &'static str,
        /// What was wrong, phrased without secret material.
        reason: &'static str,
    },

    /// The platform signed a timestamp that lies outside the replay window around the receive time.
    #[error(
        "`{header}` timestamp is {skew_seconds} s away from the receive time; the tolerance is {tolerance_seconds} s"
    )]
    TimestampOutsideTolerance {
        /// The header that carried the timestamp.
        header: &'static str,
        /// Signed timestamp minus receive time, in seconds (negative: signed in the past).
        skew_seconds: i64,
        /// The configured tolerance in seconds.
        tolerance_seconds: u64,
    },

    /// The tenant has not configured a secret this adapter needs. Answered 401 rather than 404 so
    /// a platform's retries look like any other authentication failure and the response reveals
    /// nothing about which tenants exist; the message names the missing configuration key.
    #[error("webhook secret `{secret}` is not configured for this tenant and source")]
    NotConfigured {
        /// Name of the missing secret, e.g. `app_secret`.
        secret: &'static str,
    },

    /// A verification handshake (Meta `hub.verify_token`) presented the wrong token.
    #[error("handshake rejected: {reason}")]
    HandshakeRejected {
        /// What was wrong, phrased without secret material.
        reason: &'static str,
    },

    /// The body is not what the platform sends: truncated or invalid JSON, invalid UTF-8, a form
    /// that does not decode, a required field missing. Answered 400 so the platform retries (a
    /// transient truncation may heal) and nothing is stored.
    #[error("malformed request: {reason}")]
    Malformed {
        /// Category and position of the problem, never body content.
        reason: String,
    },

    /// The method has no meaning for this adapter (a `GET` to an adapter without a handshake).
    #[error("method {method} is not supported by this webhook")]
    MethodNotAllowed {
        /// The method received.
        method: String,
    },
}

impl AdapterError {
    /// The HTTP status the gateway answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::SignatureMissing { .. }
            | Self::SignatureInvalid { .. }
            | Self::TimestampOutsideTolerance { .. }
            | Self::NotConfigured { .. } => StatusCode::UNAUTHORIZED,
            Self::HandshakeRejected { .. } => StatusCode::FORBIDDEN,
            Self::Malformed { .. } => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// A stable, low-cardinality code for metric labels and the JSON error body. Never renamed.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::SignatureMissing { .. } => "signature_missing",
            Self::SignatureInvalid { .. } => "signature_invalid",
            Self::TimestampOutsideTolerance { .. } => "timestamp_outside_tolerance",
            Self::NotConfigured { .. } => "not_configured",
            Self::HandshakeRejected { .. } => "handshake_rejected",
            Self::Malformed { .. } => "malformed_body",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
        }
    }

    /// A [`Malformed`](Self::Malformed) error for a body that is not valid JSON of the expected
    /// shape. Only serde's category and position are kept: its messages can quote body content.
    pub fn malformed_json(error: &serde_json::Error) -> Self {
        let category = match error.classify() {
            serde_json::error::Category::Io => "unreadable body".to_owned(),
            serde_json::error::Category::Syntax => {
                // serde_json's syntax messages are fixed texts ("recursion limit exceeded",
                // "invalid unicode code point"), never body content, unlike its data errors.
                let text = error.to_string();
                let detail = text.split(" at line ").next().unwrap_or_default();
                format!("invalid JSON ({detail})")
            }
            serde_json::error::Category::Data => "JSON of an unexpected shape".to_owned(),
            serde_json::error::Category::Eof => "truncated JSON".to_owned(),
        };
        Self::Malformed {
            reason: format!(
                "{category} at line {} column {}",
                error.line(),
                error.column()
            ),
        }
    }

    /// A [`Malformed`](Self::Malformed) error with a fixed reason.
    pub fn malformed(reason: impl Into<String>) -> Self {
        Self::Malformed {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_failures_all_answer_401() {
        let failures = [
            AdapterError::SignatureMissing {
                header: "X-Hub-Signature-256",
            },
            AdapterError::SignatureInvalid {
                header: "X-Hub-Signature-256",
                reason: "mismatch",
            },
            AdapterError::TimestampOutsideTolerance {
                header: "Stripe-Signature",
                skew_seconds: -600,
                tolerance_seconds: 300,
            },
            AdapterError::NotConfigured {
                secret: "app_secret",
            },
        ];
        for failure in failures {
            assert_eq!(failure.status(), StatusCode::UNAUTHORIZED, "{failure}");
        }
    }

    #[test]
    fn json_syntax_errors_say_what_is_wrong() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let not_utf8 = b"{\"text\": \"caf\xe9\"}".to_vec();
        for (body, expected) in [
            (deep.into_bytes(), "recursion limit exceeded"),
            (not_utf8, "invalid unicode code point"),
        ] {
            let error = serde_json::from_slice::<serde_json::Value>(&body).expect_err("invalid");
            let message = AdapterError::malformed_json(&error).to_string();
            assert!(message.contains("invalid JSON"), "{message}");
            assert!(message.contains(expected), "{message}");
            assert!(message.contains("at line 1 column"), "{message}");
        }
    }

    #[test]
    fn json_errors_keep_position_but_not_body_content() {
        let body = br#"{"secret_customer_text": 12"#;
        let error = serde_json::from_slice::<serde_json::Value>(body)
            .expect_err("truncated JSON must fail");
        let refused = AdapterError::malformed_json(&error);
        let message = refused.to_string();
        assert!(message.contains("truncated JSON"), "{message}");
        assert!(!message.contains("secret_customer_text"), "{message}");
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }
}
