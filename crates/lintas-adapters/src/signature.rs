//! Signature primitives shared by the adapters.
//!
//! Every comparison of a presented signature or token with the expected one is constant time:
//! MACs through `hmac`'s `verify_slice`, plain tokens and passwords through `subtle`. Lengths are
//! not secret (they follow from the algorithm), so unequal lengths may fail early.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The message of a MAC, given in parts so callers never concatenate secrets or bodies
/// (Stripe signs `{t}.{body}`, Twilio signs the URL followed by the sorted parameters).
pub type MessageParts<'a> = &'a [&'a [u8]];

/// Whether `presented` is the HMAC-SHA256 of `message` under `key`, compared in constant time.
pub fn verify_hmac_sha256(key: &[u8], message: MessageParts<'_>, presented: &[u8]) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return false;
    };
    for part in message {
        mac.update(part);
    }
    mac.verify_slice(presented).is_ok()
}

/// Whether `presented` is the HMAC-SHA1 of `message` under `key`, compared in constant time.
pub fn verify_hmac_sha1(key: &[u8], message: MessageParts<'_>, presented: &[u8]) -> bool {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return false;
    };
    for part in message {
        mac.update(part);
    }
    mac.verify_slice(presented).is_ok()
}

/// The HMAC-SHA256 of `message` under `key`. For signing test requests; verification goes
/// through [`verify_hmac_sha256`].
pub fn hmac_sha256(key: &[u8], message: MessageParts<'_>) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            for part in message {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC accepts keys of any length; this arm exists only because the API is fallible.
        Err(_) => Vec::new(),
    }
}

/// The HMAC-SHA1 of `message` under `key`. For signing test requests; verification goes
/// through [`verify_hmac_sha1`].
pub fn hmac_sha1(key: &[u8], message: MessageParts<'_>) -> Vec<u8> {
    match Hmac::<Sha1>::new_from_slice(key) {
        Ok(mut mac) => {
            for part in message {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Constant-time equality of a presented token or password with the configured one.
pub fn constant_time_eq(presented: &[u8], expected: &[u8]) -> bool {
    presented.ct_eq(expected).into()
}

/// Decodes a lowercase or uppercase hex signature; `None` when it is not hex.
pub fn decode_hex(signature: &str) -> Option<Vec<u8>> {
    hex::decode(signature.trim()).ok()
}

/// Decodes a standard (padded) base64 signature; `None` when it is not base64.
pub fn decode_base64(signature: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .ok()
}

/// Encodes a signature as standard base64 (test signing).
pub fn encode_base64(signature: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231 test case 2 and RFC 2202 test case 2: key "Jefe".
    const MESSAGE: &[u8] = b"what do ya want for nothing?";

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        let expected =
            decode_hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
                .expect("hex");
        assert_eq!(hmac_sha256(b"Jefe", &[MESSAGE]), expected);
        assert!(verify_hmac_sha256(
            b"Jefe",
            &[b"what do ya ", b"want for nothing?"],
            &expected
        ));
        assert!(!verify_hmac_sha256(b"Jefe2", &[MESSAGE], &expected));
        assert!(!verify_hmac_sha256(b"Jefe", &[MESSAGE], &expected[..31]));
    }

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        let expected = decode_hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79").expect("hex");
        assert_eq!(hmac_sha1(b"Jefe", &[MESSAGE]), expected);
        assert!(verify_hmac_sha1(b"Jefe", &[MESSAGE], &expected));
        assert!(!verify_hmac_sha1(b"Jefe", &[b"other"], &expected));
    }

    #[test]
    fn tokens_compare_by_content() {
        assert!(constant_time_eq(
            b"corpus-verify-token-0003",
            b"corpus-verify-token-0003"
        ));
        assert!(!constant_time_eq(
            b"corpus-verify-token-0003",
            b"corpus-verify-token-0004"
        ));
        assert!(!constant_time_eq(b"short", b"longer"));
    }
}
