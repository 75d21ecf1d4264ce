//! Verifying and decoding OfficeRnD webhooks.
//!
//! OfficeRnD signs each delivery with the webhook's secret:
//!
//! ```text
//! officernd-signature: t=1700000000,signature=<hex>
//! hex = HMAC-SHA256(key = secret, message = raw body + "." + t)
//! ```
//!
//! [`WebhookVerifier`] checks the signature in constant time over the **raw
//! body bytes** (verify before parsing; never re-serialize) and rejects
//! timestamps further than a tolerance (default 300 s) from now, which stops
//! replays.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use officernd_client::webhook::{WebhookEventType, WebhookObject, WebhookVerifier, sign};
//! use secrecy::SecretString;
//!
//! let body = br#"{"event":"5f8d6c9747120500116899e4","eventType":"membership.updated",
//!   "data":{"object":{"_id":"603dfbc260f4054084125d30","startDate":"2026-01-01T00:00:00.000Z",
//!   "calculatedStatus":"active"}},"createdAt":"2026-11-23T10:00:00.000Z"}"#;
//! let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 5).unwrap();
//! let header = sign(b"whsec", body, now.timestamp() - 5); // what OfficeRnD sends
//!
//! let verifier = WebhookVerifier::new(SecretString::from("whsec"));
//! let event = verifier.verify_event_at(&header, body, now).unwrap();
//! assert_eq!(event.event_type, WebhookEventType::MembershipUpdated);
//! assert!(matches!(event.object, WebhookObject::Membership(_)));
//! ```

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

use crate::client::decode_value;
use crate::de;
use crate::error::{Error, Result};
use crate::models::{Booking, Member, Membership, Pass};

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "officernd-signature";

/// The default clock-skew tolerance.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], body: &[u8], t: &str) -> HmacSha256 {
    // HMAC takes keys of any length: this cannot fail
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(body);
    mac.update(b".");
    mac.update(t.as_bytes());
    mac
}

/// The `officernd-signature` value OfficeRnD would send for `body` at
/// Unix time `t` (for tests, sandboxes and replays).
pub fn sign(secret: &[u8], body: &[u8], t: i64) -> String {
    let t = t.to_string();
    let tag = mac(secret, body, &t).finalize().into_bytes();
    format!("t={t},signature={}", hex::encode(tag))
}

/// Verifies `officernd-signature` headers with one webhook secret.
#[derive(Clone)]
pub struct WebhookVerifier {
    secret: SecretString,
    tolerance: Duration,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secret", &"[redacted]")
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl WebhookVerifier {
    /// A verifier for the webhook's `secret` (returned when the webhook was
    /// created), with the default tolerance of 300 s.
    pub fn new(secret: SecretString) -> Self {
        Self {
            secret,
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Sets how far the signed timestamp may be from now, either way.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies `header` (the `officernd-signature` value) against the raw
    /// `body` at instant `now`.
    ///
    /// The header is parsed by key, not position (`t=…,signature=…`, spaces
    /// allowed); several `signature=` entries are accepted if any matches.
    pub fn verify_at(&self, header: &str, body: &[u8], now: DateTime<Utc>) -> Result<()> {
        let mut t = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            let Some((k, v)) = part.split_once('=') else {
                return Err(Error::WebhookHeader {
                    reason: "a part is not key=value",
                });
            };
            match k.trim() {
                "t" => t = Some(v.trim()),
                "signature" => signatures.push(v.trim()),
                _ => {}
            }
        }
        let t = t.ok_or(Error::WebhookHeader {
            reason: "no t= timestamp",
        })?;
        if signatures.is_empty() {
            return Err(Error::WebhookHeader {
                reason: "no signature= value",
            });
        }
        let seconds: i64 = t.parse().map_err(|_| Error::WebhookHeader {
            reason: "t= is not Unix seconds",
        })?;
        let timestamp = Utc
            .timestamp_opt(seconds, 0)
            .single()
            .ok_or(Error::WebhookHeader {
                reason: "t= is out of range",
            })?;
        let mut decoded = Vec::with_capacity(signatures.len());
        for s in signatures {
            decoded.push(hex::decode(s).map_err(|_| Error::WebhookHeader {
                reason: "signature= is not hex",
            })?);
        }
        let matched = decoded.iter().any(|sig| {
            mac(self.secret.expose_secret().as_bytes(), body, t)
                .verify_slice(sig)
                .is_ok()
        });
        if !matched {
            return Err(Error::WebhookSignatureMismatch);
        }
        let skew = (now - timestamp).num_seconds().unsigned_abs();
        if skew > self.tolerance.as_secs() {
            return Err(Error::WebhookTimestamp {
                timestamp,
                now,
                skew_seconds: (now - timestamp).num_seconds(),
                tolerance_seconds: self.tolerance.as_secs(),
            });
        }
        Ok(())
    }

    /// [`verify_at`](Self::verify_at) with the system clock.
    pub fn verify(&self, header: &str, body: &[u8]) -> Result<()> {
        self.verify_at(header, body, Utc::now())
    }

    /// Verifies, then decodes the event.
    pub fn verify_event_at(
        &self,
        header: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent> {
        self.verify_at(header, body, now)?;
        WebhookEvent::from_slice(body)
    }

    /// [`verify_event_at`](Self::verify_event_at) with the system clock.
    pub fn verify_event(&self, header: &str, body: &[u8]) -> Result<WebhookEvent> {
        self.verify_event_at(header, body, Utc::now())
    }
}

macro_rules! event_types {
    ($($variant:ident => $wire:literal),* $(,)?) => {
        /// A webhook event type (`eventType`). Unknown types are kept in `Other`.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum WebhookEventType {
            $(#[doc = concat!("`", $wire, "`")] $variant,)*
            /// Any other event type (kept verbatim).
            Other(String),
        }

        impl WebhookEventType {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(s) => s,
                }
            }
        }

        impl From<&str> for WebhookEventType {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)*
                    other => Self::Other(other.to_string()),
                }
            }
        }
    };
}

event_types! {
    MembershipCreated => "membership.created",
    MembershipUpdated => "membership.updated",
    MembershipRemoved => "membership.removed",
    BookingCreated => "booking.created",
    BookingUpdated => "booking.updated",
    BookingRemoved => "booking.removed",
    MemberCreated => "member.created",
    MemberUpdated => "member.updated",
    MemberRemoved => "member.removed",
    PassCreated => "pass.created",
    PassUpdated => "pass.updated",
    PassRemoved => "pass.removed",
}

impl fmt::Display for WebhookEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The entity a webhook is about (`data.object`), typed for the events the
/// access rules use.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookObject {
    /// `membership.*`
    Membership(Box<Membership>),
    /// `booking.*`
    Booking(Box<Booking>),
    /// `member.*`
    Member(Box<Member>),
    /// `pass.*`
    Pass(Box<Pass>),
    /// Any other event: the raw object.
    Other(serde_json::Value),
}

/// A decoded webhook delivery.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event id (`event`): deduplicate deliveries on it.
    pub id: String,
    /// The event type.
    pub event_type: WebhookEventType,
    /// When the event happened.
    pub created_at: Option<DateTime<Utc>>,
    /// The typed entity.
    pub object: WebhookObject,
    /// The whole `data` (context beside `object`, e.g. `company`).
    pub data: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    #[serde(default)]
    event: Option<String>,
    event_type: String,
    #[serde(default, deserialize_with = "de::opt_instant")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    data: serde_json::Value,
}

impl WebhookEvent {
    /// The `_id` of `data.object`, whatever its type (also for a
    /// `*.removed` event whose object did not decode).
    pub fn object_id(&self) -> Option<&str> {
        self.data
            .get("object")
            .and_then(|o| o.get("_id"))
            .and_then(serde_json::Value::as_str)
    }

    /// Decodes a delivery body (verify it first). An object that does not
    /// fit its type is an [`Error::Decode`] naming the JSON path, except in
    /// a `*.removed` event, where it is kept as [`WebhookObject::Other`]
    /// (see [`object_id`](Self::object_id)).
    pub fn from_slice(body: &[u8]) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| Error::Decode {
            method: "webhook",
            path: ".".into(),
            source: e,
        })?;
        let raw: RawEvent = decode_value(value).map_err(|(path, source)| Error::Decode {
            method: "webhook",
            path,
            source,
        })?;
        let event_type = WebhookEventType::from(raw.event_type.as_str());
        let object = raw
            .data
            .get("object")
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let typed = |prefix: &str| raw.event_type.starts_with(prefix);
        let fail = |(path, source): (String, serde_json::Error)| Error::Decode {
            method: "webhook",
            path: format!("data.object.{path}"),
            source,
        };
        let removed = raw.event_type.ends_with(".removed");
        let decoded = if typed("membership.") {
            decode_value(object.clone()).map(|m| WebhookObject::Membership(Box::new(m)))
        } else if typed("booking.") {
            decode_value(object.clone()).map(|b| WebhookObject::Booking(Box::new(b)))
        } else if typed("member.") && !typed("member.paymentdetails.") {
            decode_value(object.clone()).map(|m| WebhookObject::Member(Box::new(m)))
        } else if typed("pass.") {
            decode_value(object.clone()).map(|p| WebhookObject::Pass(Box::new(p)))
        } else {
            Ok(WebhookObject::Other(object.clone()))
        };
        let object = match decoded {
            Ok(o) => o,
            // a removed entity may arrive partial: its id is still usable
            Err(e) if removed => {
                tracing::debug!(event_type = %raw.event_type, path = %e.0, "removed object kept untyped");
                WebhookObject::Other(object)
            }
            Err(e) => return Err(fail(e)),
        };
        Ok(Self {
            id: raw.event.unwrap_or_default(),
            event_type,
            created_at: raw.created_at,
            object,
            data: raw.data,
        })
    }
}
