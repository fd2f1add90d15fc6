//! `[telemetry]`: logs and the admin server (`/metrics`, `/healthz`, `/readyz`).

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validator::{Validator, choice_enum};

choice_enum! {
    /// How log lines are written.
    pub enum LogFormat {
        /// Pretty on a terminal, JSON otherwise (the production default without a flag).
        Auto => "auto",
        /// Human-readable, coloured lines.
        Pretty => "pretty",
        /// One JSON object per line, for log collectors.
        Json => "json",
    }
}

impl LogFormat {
    /// Whether to write JSON, given whether the output is a terminal.
    pub const fn is_json(self, output_is_terminal: bool) -> bool {
        match self {
            Self::Auto => !output_is_terminal,
            Self::Pretty => false,
            Self::Json => true,
        }
    }
}

/// Logging and the admin HTTP server.
#[derive(Debug, Clone, Serialize)]
pub struct TelemetryConfig {
    /// `telemetry.log_format`: pretty, JSON, or pretty only on a terminal.
    pub log_format: LogFormat,
    /// `telemetry.log_level`: an `EnvFilter` directive such as `info` or `info,lintas=debug`.
    /// `RUST_LOG`, when set, replaces it (the telemetry crate applies that rule).
    pub log_level: String,
    /// `telemetry.admin_listen`: where roles without their own HTTP port serve `/metrics`,
    /// `/healthz` and `/readyz`.
    pub admin_listen: SocketAddr,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawTelemetry {
    log_format: Value,
    log_level: Value,
    admin_listen: Value,
}

pub(crate) fn validate(raw: RawTelemetry, v: &mut Validator) -> Option<TelemetryConfig> {
    let log_format = v.choice("telemetry.log_format", &raw.log_format);
    let log_level = v.non_empty_string("telemetry.log_level", &raw.log_level);
    let admin_listen = v.socket_addr("telemetry.admin_listen", &raw.admin_listen);
    Some(TelemetryConfig {
        log_format: log_format?,
        log_level: log_level?,
        admin_listen: admin_listen?,
    })
}
