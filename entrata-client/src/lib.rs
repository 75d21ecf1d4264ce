//! Typed async client for Entrata's JSON-RPC web services: the reads an
//! access-control integration needs (leases, customers, properties, units,
//! property time zones).
//!
//! # Getting started
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use entrata_client::{Client, LeaseStatus, LeasesRequest, PropertyId};
//!
//! # async fn run() -> Result<(), entrata_client::Error> {
//! // per-customer host, HTTP Basic auth: https://acme.entrata.com/api/v1/{service}
//! let client = Client::builder_basic("acme", "api-user", std::env::var("ENTRATA_PASSWORD").unwrap_or_default())
//!     .build()?;
//! // or the API gateway with a key: https://apis.entrata.com/ext/orgs/acme/v1/{service}
//! // let client = Client::builder_gateway("acme", api_key).build()?;
//!
//! let property = PropertyId(739084);
//! let zone = client.property_time_zone(property).await?; // e.g. Some(America/Chicago)
//! let request = LeasesRequest::new(property)
//!     .statuses([LeaseStatus::Future, LeaseStatus::Current, LeaseStatus::Notice]);
//! let mut leases = client.leases(&request); // lazy, page by page
//! while let Some(lease) = leases.try_next().await? {
//!     for customer in &lease.customers {
//!         println!(
//!             "lease {} {:?}: {} {:?} from {:?} to {:?} ({zone:?})",
//!             lease.id, lease.status(), customer.display_name(), customer.customer_type,
//!             lease.move_in_date, customer.move_out_date.or(lease.move_out_date),
//!         );
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # What it does for you
//!
//! - **The envelope.** Every call is a `POST` of
//!   `{"auth":{"type":…},"requestId":…,"method":{"name","version","params"}}` to
//!   `{base}/{service}`; replies are unwrapped from `{"response":{…}}`.
//!   Entrata's in-body errors become [`Error`] variants even when the HTTP
//!   status is 200 (113 → [`Error::Authentication`], 301 and 311 →
//!   [`Error::PermissionDenied`]). Only Entrata's known "no records"
//!   answers (`{"success": "No Records Found."}`, or a bare
//!   `"No records found ..."` sentence) are an empty result; any other
//!   answer without the method's data (another sentence, `[]`, `null`, an
//!   object without the expected key) is [`Error::UnexpectedResult`], so an
//!   odd reply can never read as "everyone moved out".
//! - **No lock-out.** After 3 refusals of the credentials in a row (code
//!   113, HTTP 401 or 403), calls fail locally with [`Error::AuthBlocked`]
//!   for 5 minutes instead of re-sending a wrong password or API key.
//! - **Tolerant decoding, strict where it matters.** Ids and amounts arrive as
//!   strings or numbers, flags as `0`/`"1"`/`"t"`/`true`, money as
//!   `"1,196.00"` or `"$0.00"` ([`Money`]), lists as one object, an array or
//!   an object keyed by id, values as `{"@attributes":…,"@value":…}`, dates as
//!   `MM/DD/YYYY` and timestamps as `MM/DD/YYYY HH:MM:SS.ffffff MDT`. Ids
//!   and dates must parse: a record with a bad one is skipped and reported
//!   in the response's `skipped` list ([`SkippedRecord`]: kind, id, parent,
//!   JSON path, reason); the rest of the response is still returned.
//! - **Replay without a network.** Each method has a marker type whose
//!   `decode` reads a saved body: [`GetLeases::decode`],
//!   [`GetCustomers::decode`], [`GetMitsPropertyUnits::decode`], ...
//! - **Pagination.** `getLeases` and `getLeaseDetails` r2 take
//!   `page_no`/`per_page` in the query string; [`Client::leases`] and
//!   [`Client::lease_pages`] are lazy streams, [`Client::all_leases`]
//!   collects them. A listing ends at `X-Total-Count` when the service
//!   sends it, else at an empty page (a short page is not trusted: a
//!   server-side page-size cap is detected and the listing re-read at the
//!   cap); anything that does not add up is [`Error::Pagination`]. The
//!   rules are on [`Client::leases`].
//! - **Rate limits and retries.** Calls go through an
//!   [`access_http::Pacer`]: a client-side limiter, and retries with
//!   jittered backoff of 429 (honouring `Retry-After`), 5xx and network
//!   errors within a [`RetryPolicy`]. Every method here is a read, so
//!   retrying is always safe. `X-RateLimit-*` headers (several buckets,
//!   per service) are parsed ([`Client::rate_limit`]) and the client slows
//!   down when a bucket runs low.
//! - **Time zones.** Entrata's dates are the property's local dates; its
//!   timestamps are Mountain time. The property's zone comes only from
//!   `getMitsPropertyUnits` ([`Client::property_time_zone`]), mapped from
//!   Entrata's Windows-style names to IANA zones by [`iana_time_zone`]
//!   (and Arizona's "Mountain" to `America/Phoenix` by [`zone_in_state`]).
//!   API users are often not granted that method: [`zone_for_address`]
//!   maps a property's state (and city, in split states) from
//!   `getProperties` to a zone instead, and returns `None` rather than
//!   guess.
//! - **Secrets.** Credentials are [`secrecy::SecretString`]s, the auth
//!   header is marked sensitive, and no `Debug`, `Display` or log line
//!   shows them.
//!
//! # Decoding a saved response
//!
//! ```
//! use entrata_client::{GetLeases, LeaseStatus};
//!
//! let body = br#"{"response":{"requestId":"15","code":200,"result":{"leases":{"lease":{
//!     "id":"13458104","leaseStatusTypeId":"5","propertyId":739084,
//!     "moveInDate":"08/16/2024","moveOutDate":"07/30/2025"}}}}}"#;
//! let page = GetLeases::decode(body)?;
//! assert_eq!(page.leases[0].status(), LeaseStatus::Notice);
//! assert_eq!(page.leases[0].move_out_date.unwrap().to_string(), "2025-07-30");
//! # Ok::<(), entrata_client::Error>(())
//! ```
//!
//! # Tracing
//!
//! Each call of a method is one `INFO` span, `http_request`, whatever its
//! retries: `otel.name = "entrata.<method>"` (e.g. `entrata.getLeases`),
//! `service = "entrata"`, `operation`, `http.request.method`,
//! `server.address`, `url.path`, and at the end
//! `http.response.status_code`, `attempt` (attempts made) and `elapsed_ms`.
//! Inside it: `retrying` (`INFO`), `giving up` (`WARN`) and a closing
//! `INFO` event, `request done` or `request failed`, with the status,
//! attempts, elapsed time and error. No field carries a credential, a
//! token, a body or a query string. The fields are described in
//! [`access_http`'s crate docs](access_http#tracing); `DEBUG` adds the
//! method version and page of each request.
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
mod customers;
mod de;
mod envelope;
mod error;
mod lease_details;
mod leases;
mod model;
mod properties;
mod rate_limit;
mod status;
mod units;
mod zones;

pub use access_http::{CallSnapshot, RetryPolicy};
pub use chrono_tz::Tz;
pub use client::{Client, ClientBuilder, ClientConfig, Credentials, DEFAULT_MAX_BODY_BYTES};
pub use customers::{
    CustomerAttributes, CustomerLease, Customers, CustomersRequest, GetCustomers,
    LeaseIdentification, LeaseIdentificationAttributes, PropertyCustomer,
};
pub use error::Error;
pub use lease_details::{
    ChargeInterval, DetailCharges, ExpiringLease, ExpiringLeases, ExpiringLeasesRequest,
    GetExpiringLeases, GetLeaseDetails, IdAttributes, LeaseDetail, LeaseDetails, LeaseDetailsPage,
    LeaseDetailsRequest, LeaseDetailsVersion, Resident,
};
pub use leases::{
    Address, Application, Customer, GetLeases, Lease, LeaseInterval, Leases, LeasesPage,
    LeasesRequest, LeasesVersion, Phone, ScheduledCharge, UnitSpace,
};
pub use model::{
    ApplicationId, BuildingId, CustomerId, CustomerType, FloorPlanId, InvalidMoney, LeaseId,
    LeaseIntervalId, LeaseIntervalType, LeaseStatus, Money, PropertyId, SkippedRecord, UnitId,
    UnitSpaceId, UnitTypeId,
};
pub use properties::{
    GetMitsPropertyUnits, GetProperties, IlsIdentification, LeaseTerm, MitsProperty,
    MitsPropertyUnits, MitsPropertyUnitsRequest, Properties, PropertiesRequest, Property,
    PropertyAddress, iana_time_zone, zone_in_state,
};
pub use rate_limit::{RateLimitBucket, RateLimitSnapshot, RatePeriod};
/// The `reqwest` this crate is built on, for
/// [`ClientBuilder::http_client`]: a client built with it is of the type
/// `http_client` takes, whatever `reqwest` your own `Cargo.toml` names.
pub use reqwest;
/// The `secrecy` this crate takes secrets with ([`SecretString`]), so that
/// you need not depend on it yourself.
pub use secrecy::{self, SecretString};
pub use status::{GetStatus, Status};
pub use units::{
    FloorplanKey, FloorplanKeyAttributes, GetPropertyUnits, GetUnitTypes, PropertyUnitSpace,
    PropertyUnits, PropertyUnitsRequest, Unit, UnitType, UnitTypeFloorplan, UnitTypeIdentification,
    UnitTypes, UnitsProperty,
};
pub use zones::zone_for_address;

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
