//! Typed async client for the [OfficeRnD Flex](https://www.officernd.com/)
//! API v2: members, companies, memberships, plans, locations, floors,
//! resources, assignments, bookings (with recurrence expansion), day passes,
//! check-ins and visitors, plus webhook signature verification.
//!
//! What it takes care of:
//!
//! - **Auth**: OAuth2 client credentials at the identity host with scopes
//!   ([`config::SYNC_SCOPES`], what the sync reads, by default); the token is cached until a minute
//!   before it expires, refreshed in a single flight, and fetched again once
//!   after a 401. A second 401 is [`Error::Unauthorized`], which names the
//!   scope the call needs (OfficeRnD answers 401 for a missing scope).
//! - **Pagination**: `$limit` (≤ 50) and `$cursorNext`, as a lazy
//!   [`Stream`](futures::Stream) ([`ListRequest::items`],
//!   [`ListRequest::pages`]) or all at once ([`ListRequest::collect_all`]),
//!   guarded against servers that repeat a cursor.
//! - **Filters**: one typed query per endpoint ([`query`]), sending only the
//!   parameters that endpoint accepts (unknown ones are a 400 on v2).
//! - **Rate limits and retries**: a client-side limiter, the
//!   `x-ratelimit-*-read-minute/-day` headers ([`Client::rate_limit_status`]),
//!   429 retried after `Retry-After` or `Retry-After-<bucket>`, 502/503/504
//!   and connection errors retried with jittered backoff (via `access-http`).
//! - **Tolerant models, strict where it matters** ([`models`]): unknown enum
//!   values kept; a record with a bad id, date or zone is skipped and
//!   reported ([`SkippedRecord`]), never failing the page.
//! - **Dates**: date-only fields as [`chrono::NaiveDate`] (local dates of the
//!   location, read in its zone with [`time`]); instants as UTC.
//! - **Recurring bookings** expanded in their own zone, keeping wall-clock
//!   times across DST ([`recurrence`]).
//! - **Webhooks**: `officernd-signature` verification and typed events
//!   ([`webhook`]).
//!
//! # Example
//!
//! ```no_run
//! use chrono::{Duration, Utc};
//! use officernd_client::{Client, query::{BookingsQuery, LocationsQuery}};
//! use officernd_client::SecretString;
//!
//! # async fn run() -> Result<(), officernd_client::Error> {
//! let client = Client::builder(
//!     "acme-coworking",
//!     "client-id",
//!     SecretString::from(std::env::var("OFFICERND_CLIENT_SECRET").unwrap_or_default()),
//! )
//! .build()?;
//!
//! let locations = client.list_locations(LocationsQuery::new()).collect_all().await?;
//! for location in &locations.items {
//!     println!("{} in {:?}", location.id, location.timezone);
//! }
//! let now = Utc::now();
//! let next_day = client
//!     .booking_occurrences(now, now + Duration::hours(24), BookingsQuery::new())
//!     .await?;
//! for o in next_day.occurrences.iter().filter(|o| !o.is_cancelled) {
//!     println!("{} {} -> {} by {:?}", o.resource, o.start, o.end, o.member);
//! }
//! # Ok(()) }
//! ```
//!
//! Decoding needs no network, e.g. a page as OfficeRnD sends it:
//!
//! ```
//! use officernd_client::models::Pass;
//!
//! let pass: Pass = serde_json::from_str(r#"{
//!   "_id": "6080186f490fcf6e0537ec52", "count": 15, "usedCount": 5,
//!   "validFrom": "2024-03-06T00:00:00.000Z", "validTo": null,
//!   "company": "6080186f490fcf6e0537ec62", "status": "valid"
//! }"#).unwrap();
//! assert_eq!(pass.remaining(), 10.0);
//! assert_eq!(pass.valid_from.unwrap().to_string(), "2024-03-06");
//! assert!(pass.valid_to.is_none()); // no expiry
//! ```
//!
//! # Tracing
//!
//! Each call of a method is one `INFO` span, `http_request`, whatever its
//! retries: `otel.name = "officernd.<method>"` (e.g.
//! `officernd.list_members`), `service = "officernd"`, `operation`,
//! `http.request.method`, `server.address`, `url.path`, and at the end
//! `http.response.status_code`, `attempt` (attempts made) and `elapsed_ms`.
//! Inside it: `retrying` (`INFO`), `giving up` (`WARN`) and a closing
//! `INFO` event, `request done` or `request failed`, with the status,
//! attempts, elapsed time and error. OAuth token requests are spans of
//! their own (`operation = "oauth_token"`), inside the call that needed the
//! token. No field carries a credential, a token, a body or a query string.
//! The fields are described in [`access_http`'s crate
//! docs](access_http#tracing); `DEBUG` adds the client's own events (the
//! token renewal on a 401, rate-limit pauses, error bodies).
//!
//! # Cargo features
//!
//! - `rustls` (default): HTTPS with rustls (aws-lc-rs crypto) and the
//!   platform's certificate verifier.
//! - `native-tls`: HTTPS with the platform's TLS library (OpenSSL on Linux,
//!   whose development headers, e.g. `libssl-dev`, the build needs). With
//!   both features on, native-tls is used.
//!
//! With neither (`default-features = false`) the client reaches only
//! plain-http loopback URLs (a sandbox, a mock server): `build()` fails
//! with `Error::Config` for an `https` URL, naming the features. Unless you
//! pass your own `reqwest::Client` ([`ClientBuilder::http_client`]), built
//! with TLS of your choosing (e.g. reqwest's `rustls-no-provider` and a
//! crypto provider you install).
#![warn(missing_docs)]

mod client;
pub mod config;
mod de;
mod error;
pub mod models;
pub mod query;
mod rate_limit;
pub mod recurrence;
pub mod time;
pub mod webhook;

pub use access_http::{CallSnapshot, RetryPolicy};
pub use client::{Client, ListRequest, Listing, MAX_PAGE_SIZE, Occurrences, Page, SkippedRecord};
pub use config::ClientBuilder;
pub use error::{Error, Result};
pub use rate_limit::{RateLimitBucket, RateLimitStatus};
/// The `reqwest` this crate is built on, for
/// [`ClientBuilder::http_client`]: a client built with it is of the type
/// `http_client` takes, whatever `reqwest` your own `Cargo.toml` names.
pub use reqwest;
/// The `secrecy` this crate takes secrets with ([`SecretString`]), so that
/// you need not depend on it yourself.
pub use secrecy::{self, SecretString};
