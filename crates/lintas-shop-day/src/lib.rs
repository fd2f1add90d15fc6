//! The example day of a small shop, replayed through a real gateway and checked in ClickHouse.
//!
//! Kopi Senja, an invented coffee roaster, has a day of customer interactions
//! (`examples/shop-day/day.toml`): seven customers writing in English and Indonesian, each
//! crossing channels (Instagram or Messenger question, WhatsApp chat, Shopify order, Stripe
//! payment, SMS or Telegram delivery question, Zendesk ticket, Typeform NPS, e-mail), plus what
//! the shop's own systems report on `POST /v1/events` (web analytics, newsletter engagement,
//! backend orders, reviews and the agents' replies).
//!
//! - [`day`]: the fixture format and its checks.
//! - [`platforms`]: each step as the platform sends it (wire format, headers, signature with the
//!   tenant's secrets) and the event it must become ([`expect::ExpectedEvent`]: normalized
//!   fields, interaction type and journey stage).
//! - [`replay`]: sends the day over HTTP in time order, with retries on 429/503, and reports
//!   sent / accepted / rejected per event.
//! - [`verify`]: waits until every accepted event is a row in ClickHouse and compares each row
//!   with its expectation; counts the tenant's DLQ records.
//! - [`tenant`]: a tenant table with fresh secrets for every source the day uses.
//!
//! # Runs never mix
//!
//! `event_id` is a UUIDv5 over tenant, source and the platform's id, and the classifier keeps
//! customer context per tenant. The quickstart therefore replays each run as its own tenant
//! (`kopi-senja-<run>`): a second run adds new rows instead of deduplicating into the first
//! run's, every customer starts the day unknown again (so the expected journey stages hold), and
//! counting "this run's rows" is `WHERE tenant_id = '<tenant>'`. Within one tenant the ids are
//! deterministic, so replaying the same tenant twice is a redelivery that must deduplicate.
//!
//! # Time
//!
//! The day opens 13 hours before the replay starts (`at = "08:00"`), so each `occurred_at` is
//! "today, before now" whenever it runs; signatures carry the moment of sending, within every
//! platform's replay window.
#![deny(missing_docs)]

pub mod day;
pub mod error;
pub mod expect;
pub mod platforms;
pub mod replay;
pub mod tenant;
pub mod verify;

pub use day::Day;
pub use error::ShopDayError;
pub use expect::{ExpectedEvent, Labels};
pub use platforms::TenantSecrets;
pub use replay::{Outcome, ReplayOptions, ReplayReport, read_outcomes, replay};
