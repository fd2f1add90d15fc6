//! `[tenants.<tenant_id>]`: who may write, and the secrets that verify their platforms' webhooks.
//!
//! Every write key identifies exactly one tenant: a key shared by two tenants is refused, because
//! the gateway could not tell whose events it receives. Keys and secrets are [`Sensitive`] and
//! never appear in errors; a duplicate is reported by naming both tenants.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Sensitive;
use crate::sensitive::{MASK, constant_time_eq};
use crate::validator::Validator;

/// Shortest accepted write key: 16 random characters are too many to guess online.
pub const MIN_WRITE_KEY_LEN: usize = 16;
const ID_EXPECTED: &str =
    "an id of 1 to 63 characters a-z 0-9 _ -, starting with a letter or digit";
const WRITE_KEYS_EXPECTED: &str = "a list of write keys: an array, or a comma-separated string";
const WRITE_KEY_EXPECTED: &str =
    "a write key of at least 16 printable ASCII characters without spaces or commas";

/// What one tenant may do.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TenantConfig {
    /// `tenants.<id>.write_keys`: bearer keys accepted by `POST /v1/events` for this tenant.
    pub write_keys: Vec<Sensitive<String>>,
    /// `tenants.<id>.webhooks.<source>.<name>`: the named secrets verifying the signature or
    /// token of `POST /v1/webhooks/<id>/<source>` (WhatsApp `app_secret` and `verify_token`,
    /// Stripe `endpoint_secret`, ...). Which names a source needs is documented per adapter.
    pub webhooks: BTreeMap<String, BTreeMap<String, Sensitive<String>>>,
}

impl TenantConfig {
    /// The secrets configured for `source`, if any.
    pub fn webhook_secrets(&self, source: &str) -> Option<&BTreeMap<String, Sensitive<String>>> {
        self.webhooks.get(source)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawTenant {
    write_keys: Value,
    webhooks: Value,
}

/// Whether `id` is a tenant or source id: `[a-z0-9][a-z0-9_-]{0,62}`.
pub(crate) fn is_valid_id(id: &str) -> bool {
    (1..=63).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn is_valid_write_key(key: &str) -> bool {
    key.len() >= MIN_WRITE_KEY_LEN && key.chars().all(|c| c.is_ascii_graphic() && c != ',')
}

pub(crate) fn validate(
    raw: BTreeMap<String, RawTenant>,
    v: &mut Validator,
) -> Option<BTreeMap<String, TenantConfig>> {
    let mut tenants = BTreeMap::new();
    let mut all_valid = true;
    for (tenant_id, raw_tenant) in raw {
        match validate_tenant(&tenant_id, &raw_tenant, v) {
            Some(tenant) => {
                tenants.insert(tenant_id, tenant);
            }
            None => all_valid = false,
        }
    }
    report_shared_write_keys(&tenants, v);
    all_valid.then_some(tenants)
}

fn validate_tenant(tenant_id: &str, raw: &RawTenant, v: &mut Validator) -> Option<TenantConfig> {
    let prefix = format!("tenants.{tenant_id}");
    let id_valid = is_valid_id(tenant_id);
    if !id_valid {
        v.invalid(&prefix, tenant_id, ID_EXPECTED);
    }

    let keys_key = format!("{prefix}.write_keys");
    let entries = v.list(&keys_key, &raw.write_keys, WRITE_KEYS_EXPECTED, true);
    let write_keys = entries.and_then(|entries| {
        let mut keys_valid = true;
        for (index, entry) in entries.iter().enumerate() {
            if !is_valid_write_key(entry) {
                v.invalid(format!("{keys_key}[{index}]"), MASK, WRITE_KEY_EXPECTED);
                keys_valid = false;
            }
        }
        keys_valid.then(|| entries.into_iter().map(Sensitive::new).collect())
    });

    let webhooks = validate_webhooks(&prefix, &raw.webhooks, v);
    if !id_valid {
        return None;
    }
    Some(TenantConfig {
        write_keys: write_keys?,
        webhooks: webhooks?,
    })
}

fn validate_webhooks(
    prefix: &str,
    raw: &Value,
    v: &mut Validator,
) -> Option<BTreeMap<String, BTreeMap<String, Sensitive<String>>>> {
    let key = format!("{prefix}.webhooks");
    let table = match raw {
        Value::Null => return Some(BTreeMap::new()),
        Value::Object(table) => table,
        _ => {
            v.invalid(
                key,
                MASK,
                "a table of source id -> table of secret name -> secret",
            );
            return None;
        }
    };
    let mut sources = BTreeMap::new();
    let mut valid = true;
    for (source, secrets) in table {
        let source_key = format!("{key}.{source}");
        if !is_valid_id(source) {
            v.invalid(&source_key, MASK, format!("a source {ID_EXPECTED}"));
            valid = false;
            continue;
        }
        let Value::Object(secrets) = secrets else {
            v.invalid(
                &source_key,
                MASK,
                "a table of secret name -> secret, e.g. app_secret = \"...\"",
            );
            valid = false;
            continue;
        };
        let mut named = BTreeMap::new();
        for (name, value) in secrets {
            let secret_key = format!("{source_key}.{name}");
            if !is_valid_id(name) {
                v.invalid(&secret_key, MASK, format!("a secret name {ID_EXPECTED}"));
                valid = false;
                continue;
            }
            match v.secret(&secret_key, value) {
                Some(secret) if !secret.expose().is_empty() => {
                    named.insert(name.clone(), secret);
                }
                Some(_) => {
                    v.invalid(&secret_key, "", "a non-empty secret");
                    valid = false;
                }
                None => valid = false,
            }
        }
        sources.insert(source.clone(), named);
    }
    valid.then_some(sources)
}

/// Reports every write key that a later tenant (in id order) shares with an earlier one. This runs
/// once at startup, so an ordinary map is fine here; request-time lookups use
/// [`tenant_for_write_key`].
fn report_shared_write_keys(tenants: &BTreeMap<String, TenantConfig>, v: &mut Validator) {
    let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
    for (tenant_id, tenant) in tenants {
        for (index, key) in tenant.write_keys.iter().enumerate() {
            match owners.get(key.expose().as_str()) {
                Some(owner) if owner != tenant_id => v.invalid(
                    format!("tenants.{tenant_id}.write_keys[{index}]"),
                    MASK,
                    format!(
                        "a write key not also used by tenant `{owner}`: \
                         each key must identify one tenant"
                    ),
                ),
                Some(_) => {}
                None => {
                    owners.insert(key.expose(), tenant_id);
                }
            }
        }
    }
}

/// The tenant owning `key`. Every configured key is compared, in constant time per key, whatever
/// matches, so response times do not reveal how close a guess came or which tenant it hit.
pub(crate) fn tenant_for_write_key<'a>(
    tenants: &'a BTreeMap<String, TenantConfig>,
    key: &str,
) -> Option<&'a str> {
    let mut found = None;
    for (tenant_id, tenant) in tenants {
        for write_key in &tenant.write_keys {
            let matches = constant_time_eq(write_key.expose().as_bytes(), key.as_bytes());
            if matches && found.is_none() {
                found = Some(tenant_id.as_str());
            }
        }
    }
    found
}
