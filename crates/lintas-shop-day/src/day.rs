//! The day as data: the shop, its customers and the steps of their journeys
//! (`examples/shop-day/day.toml`), checked once when loaded.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Deserialize;

use crate::error::ShopDayError;
use crate::expect::Labels;

/// The built-in day: Kopi Senja, a small coffee roaster, and seven of its customers.
pub const BUILTIN_DAY_TOML: &str = include_str!("../../../examples/shop-day/day.toml");

/// Wall-clock time the day's first step is counted from: steps say `at = "08:05"`.
const DAY_OPENS: &str = "08:00";
/// How long before the replay the day opens: the last step (before 21:00) lies in the past, so
/// every `occurred_at` is "today, before now" whenever the replay runs.
const DAY_LENGTH_HOURS: i64 = 13;

/// A whole day.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Day {
    /// The business and its platform accounts.
    pub shop: Shop,
    /// The customers, referenced by `key` from the steps.
    #[serde(rename = "customer")]
    pub customers: Vec<Customer>,
    /// What happened, in time order.
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

/// The business's accounts on each platform (all invented).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shop {
    /// Display name.
    pub name: String,
    /// ISO 4217 currency of the shop's prices.
    pub currency: String,
    /// The shop's WhatsApp / SMS number, E.164 without `+`.
    pub phone: String,
    /// WhatsApp Cloud API `phone_number_id`.
    pub whatsapp_phone_number_id: String,
    /// WhatsApp Business Account id.
    pub whatsapp_business_account_id: String,
    /// Facebook Page id (Messenger).
    pub facebook_page_id: String,
    /// Instagram professional account id.
    pub instagram_account_id: String,
    /// Meta app id that sends the Page's replies (echoes).
    pub meta_app_id: String,
    /// `<shop>.myshopify.com`.
    pub shopify_domain: String,
    /// Support mailbox the customers write to.
    pub support_email: String,
    /// Twilio account id (`AC...`).
    pub twilio_account_sid: String,
    /// Zendesk account id.
    pub zendesk_account_id: u64,
    /// Typeform NPS form id.
    pub typeform_form_id: String,
}

/// One customer and their handle on each platform they use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Short key the steps use (`siti`).
    pub key: String,
    /// Full name (invented).
    pub name: String,
    /// Language they write in: `en` or `id`.
    pub language: String,
    /// E-mail address (at example.com).
    pub email: String,
    /// Phone number in E.164 (fictional +1 555 555 01xx).
    pub phone: String,
    /// Messenger page-scoped id.
    #[serde(default)]
    pub psid: Option<String>,
    /// Instagram-scoped id.
    #[serde(default)]
    pub igsid: Option<String>,
    /// Telegram user id (also their private chat id).
    #[serde(default)]
    pub telegram_id: Option<i64>,
    /// Telegram username.
    #[serde(default)]
    pub telegram_username: Option<String>,
    /// Shopify customer id.
    #[serde(default)]
    pub shopify_id: Option<u64>,
    /// Stripe customer id (`cus_...`).
    #[serde(default)]
    pub stripe_id: Option<String>,
    /// Zendesk user id of the requester.
    #[serde(default)]
    pub zendesk_id: Option<u64>,
}

impl Customer {
    /// First name, for greetings in agent replies and payloads.
    pub fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or(&self.name)
    }

    /// Phone number without `+` (WhatsApp `wa_id`).
    pub fn wa_id(&self) -> &str {
        self.phone.trim_start_matches('+')
    }
}

/// The platforms (and the event API) a step arrives through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// WhatsApp Cloud API.
    Whatsapp,
    /// Twilio Messaging (SMS).
    Twilio,
    /// Facebook Messenger.
    Messenger,
    /// Instagram messaging.
    Instagram,
    /// Telegram Bot API.
    Telegram,
    /// Mailgun inbound routes.
    Mailgun,
    /// Postmark inbound.
    Postmark,
    /// Zendesk webhooks.
    Zendesk,
    /// Shopify order webhooks.
    Shopify,
    /// Stripe events.
    Stripe,
    /// Typeform responses.
    Typeform,
    /// `POST /v1/events`, Segment-style JSON.
    Api,
}

impl Source {
    /// The adapter id (the `{source}` URL segment), or `api` for `POST /v1/events`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Whatsapp => "whatsapp",
            Self::Twilio => "twilio",
            Self::Messenger => "messenger",
            Self::Instagram => "instagram",
            Self::Telegram => "telegram",
            Self::Mailgun => "mailgun",
            Self::Postmark => "postmark",
            Self::Zendesk => "zendesk",
            Self::Shopify => "shopify",
            Self::Stripe => "stripe",
            Self::Typeform => "typeform",
            Self::Api => "api",
        }
    }
}

/// What happened in a step; which kinds a source supports is checked at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The customer wrote (chat, SMS, e-mail, ticket comment).
    Message,
    /// The business answered (Meta echo, Zendesk staff comment, or `message.sent` on the API).
    Reply,
    /// Zendesk: the customer opened a ticket.
    Ticket,
    /// Zendesk: a CSAT rating (trigger webhook); `score` 1 (good) or 0 (bad).
    Csat,
    /// Shopify `orders/create`, or an API `Order Completed`.
    Order,
    /// Stripe `payment_intent.succeeded`.
    Payment,
    /// Stripe `payment_intent.payment_failed`.
    PaymentFailed,
    /// Stripe `charge.refunded`.
    Refund,
    /// Stripe `customer.subscription.created`.
    Subscription,
    /// Typeform NPS answer (`score` 0-10, `text` the reason).
    Nps,
    /// API `track` call named by `event`.
    Track,
    /// API `page` call.
    Page,
}

/// One thing that happened.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Wall-clock time of the day, `HH:MM`, from 08:00 to 20:59.
    pub at: String,
    /// `Customer::key`.
    pub customer: String,
    /// Where it arrives.
    pub source: Source,
    /// What it is.
    pub kind: Kind,
    /// What the customer (or agent) wrote.
    #[serde(default)]
    pub text: Option<String>,
    /// E-mail or ticket subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Order number (Shopify `order_number`), for orders, payments and refunds.
    #[serde(default)]
    pub order: Option<u64>,
    /// Line items `"2 x Kopi Gayo 250 g"`, for orders.
    #[serde(default)]
    pub items: Vec<String>,
    /// Amount in the shop currency's major units (whole rupiah).
    #[serde(default)]
    pub amount: Option<i64>,
    /// Zendesk ticket id.
    #[serde(default)]
    pub ticket: Option<u64>,
    /// Agent handle for replies (`agent:rudi`).
    #[serde(default)]
    pub agent: Option<String>,
    /// NPS 0-10, CSAT 1 (good) / 0 (bad), stars 1-5.
    #[serde(default)]
    pub score: Option<u8>,
    /// API `track` event name (`Product Viewed`, `message.sent`).
    #[serde(default)]
    pub event: Option<String>,
    /// API `properties.channel`.
    #[serde(default)]
    pub channel: Option<String>,
    /// API: the customer handle the shop's backend knows them by (`whatsapp:15555550106`);
    /// defaults to `email:<customer e-mail>`.
    #[serde(default)]
    pub user: Option<String>,
    /// API replies: the conversation answered (`whatsapp:15555550101`).
    #[serde(default)]
    pub conversation: Option<String>,
    /// Which earlier e-mail step (1-based step number) a reply answers, for the thread id.
    #[serde(default)]
    pub in_reply_to_step: Option<usize>,
    /// The expected classification.
    pub expect: Labels,
}

impl Day {
    /// The built-in day.
    pub fn builtin() -> Result<Self, ShopDayError> {
        Self::parse(BUILTIN_DAY_TOML, "built-in day")
    }

    /// Loads a day file.
    pub fn load(path: &Path) -> Result<Self, ShopDayError> {
        let text = std::fs::read_to_string(path).map_err(|source| ShopDayError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks a day.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ShopDayError> {
        let day: Self = toml::from_str(text).map_err(|error| ShopDayError::Invalid {
            origin: origin.to_owned(),
            message: error.to_string(),
        })?;
        day.check().map_err(|message| ShopDayError::Invalid {
            origin: origin.to_owned(),
            message,
        })?;
        Ok(day)
    }

    /// The customer named `key`.
    pub fn customer(&self, key: &str) -> Option<&Customer> {
        self.customers.iter().find(|customer| customer.key == key)
    }

    fn check(&self) -> Result<(), String> {
        let mut keys = BTreeSet::new();
        for customer in &self.customers {
            if !keys.insert(customer.key.as_str()) {
                return Err(format!("customer {:?} is defined twice", customer.key));
            }
        }
        let mut previous = Duration::zero();
        for (index, step) in self.steps.iter().enumerate() {
            let number = index + 1;
            let offset = step_offset(&step.at).ok_or_else(|| {
                format!(
                    "step {number}: at = {:?}: expected HH:MM from 08:00 to 20:59",
                    step.at
                )
            })?;
            if offset < previous {
                return Err(format!(
                    "step {number}: at = {:?} is earlier than the step before",
                    step.at
                ));
            }
            previous = offset;
            let customer = self
                .customer(&step.customer)
                .ok_or_else(|| format!("step {number}: unknown customer {:?}", step.customer))?;
            crate::platforms::check_step(self, customer, step).map_err(|problem| {
                format!(
                    "step {number} ({} {:?}): {problem}",
                    step.source.id(),
                    step.kind
                )
            })?;
        }
        Ok(())
    }
}

/// Offset of `HH:MM` from the day's opening, if within the day.
fn step_offset(at: &str) -> Option<Duration> {
    let opens = NaiveTime::parse_from_str(DAY_OPENS, "%H:%M").ok()?;
    let time = NaiveTime::parse_from_str(at, "%H:%M").ok()?;
    let offset = time.signed_duration_since(opens);
    (offset >= Duration::zero() && offset < Duration::hours(DAY_LENGTH_HOURS)).then_some(offset)
}

/// When the day opened, for a replay starting at `replay_start`: the day ends before it.
pub fn day_opened(replay_start: DateTime<Utc>) -> DateTime<Utc> {
    let opened = replay_start - Duration::hours(DAY_LENGTH_HOURS);
    // Whole seconds: several platforms carry epoch seconds, so expected times must not depend on
    // sub-second digits of the replay's start.
    DateTime::from_timestamp(opened.timestamp(), 0).unwrap_or(opened)
}

/// When a step happened, given when the day opened.
pub fn occurred_at(opened: DateTime<Utc>, step: &Step) -> DateTime<Utc> {
    opened + step_offset(&step.at).unwrap_or_else(Duration::zero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_outside_the_day_are_refused() {
        assert_eq!(step_offset("08:00"), Some(Duration::zero()));
        assert_eq!(step_offset("20:59"), Some(Duration::minutes(779)));
        assert_eq!(step_offset("07:59"), None);
        assert_eq!(step_offset("21:00"), None);
        assert_eq!(step_offset("8 am"), None);
    }

    #[test]
    fn the_day_lies_before_the_replay() {
        let start = DateTime::from_timestamp(1_800_000_000, 500_000_000).expect("valid");
        let opened = day_opened(start);
        assert_eq!(opened.timestamp_subsec_nanos(), 0);
        let last = opened + step_offset("20:59").expect("in the day");
        assert!(last < start);
    }
}
