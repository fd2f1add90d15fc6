//! One builder per platform: a step becomes the request the platform would send (its wire
//! format, its headers, its signature with the tenant's secret) plus the events it must become.
//!
//! Signing uses the algorithms of `lintas_adapters::testing`, the same code the adapters' tests
//! sign with; the timestamp a signature covers (Stripe `t`, Mailgun `timestamp`, Zendesk's header)
//! is the moment of sending, so the gateway's replay window accepts it.

mod api;
mod chat;
mod commerce;
mod email;
mod meta;
mod zendesk;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::day::{Customer, Day, Kind, Source, Step};
use crate::error::ShopDayError;
use crate::expect::{ExpectedEvent, ExpectedMoney, ExpectedRating};

pub(crate) use api::build_batch;

/// The tenant's credentials, as configured for the gateway (`[tenants.<id>]`).
#[derive(Clone, Default)]
pub struct TenantSecrets {
    /// A write key for `POST /v1/events`.
    pub write_key: String,
    /// `source -> secret name -> value`.
    pub webhooks: BTreeMap<String, BTreeMap<String, String>>,
}

impl std::fmt::Debug for TenantSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenantSecrets { .. }")
    }
}

impl TenantSecrets {
    /// The secrets of `tenant` in a validated Lintas config.
    pub fn from_config(config: &lintas_config::Config, tenant: &str) -> Result<Self, ShopDayError> {
        let tenant_config = config
            .tenants
            .get(tenant)
            .ok_or_else(|| ShopDayError::Secrets(format!("tenant {tenant:?} is not configured")))?;
        let write_key = tenant_config
            .write_keys
            .first()
            .map(|key| key.expose().clone())
            .unwrap_or_default();
        let webhooks = tenant_config
            .webhooks
            .iter()
            .map(|(source, names)| {
                let names = names
                    .iter()
                    .map(|(name, value)| (name.clone(), value.expose().clone()))
                    .collect();
                (source.clone(), names)
            })
            .collect();
        Ok(Self {
            write_key,
            webhooks,
        })
    }

    /// The secret `name` of `source`, or an error naming the config key to set.
    pub(crate) fn get(&self, tenant: &str, source: &str, name: &str) -> Result<&str, ShopDayError> {
        self.webhooks
            .get(source)
            .and_then(|names| names.get(name))
            .map(String::as_str)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| {
                ShopDayError::Secrets(format!(
                    "tenants.{tenant}.webhooks.{source}.{name} is not configured"
                ))
            })
    }
}

/// Everything a builder reads.
#[derive(Debug, Clone, Copy)]
pub struct BuildContext<'a> {
    /// The day.
    pub day: &'a Day,
    /// Tenant id (URL segment and `event_id` input).
    pub tenant: &'a str,
    /// When the day opened (see [`crate::day::day_opened`]).
    pub opened: DateTime<Utc>,
    /// The moment of sending: what signed timestamps carry.
    pub signed_at: DateTime<Utc>,
    /// The tenant's secrets.
    pub secrets: &'a TenantSecrets,
    /// Scheme, host and port the platform calls (Twilio signs the full URL).
    pub public_base: &'a str,
}

impl BuildContext<'_> {
    fn webhook_path(&self, source: Source) -> String {
        format!("/v1/webhooks/{}/{}", self.tenant, source.id())
    }

    fn secret(&self, source: Source, name: &str) -> Result<&str, ShopDayError> {
        self.secrets.get(self.tenant, source.id(), name)
    }
}

/// A request ready to send, and what it must produce.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Step numbers (1-based) it carries.
    pub steps: Vec<usize>,
    /// Where it arrives.
    pub source: Source,
    /// Path on the gateway.
    pub path: String,
    /// Headers, `Content-Type` included.
    pub headers: Vec<(String, String)>,
    /// Body bytes, exactly as signed.
    pub body: Vec<u8>,
    /// The events it must become.
    pub expected: Vec<ExpectedEvent>,
}

/// A step seen with its customer and number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Item<'a> {
    pub(crate) number: usize,
    pub(crate) step: &'a Step,
    pub(crate) customer: &'a Customer,
}

impl Item<'_> {
    fn text(&self) -> Result<&str, ShopDayError> {
        self.step
            .text
            .as_deref()
            .ok_or_else(|| self.missing("text"))
    }

    fn order(&self) -> Result<u64, ShopDayError> {
        self.step.order.ok_or_else(|| self.missing("order"))
    }

    fn amount(&self) -> Result<i64, ShopDayError> {
        self.step.amount.ok_or_else(|| self.missing("amount"))
    }

    fn missing(&self, field: &str) -> ShopDayError {
        ShopDayError::Invalid {
            origin: format!("step {}", self.number),
            message: format!(
                "{field} is required for {} {:?}",
                self.step.source.id(),
                self.step.kind
            ),
        }
    }
}

/// The expected event of `item` with the fields every event has; builders fill the rest.
pub(crate) fn expected(
    ctx: &BuildContext<'_>,
    item: &Item<'_>,
    source_event_id: String,
    channel: &str,
    event_name: &str,
    customer_id: String,
) -> ExpectedEvent {
    let source = item.step.source.id();
    let event_id = lintas_schema::derive_event_id(ctx.tenant, source, &source_event_id);
    ExpectedEvent {
        step: item.number,
        customer: item.customer.key.clone(),
        event_id: event_id.to_string(),
        tenant_id: ctx.tenant.to_owned(),
        source: source.to_owned(),
        source_event_id,
        channel: channel.to_owned(),
        direction: "inbound".to_owned(),
        actor: "customer".to_owned(),
        event_name: event_name.to_owned(),
        occurred_at_ms: Some(occurred(ctx, item).timestamp_millis()),
        customer_id,
        conversation_id: None,
        agent_id: None,
        text: None,
        language: None,
        money: None,
        rating: None,
        labels: item.step.expect.clone(),
    }
}

/// When `item` happened.
pub(crate) fn occurred(ctx: &BuildContext<'_>, item: &Item<'_>) -> DateTime<Utc> {
    crate::day::occurred_at(ctx.opened, item.step)
}

/// Money of `amount` whole units of the shop currency.
pub(crate) fn money(ctx: &BuildContext<'_>, amount: i64) -> ExpectedMoney {
    ExpectedMoney {
        amount_minor: amount,
        currency: ctx.day.shop.currency.to_ascii_uppercase(),
    }
}

/// A rating as stored.
pub(crate) fn rating(scale: &str, value: u8) -> ExpectedRating {
    ExpectedRating {
        scale: scale.to_owned(),
        value: f64::from(value),
    }
}

/// Builds the request of one webhook step.
pub(crate) fn build_webhook(
    ctx: &BuildContext<'_>,
    item: Item<'_>,
) -> Result<Prepared, ShopDayError> {
    let (headers, body, expected) = match item.step.source {
        Source::Whatsapp => meta::whatsapp(ctx, &item)?,
        Source::Messenger | Source::Instagram => meta::messenger(ctx, &item)?,
        Source::Twilio => chat::twilio(ctx, &item)?,
        Source::Telegram => chat::telegram(ctx, &item)?,
        Source::Mailgun => email::mailgun(ctx, &item)?,
        Source::Postmark => email::postmark(ctx, &item)?,
        Source::Zendesk => zendesk::zendesk(ctx, &item)?,
        Source::Shopify => commerce::shopify(ctx, &item)?,
        Source::Stripe => commerce::stripe(ctx, &item)?,
        Source::Typeform => commerce::typeform(ctx, &item)?,
        Source::Api => {
            return build_batch(ctx, &[item]);
        }
    };
    Ok(Prepared {
        steps: vec![item.number],
        source: item.step.source,
        path: ctx.webhook_path(item.step.source),
        headers,
        body,
        expected: vec![expected],
    })
}

/// Whether `step` is something its source can send, with the fields it needs.
pub(crate) fn check_step(day: &Day, customer: &Customer, step: &Step) -> Result<(), String> {
    use Kind::*;
    let supported: &[Kind] = match step.source {
        Source::Whatsapp
        | Source::Twilio
        | Source::Telegram
        | Source::Mailgun
        | Source::Postmark => &[Message],
        Source::Messenger | Source::Instagram => &[Message, Reply],
        Source::Zendesk => &[Ticket, Reply, Message, Csat],
        Source::Shopify => &[Order],
        Source::Stripe => &[Payment, PaymentFailed, Refund, Subscription],
        Source::Typeform => &[Nps],
        Source::Api => &[Reply, Order, Track, Page],
    };
    if !supported.contains(&step.kind) {
        return Err(format!("supports only {supported:?}"));
    }
    let needs_text = matches!(step.kind, Message | Reply | Ticket | Nps);
    if needs_text && step.text.is_none() {
        return Err("text is required".into());
    }
    let handle_needed = match step.source {
        Source::Messenger => customer.psid.as_ref().map(|_| ()),
        Source::Instagram => customer.igsid.as_ref().map(|_| ()),
        Source::Telegram => customer.telegram_id.map(|_| ()),
        Source::Shopify => customer.shopify_id.map(|_| ()),
        Source::Stripe => customer.stripe_id.as_ref().map(|_| ()),
        Source::Zendesk => customer.zendesk_id.map(|_| ()),
        _ => Some(()),
    };
    if handle_needed.is_none() {
        return Err(format!(
            "customer {} has no {} id",
            customer.key,
            step.source.id()
        ));
    }
    if matches!(step.kind, Order | Payment | PaymentFailed | Refund) && step.amount.is_none() {
        return Err("amount is required".into());
    }
    if step.source == Source::Shopify && (step.order.is_none() || step.items.is_empty()) {
        return Err("order and items are required".into());
    }
    if matches!(step.kind, Nps | Csat) && step.score.is_none() {
        return Err("score is required".into());
    }
    if step.source == Source::Zendesk && step.ticket.is_none() {
        return Err("ticket is required".into());
    }
    if step.source == Source::Api {
        api::check(day, customer, step)?;
    }
    let labels = &step.expect;
    if !crate::expect::INTERACTION_TYPES.contains(&labels.interaction_type.as_str()) {
        return Err(format!(
            "unknown interaction type {:?}",
            labels.interaction_type
        ));
    }
    if !crate::expect::JOURNEY_STAGES.contains(&labels.stage.as_str()) {
        return Err(format!("unknown journey stage {:?}", labels.stage));
    }
    Ok(())
}

/// `(name, value)` header pairs.
pub(crate) type Headers = Vec<(String, String)>;

pub(crate) fn header(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_owned(), value.into())
}

/// JSON bytes of `value` (serializing a `serde_json::Value` cannot fail).
pub(crate) fn json_bytes(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}
