//! Value types of the `[kafka]` section: codecs, protocols, brokers, credentials.

use std::fmt;
use std::net::Ipv6Addr;

use serde::Serialize;

use crate::Sensitive;
use crate::validator::choice_enum;

choice_enum! {
    /// Producer compression codec (`compression.type`).
    pub enum Compression {
        /// No compression.
        None => "none",
        /// gzip: small, slow.
        Gzip => "gzip",
        /// Snappy: fast, larger.
        Snappy => "snappy",
        /// LZ4: fast with a good ratio; the default.
        Lz4 => "lz4",
        /// Zstandard: the best ratio for its speed; needs brokers 2.1 or newer.
        Zstd => "zstd",
    }
}

choice_enum! {
    /// How clients talk to brokers (`security.protocol`).
    pub enum SecurityProtocol {
        /// Unencrypted and unauthenticated.
        Plaintext => "plaintext",
        /// TLS.
        Ssl => "ssl",
        /// SASL authentication without TLS.
        SaslPlaintext => "sasl_plaintext",
        /// SASL authentication over TLS.
        SaslSsl => "sasl_ssl",
    }
}

impl SecurityProtocol {
    /// Whether the protocol authenticates with SASL (and so needs [`KafkaSasl`]).
    pub const fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }

    /// Whether the protocol uses TLS (and so may need a CA file).
    pub const fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }
}

choice_enum! {
    /// SASL mechanism (`sasl.mechanism`).
    pub enum SaslMechanism {
        /// User name and password in the clear (use with `sasl_ssl`).
        Plain => "PLAIN",
        /// SCRAM with SHA-256.
        ScramSha256 => "SCRAM-SHA-256",
        /// SCRAM with SHA-512.
        ScramSha512 => "SCRAM-SHA-512",
    }
}

/// One bootstrap broker. IPv6 hosts are stored without brackets and printed with them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BrokerAddr {
    /// Host name or IP address.
    pub host: String,
    /// TCP port, never 0.
    pub port: u16,
}

impl fmt::Display for BrokerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl BrokerAddr {
    /// Parses `host:port` or `[ipv6]:port`.
    pub(crate) fn parse(entry: &str) -> Option<Self> {
        let (host, port) = entry.rsplit_once(':')?;
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let port = port.parse::<u16>().ok().filter(|port| *port != 0)?;
        let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(ipv6) => ipv6.parse::<Ipv6Addr>().ok()?.to_string(),
            None => {
                let valid = !host.is_empty()
                    && host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
                valid.then(|| host.to_owned())?
            }
        };
        Some(Self { host, port })
    }
}

/// SASL credentials; present exactly when the security protocol is `sasl_*`.
#[derive(Debug, Clone, Serialize)]
pub struct KafkaSasl {
    /// `kafka.sasl_mechanism`.
    #[serde(rename = "sasl_mechanism")]
    pub mechanism: SaslMechanism,
    /// `kafka.sasl_username`.
    #[serde(rename = "sasl_username")]
    pub username: String,
    /// `kafka.sasl_password`.
    #[serde(rename = "sasl_password")]
    pub password: Sensitive<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brokers_parse_host_port_and_bracketed_ipv6() {
        let parsed = BrokerAddr::parse("kafka-0.kafka:9092");
        assert_eq!(
            parsed.map(|b| b.to_string()).as_deref(),
            Some("kafka-0.kafka:9092")
        );
        let ipv6 = BrokerAddr::parse("[::1]:9092");
        assert_eq!(ipv6.map(|b| b.to_string()).as_deref(), Some("[::1]:9092"));
    }

    #[test]
    fn brokers_without_a_valid_port_or_host_are_rejected() {
        for entry in [
            "no port here",
            "host",
            "host:",
            ":9092",
            "host:0",
            "host:65536",
            "a b:1",
            "::1:9092",
            "host:+1",
        ] {
            assert!(
                BrokerAddr::parse(entry).is_none(),
                "{entry} should be rejected"
            );
        }
        assert!(BrokerAddr::parse("host:65535").is_some());
    }
}
