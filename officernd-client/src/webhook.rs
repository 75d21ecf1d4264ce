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
//! timestamps further than a tolerance (default 300 s) from now. Within that
//! window a captured delivery would still verify: [`ReplayGuard`] refuses an
//! event id seen before, and [`WebhookReceiver`] puts the three together
//! (body size cap, verification, decoding, replay check) for an endpoint.
//! The guard is in memory: after a restart, a delivery captured in the last
//! tolerance (300 s) can be replayed once more. Treat a webhook as a hint to
//! read again, never as access in itself; access-sync does, so such a
//! replay costs at most one extra read of OfficeRnD.
//!
//! Hostile input costs little: the header is capped at [`MAX_HEADER_BYTES`]
//! and [`MAX_SIGNATURES`] `signature=` entries, the receiver's body at
//! [`DEFAULT_MAX_BODY_BYTES`], all checked before any MAC work, and the MAC
//! is computed **once** per request whatever the number of candidates.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use officernd_client::webhook::{WebhookEventType, WebhookObject, WebhookVerifier, sign};
//! use officernd_client::SecretString;
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

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Mutex;
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

/// The most `signature=` entries a header may carry. OfficeRnD sends one;
/// a few leave room for secret rotation. More is refused before any MAC
/// work, so a header cannot make verification cost more.
pub const MAX_SIGNATURES: usize = 8;

/// The longest `officernd-signature` header accepted, in bytes (room for
/// [`MAX_SIGNATURES`] entries with spaces).
pub const MAX_HEADER_BYTES: usize = 1024;

/// The default cap on a webhook body for [`WebhookReceiver`] (1 MiB; an
/// OfficeRnD event is a few KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// The default number of event ids a [`ReplayGuard`] remembers at once.
pub const DEFAULT_REPLAY_CAPACITY: usize = 10_000;

type HmacSha256 = Hmac<Sha256>;

#[cfg(test)]
thread_local! {
    // counts MAC computations so tests can prove one per request
    static MACS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn tag(secret: &[u8], body: &[u8], t: &str) -> [u8; 32] {
    #[cfg(test)]
    MACS.with(|m| m.set(m.get() + 1));
    // HMAC takes keys of any length, so this never fails
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(body);
    mac.update(b".");
    mac.update(t.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Compares in time independent of where the bytes differ (lengths are
/// public: every valid tag is 32 bytes).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The `officernd-signature` value OfficeRnD would send for `body` at
/// Unix time `t` (for tests, sandboxes and replays).
pub fn sign(secret: &[u8], body: &[u8], t: i64) -> String {
    let t = t.to_string();
    format!("t={t},signature={}", hex::encode(tag(secret, body, &t)))
}

/// Verifies `officernd-signature` headers with one webhook secret.
#[derive(Clone)]
pub struct WebhookVerifier {
    secret: SecretString,
    tolerance: Duration,
    max_body_bytes: usize,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secret", &"[redacted]")
            .field("tolerance", &self.tolerance)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

impl WebhookVerifier {
    /// A verifier for the webhook's `secret` (returned when the webhook was
    /// created), with the default tolerance of 300 s and a body cap of
    /// [`DEFAULT_MAX_BODY_BYTES`].
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Self {
            secret: secret.into(),
            tolerance: DEFAULT_TOLERANCE,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// Sets the largest body, in bytes, that is hashed at all; a larger one
    /// is refused before any MAC work ([`Error::WebhookBodyTooLarge`]).
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Sets how far the signed timestamp may be from now, either way.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// How far the signed timestamp may be from now, either way.
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Verifies `header` (the `officernd-signature` value) against the raw
    /// `body` at instant `now`.
    ///
    /// The header is parsed by key, not position (`t=…,signature=…`, spaces
    /// allowed); up to [`MAX_SIGNATURES`] `signature=` entries are accepted
    /// if any matches. The MAC is computed once and compared with each entry
    /// in constant time. A body over the cap
    /// ([`with_max_body_bytes`](Self::with_max_body_bytes)) is refused
    /// before anything else; still cap what your HTTP server reads, since
    /// this sees the body only once it is in memory.
    ///
    /// # Errors
    /// [`Error::WebhookBodyTooLarge`], then [`Error::WebhookHeader`]
    /// (malformed, longer than [`MAX_HEADER_BYTES`] or more than
    /// [`MAX_SIGNATURES`] entries), then [`Error::WebhookSignatureMismatch`],
    /// then [`Error::WebhookTimestamp`].
    pub fn verify_at(&self, header: &str, body: &[u8], now: DateTime<Utc>) -> Result<()> {
        // An empty secret (a variable left unset) would let anyone sign:
        // nothing verifies against it.
        if self.secret.expose_secret().is_empty() {
            return Err(Error::WebhookSignatureMismatch);
        }
        if body.len() > self.max_body_bytes {
            return Err(Error::WebhookBodyTooLarge {
                len: body.len(),
                limit: self.max_body_bytes,
            });
        }
        if header.len() > MAX_HEADER_BYTES {
            return Err(Error::WebhookHeader {
                reason: "longer than 1024 bytes (MAX_HEADER_BYTES); OfficeRnD sends about 80",
            });
        }
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
                "signature" => {
                    if signatures.len() == MAX_SIGNATURES {
                        return Err(Error::WebhookHeader {
                            reason: "more than 8 signature= entries (MAX_SIGNATURES); OfficeRnD sends one",
                        });
                    }
                    signatures.push(v.trim());
                }
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
        // one MAC per request, however many candidates
        let expected = tag(self.secret.expose_secret().as_bytes(), body, t);
        let matched = decoded
            .iter()
            .fold(false, |any, sig| any | constant_time_eq(&expected, sig));
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
            source: access_http::DecodeError::new(&e, &[]),
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
        let fail = |(path, source): (String, access_http::DecodeError)| Error::Decode {
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

/// Why [`WebhookReceiver`] or [`ReplayGuard`] refused a delivery.
///
/// Suggested HTTP answers: `413` for [`BodyTooLarge`](Self::BodyTooLarge),
/// `200` (already handled) for [`Replayed`](Self::Replayed), `503` for
/// [`GuardFull`](Self::GuardFull) (OfficeRnD may deliver again later),
/// `400`/`401` otherwise. None of them contains the secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The body is larger than the receiver accepts; refused before any
    /// MAC work. Raise the cap with
    /// [`WebhookReceiver::with_max_body_bytes`] if real events are this big.
    #[error(
        "webhook body is {len} bytes, over the limit of {limit} bytes (raise it with WebhookReceiver::with_max_body_bytes)"
    )]
    BodyTooLarge {
        /// The body's length.
        len: usize,
        /// The cap.
        limit: usize,
    },
    /// This event id was accepted before, within the replay window: a
    /// replay (or a duplicate delivery, already handled).
    #[error(
        "webhook event {event_id} was already accepted within the last {window_seconds} s: refused as a replay"
    )]
    Replayed {
        /// The event id (`event`), not a secret.
        event_id: String,
        /// How long ids are remembered.
        window_seconds: u64,
    },
    /// A verified event has no `event` id, so a replay of it could not be
    /// recognised.
    #[error("webhook event has no `event` id: cannot be checked for replay, refused")]
    MissingEventId,
    /// The guard already remembers `capacity` unexpired ids; the event is
    /// refused rather than forgetting one (which would let it be replayed).
    /// Raise the capacity if this many events really arrive in the window.
    #[error(
        "webhook replay guard is full ({capacity} events within the window): refused; raise ReplayGuard capacity if this traffic is genuine"
    )]
    GuardFull {
        /// The guard's capacity.
        capacity: usize,
    },
    /// The signature, header, timestamp or body did not verify or decode.
    #[error(transparent)]
    Verify(#[from] Error),
}

#[derive(Debug, Default)]
struct Seen {
    expiry: HashMap<String, DateTime<Utc>>,
    // ordered by expiry, so expired ids are dropped from the front
    by_expiry: BTreeSet<(DateTime<Utc>, String)>,
}

impl Seen {
    fn purge(&mut self, now: DateTime<Utc>) {
        while let Some((at, _)) = self.by_expiry.first() {
            if *at > now {
                break;
            }
            if let Some((_, id)) = self.by_expiry.pop_first() {
                self.expiry.remove(&id);
            }
        }
    }
}

/// Remembers the ids of accepted webhook events for the replay window, so
/// a delivery captured and re-sent within the verifier's tolerance is
/// refused.
///
/// A signed request verifies while `|now − t| ≤ tolerance`, so its id is
/// kept for twice the tolerance after it was first seen (it cannot verify
/// after that). Memory is bounded: at most `capacity` ids; when full of
/// unexpired ids a new event is refused ([`WebhookError::GuardFull`])
/// rather than an id forgotten. Use it **after** verification, so only
/// OfficeRnD can fill it. In memory only: one guard per process, shared
/// (it is `Sync`); a restart forgets the ids, as does a second replica, so
/// there a delivery still within the tolerance can be replayed once.
#[derive(Debug)]
pub struct ReplayGuard {
    window: Duration,
    capacity: usize,
    seen: Mutex<Seen>,
}

impl ReplayGuard {
    /// A guard for a verifier with `tolerance`, remembering at most
    /// `capacity` ids (at least one).
    pub fn new(tolerance: Duration, capacity: usize) -> Self {
        Self {
            window: tolerance.saturating_mul(2),
            capacity: capacity.max(1),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// How many unexpired ids are remembered (expired ones are dropped on
    /// the next [`admit_at`](Self::admit_at)).
    pub fn len(&self) -> usize {
        self.lock().expiry.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records `event_id` as accepted at `now`, or refuses it if it was
    /// accepted within the window.
    ///
    /// # Errors
    /// [`WebhookError::Replayed`], [`WebhookError::MissingEventId`] (empty
    /// id), [`WebhookError::GuardFull`].
    pub fn admit_at(
        &self,
        event_id: &str,
        now: DateTime<Utc>,
    ) -> std::result::Result<(), WebhookError> {
        if event_id.is_empty() {
            return Err(WebhookError::MissingEventId);
        }
        let mut seen = self.lock();
        seen.purge(now);
        if seen.expiry.contains_key(event_id) {
            return Err(WebhookError::Replayed {
                event_id: event_id.to_owned(),
                window_seconds: self.window.as_secs(),
            });
        }
        if seen.expiry.len() >= self.capacity {
            return Err(WebhookError::GuardFull {
                capacity: self.capacity,
            });
        }
        let window = chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX);
        let expiry = now
            .checked_add_signed(window)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        seen.expiry.insert(event_id.to_owned(), expiry);
        seen.by_expiry.insert((expiry, event_id.to_owned()));
        Ok(())
    }

    /// [`admit_at`](Self::admit_at) with the system clock.
    ///
    /// # Errors
    /// As [`admit_at`](Self::admit_at).
    pub fn admit(&self, event_id: &str) -> std::result::Result<(), WebhookError> {
        self.admit_at(event_id, Utc::now())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        // the set stays consistent even if a holder panicked
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Everything a webhook endpoint needs, in the safe order: cap the body,
/// verify the signature (one MAC), decode, refuse a replayed event id.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use officernd_client::webhook::{WebhookError, WebhookReceiver, WebhookVerifier, sign};
/// use officernd_client::SecretString;
///
/// let receiver = WebhookReceiver::new(WebhookVerifier::new(SecretString::from("whsec")));
/// let body = br#"{"event":"e1","eventType":"company.updated","data":{"object":{}}}"#;
/// let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
/// let header = sign(b"whsec", body, now.timestamp());
/// let event = receiver.receive_at(&header, body, now).unwrap();
/// assert_eq!(event.id, "e1");
/// // the same delivery again is a replay
/// assert!(matches!(receiver.receive_at(&header, body, now), Err(WebhookError::Replayed { .. })));
/// ```
#[derive(Debug)]
pub struct WebhookReceiver {
    verifier: WebhookVerifier,
    guard: ReplayGuard,
    max_body_bytes: usize,
}

impl WebhookReceiver {
    /// A receiver with a body cap of [`DEFAULT_MAX_BODY_BYTES`] and a
    /// [`ReplayGuard`] of [`DEFAULT_REPLAY_CAPACITY`] ids over the
    /// verifier's tolerance.
    pub fn new(verifier: WebhookVerifier) -> Self {
        let guard = ReplayGuard::new(verifier.tolerance(), DEFAULT_REPLAY_CAPACITY);
        Self {
            verifier,
            guard,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// Sets the body cap, in bytes (the verifier's too).
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self.verifier = self.verifier.with_max_body_bytes(limit);
        self
    }

    /// Replaces the replay guard (e.g. another capacity).
    pub fn with_replay_guard(mut self, guard: ReplayGuard) -> Self {
        self.guard = guard;
        self
    }

    /// Checks and decodes one delivery at `now`.
    ///
    /// # Errors
    /// [`WebhookError::BodyTooLarge`] (before any MAC work),
    /// [`WebhookError::Verify`], then the replay guard's errors.
    pub fn receive_at(
        &self,
        header: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> std::result::Result<WebhookEvent, WebhookError> {
        if body.len() > self.max_body_bytes {
            return Err(WebhookError::BodyTooLarge {
                len: body.len(),
                limit: self.max_body_bytes,
            });
        }
        let event = self.verifier.verify_event_at(header, body, now)?;
        self.guard.admit_at(&event.id, now)?;
        Ok(event)
    }

    /// [`receive_at`](Self::receive_at) with the system clock.
    ///
    /// # Errors
    /// As [`receive_at`](Self::receive_at).
    pub fn receive(
        &self,
        header: &str,
        body: &[u8],
    ) -> std::result::Result<WebhookEvent, WebhookError> {
        self.receive_at(header, body, Utc::now())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code: a panic is a failure
mod tests {

    #[test]
    fn an_empty_secret_verifies_nothing() {
        let body = br#"{"event":"e1","eventType":"company.updated","data":{"object":{}}}"#;
        let now = Utc::now();
        // signed with the empty key, as an attacker who guessed the variable was unset would
        let header = sign(b"", body, now.timestamp());
        let verifier = WebhookVerifier::new(SecretString::from(""));
        assert!(matches!(
            verifier.verify_at(&header, body, now),
            Err(Error::WebhookSignatureMismatch)
        ));
    }

    use super::*;

    const SECRET: &str = "whsec";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
    }

    fn verifier() -> WebhookVerifier {
        WebhookVerifier::new(SecretString::from(SECRET))
    }

    fn macs_during(f: impl FnOnce()) -> usize {
        let before = MACS.with(std::cell::Cell::get);
        f();
        MACS.with(std::cell::Cell::get) - before
    }

    fn body(id: &str) -> Vec<u8> {
        format!(r#"{{"event":"{id}","eventType":"company.updated","data":{{"object":{{}}}}}}"#)
            .into_bytes()
    }

    #[test]
    fn a_thousand_signature_entries_cost_at_most_one_mac() {
        let body = body("e1");
        let t = now().timestamp();
        let wrong = format!(",signature={}", "0".repeat(64)).repeat(1000);
        let header = format!("t={t}{wrong}");
        let mut result = None;
        let macs = macs_during(|| result = Some(verifier().verify_at(&header, &body, now())));
        assert!(macs <= 1, "{macs} MACs for 1,000 entries");
        assert!(matches!(result, Some(Err(Error::WebhookHeader { .. }))));
    }

    #[test]
    fn the_most_entries_allowed_cost_exactly_one_mac_and_any_may_match() {
        let body = body("e1");
        let t = now().timestamp();
        let good = sign(SECRET.as_bytes(), &body, t);
        let good_sig = good.split_once("signature=").unwrap().1;
        let mut parts = vec![format!("t={t}")];
        parts.extend((1..MAX_SIGNATURES).map(|_| format!("signature={}", "0".repeat(64))));
        parts.push(format!("signature={good_sig}"));
        let header = parts.join(",");
        let macs = macs_during(|| verifier().verify_at(&header, &body, now()).unwrap());
        assert_eq!(macs, 1);
        // all wrong: still one MAC, and a mismatch
        let wrong = header.replace(good_sig, &"1".repeat(64));
        let mut result = None;
        let macs = macs_during(|| result = Some(verifier().verify_at(&wrong, &body, now())));
        assert_eq!(macs, 1);
        assert!(matches!(result, Some(Err(Error::WebhookSignatureMismatch))));
    }

    #[test]
    fn a_body_over_the_verifiers_cap_is_refused_before_any_mac() {
        let body = body("e1");
        let t = now().timestamp();
        let header = sign(SECRET.as_bytes(), &body, t);
        let small = verifier().with_max_body_bytes(body.len() - 1);
        let mut result = None;
        let macs = macs_during(|| result = Some(small.verify_at(&header, &body, now())));
        assert_eq!(macs, 0);
        match result {
            Some(Err(e @ Error::WebhookBodyTooLarge { .. })) => {
                assert!(e.to_string().contains("with_max_body_bytes"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        // at the cap exactly it verifies
        let exact = verifier().with_max_body_bytes(body.len());
        assert!(exact.verify_at(&header, &body, now()).is_ok());
        // the default cap is DEFAULT_MAX_BODY_BYTES
        let big = vec![b' '; DEFAULT_MAX_BODY_BYTES + 1];
        let header = sign(SECRET.as_bytes(), &big, t);
        assert!(matches!(
            verifier().verify_at(&header, &big, now()),
            Err(Error::WebhookBodyTooLarge { .. })
        ));
    }

    #[test]
    fn one_entry_over_the_cap_is_refused_before_any_mac() {
        let body = body("e1");
        let short = format!("signature={}", "ab");
        let header = format!("t=1,{}", vec![short; MAX_SIGNATURES + 1].join(","));
        let mut result = None;
        let macs = macs_during(|| result = Some(verifier().verify_at(&header, &body, now())));
        assert_eq!(macs, 0);
        match result {
            Some(Err(e @ Error::WebhookHeader { .. })) => {
                assert!(
                    e.to_string().contains("more than 8 signature= entries"),
                    "{e}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            format!("{MAX_SIGNATURES}") == "8",
            "update the error text with the limit"
        );
    }

    #[test]
    fn an_overlong_header_is_refused_naming_the_limit() {
        let header = format!("t=1,x={}", "a".repeat(MAX_HEADER_BYTES));
        let e = verifier().verify_at(&header, b"{}", now()).unwrap_err();
        assert!(e.to_string().contains("1024 bytes"), "{e}");
        assert_eq!(
            MAX_HEADER_BYTES, 1024,
            "update the error text with the limit"
        );
    }

    #[test]
    fn an_oversize_body_is_refused_before_any_mac() {
        let receiver = WebhookReceiver::new(verifier()).with_max_body_bytes(16);
        let body = body("e1");
        let header = sign(SECRET.as_bytes(), &body, now().timestamp());
        let mut result = None;
        let macs = macs_during(|| result = Some(receiver.receive_at(&header, &body, now())));
        assert_eq!(macs, 0);
        let e = result.unwrap().unwrap_err();
        assert!(
            matches!(e, WebhookError::BodyTooLarge { limit: 16, .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("limit of 16 bytes"), "{e}");
    }

    #[test]
    fn a_fresh_event_is_accepted_and_its_replay_refused() {
        let receiver = WebhookReceiver::new(verifier());
        let body = body("e1");
        let header = sign(SECRET.as_bytes(), &body, now().timestamp());
        assert_eq!(receiver.receive_at(&header, &body, now()).unwrap().id, "e1");
        let later = now() + chrono::Duration::seconds(100);
        let e = receiver.receive_at(&header, &body, later).unwrap_err();
        assert!(matches!(&e, WebhookError::Replayed { event_id, .. } if event_id == "e1"));
        assert!(e.to_string().contains("replay"), "{e}");
        assert!(!e.to_string().contains(SECRET));
        // another event is fine
        let other = self::body("e2");
        let header = sign(SECRET.as_bytes(), &other, now().timestamp());
        receiver.receive_at(&header, &other, later).unwrap();
    }

    #[test]
    fn a_bad_signature_is_not_remembered() {
        let receiver = WebhookReceiver::new(verifier());
        let body = body("e1");
        let forged = sign(b"not the secret", &body, now().timestamp());
        assert!(matches!(
            receiver.receive_at(&forged, &body, now()),
            Err(WebhookError::Verify(Error::WebhookSignatureMismatch))
        ));
        let header = sign(SECRET.as_bytes(), &body, now().timestamp());
        receiver.receive_at(&header, &body, now()).unwrap();
    }

    #[test]
    fn ids_expire_after_twice_the_tolerance() {
        let guard = ReplayGuard::new(Duration::from_secs(300), 10);
        guard.admit_at("e1", now()).unwrap();
        assert!(
            guard
                .admit_at("e1", now() + chrono::Duration::seconds(599))
                .is_err()
        );
        guard
            .admit_at("e1", now() + chrono::Duration::seconds(600))
            .unwrap();
        // e1 re-admitted; nothing else kept
        assert_eq!(guard.len(), 1);
    }

    #[test]
    fn a_full_guard_refuses_rather_than_forgets_and_frees_on_expiry() {
        let guard = ReplayGuard::new(Duration::from_secs(300), 2);
        guard.admit_at("a", now()).unwrap();
        guard.admit_at("b", now()).unwrap();
        let e = guard.admit_at("c", now()).unwrap_err();
        assert!(matches!(e, WebhookError::GuardFull { capacity: 2 }));
        assert!(e.to_string().contains("raise ReplayGuard capacity"), "{e}");
        assert!(matches!(
            guard.admit_at("a", now()),
            Err(WebhookError::Replayed { .. })
        ));
        guard
            .admit_at("c", now() + chrono::Duration::seconds(601))
            .unwrap();
        assert_eq!(guard.len(), 1);
    }

    #[test]
    fn an_event_without_id_is_refused() {
        let guard = ReplayGuard::new(DEFAULT_TOLERANCE, 10);
        assert!(matches!(
            guard.admit_at("", now()),
            Err(WebhookError::MissingEventId)
        ));
        assert!(guard.is_empty());
    }

    #[test]
    fn extreme_tolerances_and_instants_do_not_panic() {
        let guard = ReplayGuard::new(Duration::MAX, 0);
        guard.admit_at("a", DateTime::<Utc>::MAX_UTC).unwrap();
        assert!(guard.admit_at("a", DateTime::<Utc>::MIN_UTC).is_err());
    }
}
