//! What kind of failure an error is ([`ErrorKind`]), shared by every error
//! the runner reports: [`BackendError`](crate::BackendError) (and so
//! [`Outcome::Failed`](crate::Outcome::Failed) and
//! [`SyncError::Observe`](crate::SyncError::Observe)) and
//! [`SourceError`](crate::SourceError).
//!
//! The kinds are classified from the clients' own errors
//! (`ErrorKind::from(&brivo_client::Error)`, and the same for
//! `entrata_client::Error` and `officernd_client::Error`), which already
//! redact every secret; the underlying client error stays reachable for
//! anything finer ([`BackendError::brivo`](crate::BackendError::brivo),
//! [`SourceError::downcast_ref`](crate::SourceError::downcast_ref)).
//!
//! ```
//! use access_sync::{BackendError, ErrorKind};
//!
//! let e = BackendError::from(brivo_client::Error::Throttled {
//!     method: "list_users",
//!     status: 429,
//!     retry_after: None,
//! });
//! match e.kind() {
//!     ErrorKind::Throttled => { /* back off, try again later */ }
//!     ErrorKind::Auth => { /* page an operator: credentials or permissions */ }
//!     _ => {}
//! }
//! assert!(e.is_throttle() && e.is_retryable() && !e.is_auth());
//! assert!(matches!(e.brivo(), Some(brivo_client::Error::Throttled { status: 429, .. })));
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What kind of failure an error is: the one thing callers branch on
/// (retry later, page an operator, fix the configuration, report a bug in
/// the data).
///
/// Serialized in `snake_case` (`"throttled"`, `"auth"`, ...) in reports and
/// the audit log; a kind this version does not know reads as
/// [`ErrorKind::Other`].
///
/// Classified from the clients' errors with `From`, in this order: a
/// throttle (the client's `is_throttle()`), an auth failure (`is_auth()`), a
/// 404, a retryable failure (`is_retryable()`: 5xx, connection errors and
/// timeouts), then by variant.
///
/// ```
/// use access_sync::ErrorKind;
///
/// let e = entrata_client::Error::RateLimited { method: "getLeases", status: 429, retry_after: None };
/// assert_eq!(ErrorKind::from(&e), ErrorKind::Throttled);
/// assert!(ErrorKind::Throttled.is_retryable());
/// assert_eq!(serde_json::to_string(&ErrorKind::Auth).unwrap(), r#""auth""#);
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The service asked to slow down (HTTP 429, Brivo's 403 "Developer
    /// Over Qps") and still did once the client's retries were spent.
    /// Retryable: back off and try again later.
    Throttled,
    /// The credentials or the permissions were refused (bad password or
    /// secret, an inactive API key, a missing scope, a property the API user
    /// is not granted, a plain 403), or an auth circuit breaker is open
    /// after repeated refusals. Not retryable until an operator fixes them.
    Auth,
    /// Transient: a 5xx, a connection failure, a timeout. Retryable.
    ///
    /// This includes a connection error after a Brivo `create_user` that
    /// may have taken effect, which the client itself does not retry: the
    /// runner looks the external id up before every create, so a later run
    /// may try again safely.
    Transient,
    /// The record does not exist (HTTP 404).
    NotFound,
    /// The service refused the request as given: a 4xx other than the
    /// above, an OfficeRnD business-rule 500, Brivo's 16-group cap, or an
    /// argument refused before anything was sent. The same request will be
    /// refused again.
    Rejected,
    /// A call quota or budget is spent: Brivo's 30-day quota ("Developer
    /// Over Rate") or a client's own call budget. Calls fail until it
    /// resets.
    Budget,
    /// The answer could not be read: a decoding failure, an unexpected
    /// result, an answer over the size cap, a misbehaving pagination, data
    /// the client cannot expand (a recurrence rule).
    Decode,
    /// The configuration is wrong: invalid settings, an insecure base URL, a
    /// redirect (never followed: it would resend the credentials), or
    /// Brivo's 596 "Service Not Found" (wrong base URL or region).
    Config,
    /// Anything else, or not classified (e.g. an error of your own source or
    /// backend built from a message alone).
    #[default]
    #[serde(other)]
    Other,
}

impl ErrorKind {
    /// `true` for [`Throttled`](Self::Throttled) and
    /// [`Transient`](Self::Transient): a later attempt may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Transient)
    }

    /// `true` for [`Throttled`](Self::Throttled).
    pub fn is_throttle(self) -> bool {
        self == ErrorKind::Throttled
    }

    /// `true` for [`Auth`](Self::Auth).
    pub fn is_auth(self) -> bool {
        self == ErrorKind::Auth
    }

    /// The kind's name as serialized, e.g. `"throttled"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Throttled => "throttled",
            ErrorKind::Auth => "auth",
            ErrorKind::Transient => "transient",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Budget => "budget",
            ErrorKind::Decode => "decode",
            ErrorKind::Config => "config",
            ErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Brivo: a throttle, an auth failure, a 404, a retryable failure, then by
/// variant (a spent quota or budget, a decode error, a configuration error,
/// a refused request). A connection error after a `create_user` that may
/// have taken effect is [`ErrorKind::Transient`] (see there).
impl From<&brivo_client::Error> for ErrorKind {
    fn from(e: &brivo_client::Error) -> Self {
        use brivo_client::Error as E;
        if e.is_throttle() {
            return ErrorKind::Throttled;
        }
        if e.is_auth() {
            return ErrorKind::Auth;
        }
        if e.is_not_found() {
            return ErrorKind::NotFound;
        }
        if e.is_retryable() {
            return ErrorKind::Transient;
        }
        match e {
            E::QuotaExceeded { .. } | E::CallBudgetExhausted { .. } => ErrorKind::Budget,
            E::Transport { .. } => ErrorKind::Transient,
            E::Decode { .. } | E::BodyTooLarge { .. } | E::Pagination { .. } => ErrorKind::Decode,
            E::Config { .. }
            | E::InsecureBaseUrl(_)
            | E::Redirected { .. }
            | E::ServiceNotFound { .. } => ErrorKind::Config,
            E::InvalidArgument { .. }
            | E::GroupLimitExceeded { .. }
            | E::DuplicateGroupName { .. }
            | E::Api { .. } => ErrorKind::Rejected,
            _ => ErrorKind::Other,
        }
    }
}

/// Entrata: a throttle, an auth failure (code 113, 301, 311, HTTP 401 or
/// 403), a 404, a retryable failure, then by variant.
impl From<&entrata_client::Error> for ErrorKind {
    fn from(e: &entrata_client::Error) -> Self {
        use entrata_client::Error as E;
        if e.is_throttle() {
            return ErrorKind::Throttled;
        }
        if e.is_auth() {
            return ErrorKind::Auth;
        }
        if e.status() == Some(404) {
            return ErrorKind::NotFound;
        }
        if e.is_retryable() {
            return ErrorKind::Transient;
        }
        match e {
            E::Decode { .. }
            | E::UnexpectedResult { .. }
            | E::BodyTooLarge { .. }
            | E::Pagination { .. } => ErrorKind::Decode,
            E::Config(_) | E::InsecureBaseUrl(_) | E::Redirected { .. } => ErrorKind::Config,
            E::InvalidRequest { .. } | E::Api { .. } => ErrorKind::Rejected,
            _ => ErrorKind::Other,
        }
    }
}

/// OfficeRnD: a throttle, an auth failure, a 404, a retryable failure, then
/// by variant (an API error that is none of these, e.g. a business-rule
/// 500, is [`ErrorKind::Rejected`]).
impl From<&officernd_client::Error> for ErrorKind {
    fn from(e: &officernd_client::Error) -> Self {
        use officernd_client::Error as E;
        if e.is_throttle() {
            return ErrorKind::Throttled;
        }
        if e.is_auth() {
            return ErrorKind::Auth;
        }
        if e.status() == Some(404) {
            return ErrorKind::NotFound;
        }
        if e.is_retryable() {
            return ErrorKind::Transient;
        }
        match e {
            E::Decode { .. }
            | E::BodyTooLarge { .. }
            | E::PaginationLoop { .. }
            | E::UnsupportedRecurrence { .. }
            | E::UnresolvableLocalTime { .. }
            | E::MissingTimezone { .. } => ErrorKind::Decode,
            E::Config { .. } | E::Redirected { .. } => ErrorKind::Config,
            E::Api { .. } => ErrorKind::Rejected,
            _ => ErrorKind::Other,
        }
    }
}

/// The error underneath an access-sync error, shared so that reports stay
/// cheap to clone.
#[derive(Clone)]
pub(crate) struct Cause(Arc<dyn StdError + Send + Sync + 'static>);

impl Cause {
    pub(crate) fn new(e: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Cause(Arc::from(e.into()))
    }

    pub(crate) fn get(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.0
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// How the access-sync errors relate to what they wrap, spelled out once:
/// their `Display` includes the underlying error's text (with context in
/// front), so `source()` returns *that error's* source, as
/// [`std::io::Error`] does for a wrapped error: a reporter walking the chain
/// prints each text once. The underlying error itself is `get_ref()`.
pub(crate) fn source_of(cause: Option<&Cause>) -> Option<&(dyn StdError + 'static)> {
    let inner: &(dyn StdError + 'static) = cause?.get();
    inner.source()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_kinds_read_as_other() {
        for k in [
            ErrorKind::Throttled,
            ErrorKind::Auth,
            ErrorKind::Transient,
            ErrorKind::NotFound,
            ErrorKind::Rejected,
            ErrorKind::Budget,
            ErrorKind::Decode,
            ErrorKind::Config,
            ErrorKind::Other,
        ] {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<ErrorKind>(&json).unwrap(), k);
        }
        assert_eq!(
            serde_json::from_str::<ErrorKind>(r#""from_the_future""#).unwrap(),
            ErrorKind::Other
        );
    }

    #[test]
    fn brivo_errors_are_classified() {
        use brivo_client::Error as E;
        let api = |status| E::Api {
            method: "m",
            status,
            code: None,
            message: None,
            retry_after: None,
        };
        let cases = [
            (
                E::Throttled {
                    method: "m",
                    status: 429,
                    retry_after: None,
                },
                ErrorKind::Throttled,
            ),
            (E::ApiKeyInactive { method: "m" }, ErrorKind::Auth),
            (api(403), ErrorKind::Auth),
            (api(404), ErrorKind::NotFound),
            (api(503), ErrorKind::Transient),
            (api(400), ErrorKind::Rejected),
            (E::QuotaExceeded { method: "m" }, ErrorKind::Budget),
            (
                E::CallBudgetExhausted {
                    method: "m",
                    budget: 1,
                    used: 1,
                },
                ErrorKind::Budget,
            ),
            (
                E::ServiceNotFound {
                    method: "m",
                    path: "/x".into(),
                },
                ErrorKind::Config,
            ),
            (
                E::Pagination {
                    method: "m",
                    message: "loop".into(),
                },
                ErrorKind::Decode,
            ),
        ];
        for (e, kind) in cases {
            assert_eq!(ErrorKind::from(&e), kind, "{e}");
        }
    }

    #[test]
    fn entrata_and_officernd_errors_are_classified() {
        use entrata_client::Error as En;
        let en = |status, code| En::Api {
            method: "getLeases",
            status,
            code,
            message: "x".into(),
        };
        assert_eq!(ErrorKind::from(&en(400, None)), ErrorKind::Rejected);
        assert_eq!(ErrorKind::from(&en(404, None)), ErrorKind::NotFound);
        let denied = En::PermissionDenied {
            method: "getLeases",
            status: 200,
            code: Some(301),
            message: "no".into(),
        };
        assert_eq!(ErrorKind::from(&denied), ErrorKind::Auth);
        let server = En::Server {
            method: "getLeases",
            status: 500,
            code: None,
            message: "x".into(),
        };
        assert_eq!(ErrorKind::from(&server), ErrorKind::Transient);
        let odd = En::UnexpectedResult {
            method: "getLeases",
            expected: "leases",
            found: "[]".into(),
        };
        assert_eq!(ErrorKind::from(&odd), ErrorKind::Decode);

        use officernd_client::Error as O;
        let o = |status| O::Api {
            method: "m",
            status,
            error: None,
            messages: vec![],
            retry_after: None,
        };
        assert_eq!(ErrorKind::from(&o(429)), ErrorKind::Throttled);
        assert_eq!(ErrorKind::from(&o(401)), ErrorKind::Auth);
        assert_eq!(ErrorKind::from(&o(404)), ErrorKind::NotFound);
        assert_eq!(ErrorKind::from(&o(502)), ErrorKind::Transient);
        assert_eq!(ErrorKind::from(&o(500)), ErrorKind::Rejected);
        assert_eq!(
            ErrorKind::from(&O::PaginationLoop {
                method: "m",
                pages: 3
            }),
            ErrorKind::Decode
        );
        assert_eq!(
            ErrorKind::from(&O::WebhookSignatureMismatch),
            ErrorKind::Other
        );
    }
}
