//! A typed async client for the [Brivo Access](https://apidocs.brivo.com/)
//! REST API (`https://api.brivo.com/v1/api`), as a door-access integration
//! needs it: users, suspension, groups and membership, credentials with
//! validity windows, mobile-pass invitations, custom fields, sites and
//! access points.
//!
//! What it takes care of:
//!
//! - **Auth**: OAuth2 password grant (client id and secret by Basic auth),
//!   the `api-key` header on every call, a token cached and renewed before
//!   it expires (Brivo's live 1–5 minutes) with the refresh token, falling
//!   back to the password grant; one token request however many calls run
//!   at once; a 401 renews the token and replays the call once.
//! - **Throttling and budget**: a client-side rate limiter (default 5
//!   calls/s); 429 and 403 "Developer Over Qps" retried with jittered
//!   backoff honouring `Retry-After`; 5xx and connection errors retried for
//!   idempotent calls only; every request counted ([`Client::calls`]) and
//!   an optional calls-per-30-days budget.
//! - **Brivo's quirks**: four error body shapes and HTML answers; 596 for a
//!   wrong path; name filters that match substrings (exact names are
//!   re-checked); duplicate group names reported; `externalId` sent as a
//!   string and read from a number; lenient date-times; bad records in a
//!   list skipped and reported, never fatal for the page.
//!
//! ```no_run
//! use brivo_client::{Client, Credentials, GroupQuery, UserQuery};
//! use futures::TryStreamExt;
//! use brivo_client::SecretString;
//!
//! # async fn run() -> Result<(), brivo_client::Error> {
//! let secret = |name: &str| SecretString::from(std::env::var(name).unwrap_or_default());
//! let client = Client::builder(Credentials::password(
//!     secret("BRIVO_API_KEY"),
//!     secret("BRIVO_CLIENT_ID"),
//!     secret("BRIVO_CLIENT_SECRET"),
//!     secret("BRIVO_USERNAME"), // the Administrator ID, not the e-mail
//!     secret("BRIVO_PASSWORD"),
//! ))
//! .rate_limit(5.0, 5)
//! .calls_per_30_days(100_000)
//! .build()?;
//!
//! // every user, page after page (100 per call)
//! let users = client.list_users(UserQuery::default()).collect_all().await?;
//! for skipped in &users.skipped {
//!     eprintln!("unreadable user record {:?}: {}", skipped.id, skipped.reason);
//! }
//!
//! // the group called exactly "Residents" (Brivo's filter is a substring match)
//! let residents = client.find_groups_by_name("Residents").await?.unique()?;
//! if let (Some(group), Some(user)) = (residents, users.items.first()) {
//!     // one atomic call per user, at most 16 groups
//!     client.change_groups(user.id, &[group.id], &[]).await?;
//!     let members: Vec<_> = client.group_members(group.id).items().try_collect().await?;
//!     println!("{} members", members.len());
//! }
//! println!("{} calls made, {:?} left", client.calls().calls, client.remaining_budget());
//! # Ok(()) }
//! ```
//!
//! Decoding needs no network; the models accept what Brivo really sends:
//!
//! ```
//! use brivo_client::User;
//!
//! // recorded from api.brivo.com: externalId sent as the number 1 came back as "1"
//! let user: User = serde_json::from_str(
//!     r#"{"id":15540776,"externalId":"1","firstName":"first","lastName":"last",
//!         "suspended":false,"customFields":[]}"#,
//! ).unwrap();
//! assert_eq!(user.external_id.as_deref(), Some("1"));
//! assert!(!user.is_suspended());
//! ```
//!
//! # Tracing
//!
//! Each call of a method is one `INFO` span, `http_request`, whatever its
//! retries: `otel.name = "brivo.<method>"` (e.g. `brivo.get_user`),
//! `service = "brivo"`, `operation`, `http.request.method`,
//! `server.address`, `url.path`, and at the end
//! `http.response.status_code`, `attempt` (attempts made) and `elapsed_ms`.
//! Inside it: `retrying` (`INFO`), `giving up` (`WARN`) and a closing
//! `INFO` event, `request done` or `request failed`, with the status,
//! attempts, elapsed time and error. OAuth token requests are spans of
//! their own (`operation = "oauth_token"`). No field carries a credential,
//! a token, a body or a query string. The fields are described in
//! [`access_http`'s crate docs](access_http#tracing); `DEBUG` adds the
//! client's own events (the token renewal on a 401, each answer).
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
#![forbid(unsafe_code)]

mod api;
mod client;
mod error;
mod models;
mod pagination;
#[cfg(test)]
mod proptests;

/// Compiles the README's examples as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use access_http::{CallSnapshot, RetryPolicy};
pub use api::account::Administrator;
pub use api::users::MAX_GROUPS_PER_USER;
pub use client::{Client, ClientBuilder, Credentials, Region, USER_AGENT};
pub use error::Error;
pub use models::common::{
    AccessPointId, CredentialId, CustomFieldId, GroupId, SensitiveString, SiteId, UserId,
    format_datetime, parse_datetime,
};
pub use models::credential::{
    Credential, CredentialFormatRef, CredentialQuery, CredentialStatus, CredentialWindow,
    DigitalInvitation, InvitationStatus, MobilePassInvitation,
};
pub use models::custom_field::{CustomField, CustomFieldType};
pub use models::group::{Group, GroupMatches, GroupQuery, MembershipChange};
pub use models::site::{AccessPoint, Address, Site};
pub use models::user::{
    CustomFieldValue, Email, NewUser, PhoneNumber, User, UserPatch, UserQuery, UserStatus,
};
pub use pagination::{Listing, MAX_PAGE_SIZE, Page, Paginator, SkippedRecord};
/// The `reqwest` this crate is built on, for
/// [`ClientBuilder::http_client`]: a client built with it is of the type
/// `http_client` takes, whatever `reqwest` your own `Cargo.toml` names.
pub use reqwest;
/// The `secrecy` this crate takes secrets with ([`SecretString`]), so that
/// you need not depend on it yourself.
pub use secrecy::{self, SecretString};
