//! A tenant table for the day: a write key and a secret for every source the replay signs for,
//! as TOML the gateway loads (`[tenants.<id>]`) and the replay reads back.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::platforms::TenantSecrets;

/// The secret names of every webhook source the day uses.
const SOURCE_SECRETS: &[(&str, &[&str])] = &[
    ("instagram", &["app_secret", "verify_token"]),
    ("mailgun", &["signing_key"]),
    ("messenger", &["app_secret", "verify_token"]),
    ("postmark", &["basic_user", "basic_pass"]),
    ("shopify", &["client_secret"]),
    ("stripe", &["endpoint_secret"]),
    ("telegram", &["secret_token"]),
    ("twilio", &["auth_token"]),
    ("typeform", &["webhook_secret"]),
    ("whatsapp", &["app_secret", "verify_token"]),
    ("zendesk", &["signing_secret"]),
];

/// 32 hex characters that no earlier call returned: the random bits of two UUIDv7s. Demo
/// secrets for a local quickstart, not key material for production.
fn fresh_secret() -> String {
    let first = uuid::Uuid::now_v7().simple().to_string();
    let second = uuid::Uuid::now_v7().simple().to_string();
    // The first 12 hex digits of a v7 are the timestamp: keep the random tails.
    format!("{}{}", &first[16..], &second[16..])
}

/// Fresh secrets for every source of the day, and a write key.
pub fn generate_secrets() -> TenantSecrets {
    let webhooks = SOURCE_SECRETS
        .iter()
        .map(|(source, names)| {
            let values: BTreeMap<String, String> = names
                .iter()
                .map(|name| {
                    let value = match *name {
                        "endpoint_secret" => format!("whsec_{}", fresh_secret()),
                        "basic_user" => "postmark-inbound".to_owned(),
                        _ => fresh_secret(),
                    };
                    ((*name).to_owned(), value)
                })
                .collect();
            ((*source).to_owned(), values)
        })
        .collect();
    TenantSecrets {
        write_key: format!("wk_demo_{}", fresh_secret()),
        webhooks,
    }
}

/// The `[tenants.<tenant>]` TOML of `secrets`.
pub fn tenant_toml(tenant: &str, secrets: &TenantSecrets) -> String {
    let mut out = String::new();
    writeln!(out, "[tenants.{tenant}]").ok();
    writeln!(out, "write_keys = [\"{}\"]", secrets.write_key).ok();
    for (source, names) in &secrets.webhooks {
        writeln!(out, "\n[tenants.{tenant}.webhooks.{source}]").ok();
        for (name, value) in names {
            writeln!(out, "{name} = \"{value}\"").ok();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_table_loads_as_lintas_config_and_round_trips_the_secrets() {
        let secrets = generate_secrets();
        let toml_text = tenant_toml("kopi-senja-test", &secrets);
        let dir = std::env::temp_dir().join(format!("shop-day-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("lintas.toml");
        std::fs::write(&path, &toml_text).expect("written");
        let config = lintas_config::load(Some(&path), Default::default()).expect("valid config");
        std::fs::remove_dir_all(&dir).ok();
        let loaded = TenantSecrets::from_config(&config, "kopi-senja-test").expect("tenant");
        assert_eq!(loaded.write_key, secrets.write_key);
        assert_eq!(loaded.webhooks, secrets.webhooks);
        for (source, names) in SOURCE_SECRETS {
            let adapter = lintas_adapters::adapter(source).expect("a registered adapter");
            assert_eq!(adapter.secret_names(), *names, "{source}");
        }
        assert_ne!(generate_secrets().write_key, secrets.write_key);
    }
}
