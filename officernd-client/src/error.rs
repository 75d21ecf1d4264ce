//! The crate's one error type.

use std::time::Duration;

use access_http::{RetryDecision, Retryable};
use chrono::{DateTime, Utc};

/// Everything that can go wrong talking to OfficeRnD, expanding a
/// recurrence or verifying a webhook.
///
/// Errors name the client method (`method`, e.g. `"list_memberships"`), the
/// HTTP status and OfficeRnD's own `error`/`message` where there is one. They
/// never contain a secret: not the client secret, not an access token, not a
/// webhook secret.
///
/// Which errors are retried (by the client itself, under its
/// [`RetryPolicy`](access_http::RetryPolicy)) is decided by
/// [`Error::is_retryable`]: HTTP 429, 502, 503 and 504 and connection
/// errors/timeouts. A plain **500 is not retried**: OfficeRnD answers 500 for
/// business-rule violations and unknown organizations, which a retry cannot
/// fix. Every remote call this crate makes is a read (`GET`) or the token
/// request, so retrying after a connection error is always safe.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is unusable (bad URL, plain HTTP to a
    /// non-loopback host, an HTTP client that could not be built).
    #[error("invalid OfficeRnD client configuration: {reason}")]
    Config {
        /// What is wrong, in words.
        reason: String,
    },

    /// The token endpoint refused or failed the client-credentials grant.
    ///
    /// A `400`/`401` here usually means a wrong client id/secret, or a scope
    /// the application was not granted (one ungranted scope fails the whole
    /// token request).
    #[error(
        "OfficeRnD token request failed{}: {message}{}",
        status.map(|s| format!(" with HTTP {s}")).unwrap_or_default(),
        error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
    )]
    Auth {
        /// HTTP status of the token endpoint, if it answered.
        status: Option<u16>,
        /// The OAuth/NestJS `error` code, if any.
        error: Option<String>,
        /// What went wrong, in words.
        message: String,
        /// Whether another attempt may succeed (429, 502-504, network).
        retryable: bool,
        /// The underlying transport error, if any.
        #[source]
        source: Option<reqwest::Error>,
    },

    /// The API answered 401 twice: once with the cached token, once more
    /// with a freshly fetched token.
    ///
    /// OfficeRnD answers 401 (not 403) when the token lacks the scope an
    /// endpoint needs, so this most often means the application or the
    /// configured scopes do not include `required_scope`.
    #[error(
        "{method}: OfficeRnD answered 401 Unauthorized even with a fresh token ({message}); \
         OfficeRnD also answers 401 when the token lacks a scope: this call needs `{required_scope}`"
    )]
    Unauthorized {
        /// The client method.
        method: &'static str,
        /// The scope the endpoint needs.
        required_scope: &'static str,
        /// OfficeRnD's message.
        message: String,
    },

    /// OfficeRnD answered with an error status (NestJS error body).
    #[error(
        "{method}: OfficeRnD answered HTTP {status}{}: {}",
        error.as_deref().map(|e| format!(" {e}")).unwrap_or_default(),
        if messages.is_empty() { "(no message)".to_string() } else { messages.join("; ") }
    )]
    Api {
        /// The client method.
        method: &'static str,
        /// HTTP status.
        status: u16,
        /// NestJS `error` (e.g. `"Bad Request"`), if present.
        error: Option<String>,
        /// NestJS `message`: one string or the validation messages.
        messages: Vec<String>,
        /// How long the server asked us to wait (429), if it said.
        retry_after: Option<Duration>,
    },

    /// OfficeRnD (or something posing as it) answered with a redirect. It
    /// is not followed: the redirect would carry the client secret or the
    /// bearer token to wherever `Location` points.
    #[error(
        "{method}: OfficeRnD answered with a {redirect}, which is not followed (it would resend the credentials); check the API URL and token URL"
    )]
    Redirected {
        /// The client method (`"oauth_token"` for the token endpoint).
        method: &'static str,
        /// HTTP status.
        status: u16,
        /// Status and target host, e.g. `HTTP 307 redirect to host evil.test`.
        redirect: String,
    },

    /// A successful answer larger than this client reads for the call.
    #[error("{method}: {source}")]
    BodyTooLarge {
        /// The client method.
        method: &'static str,
        /// The cap that was exceeded.
        #[source]
        source: access_http::BodyError,
    },

    /// Authentication failed several times in a row (the token endpoint
    /// refused the credentials, or the API refused fresh tokens); no token
    /// is requested until the cool-down ends.
    #[error("OfficeRnD: {0}")]
    AuthBlocked(access_http::AuthBlocked),

    /// The request never got an answer: connection refused or reset, DNS,
    /// TLS, or a timeout.
    #[error("{method}: could not reach OfficeRnD{}", if *timeout { " (timed out)" } else { "" })]
    Transport {
        /// The client method.
        method: &'static str,
        /// Whether it was a timeout.
        timeout: bool,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },

    /// The answer was not the JSON shape expected.
    #[error("{method}: could not decode OfficeRnD's answer at `{path}`")]
    Decode {
        /// The client method (or `"webhook"`).
        method: &'static str,
        /// JSON path of the offending value (`.` for the document itself).
        path: String,
        /// The decoder's message, without the values it quoted (which
        /// may be anything OfficeRnD sent back, a secret included).
        #[source]
        source: access_http::DecodeError,
    },

    /// The server kept handing out a pagination cursor it had already given:
    /// the listing was stopped rather than looping for ever.
    #[error(
        "{method}: pagination loop: OfficeRnD repeated the cursor of an earlier page (after {pages} pages)"
    )]
    PaginationLoop {
        /// The client method.
        method: &'static str,
        /// Pages fetched before the repeat was seen.
        pages: usize,
    },

    /// A booking's recurrence rule uses something this crate does not
    /// expand (see [`crate::recurrence`]); the booking is not guessed at.
    #[error("booking {booking}: recurrence rule `{rule}` is not supported: {reason}")]
    UnsupportedRecurrence {
        /// The booking.
        booking: String,
        /// The rule as received.
        rule: String,
        /// Why it is not supported.
        reason: String,
    },

    /// A local date or time could not be placed on the time line in a zone
    /// (outside the zone data's range).
    #[error("local time {local} cannot be resolved in {zone}")]
    UnresolvableLocalTime {
        /// The local date-time.
        local: chrono::NaiveDateTime,
        /// The IANA zone.
        zone: String,
    },

    /// A booking without a time zone needs one to expand its recurrence.
    #[error("booking {booking} has no usable time zone to expand its recurrence in")]
    MissingTimezone {
        /// The booking.
        booking: String,
    },

    /// The `officernd-signature` header is missing parts or malformed.
    #[error("webhook signature header is malformed: {reason}")]
    WebhookHeader {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The webhook body is over the verifier's cap; refused before any MAC
    /// work. Raise it with `WebhookVerifier::with_max_body_bytes` if real
    /// events are this big.
    #[error(
        "webhook body is {len} bytes, over the verifier's limit of {limit} bytes (raise it with WebhookVerifier::with_max_body_bytes)"
    )]
    WebhookBodyTooLarge {
        /// The body's length.
        len: usize,
        /// The cap.
        limit: usize,
    },

    /// The webhook signature does not match the body: wrong secret, or the
    /// body was altered (or re-serialized: sign the raw bytes).
    #[error("webhook signature does not match the body")]
    WebhookSignatureMismatch,

    /// The webhook's timestamp is too far from now (a replay, or a clock
    /// problem).
    #[error(
        "webhook timestamp {timestamp} is {skew_seconds} s away from now ({now}), beyond the tolerance of {tolerance_seconds} s"
    )]
    WebhookTimestamp {
        /// The signed timestamp.
        timestamp: DateTime<Utc>,
        /// The verifier's clock.
        now: DateTime<Utc>,
        /// |now - timestamp| in seconds.
        skew_seconds: i64,
        /// The tolerance in seconds.
        tolerance_seconds: u64,
    },
}

/// Shorthand for `Result<T, officernd_client::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status OfficeRnD answered with, if this error came from an
    /// answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Auth { status, .. } => *status,
            Error::Unauthorized { .. } => Some(401),
            Error::Redirected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the client retries this error (see the type's docs): exactly
    /// the client's own retry classification ([`Retryable::retry_decision`]
    /// is not [`DoNotRetry`](RetryDecision::DoNotRetry)).
    ///
    /// ```
    /// use officernd_client::Error;
    ///
    /// let api = |status| Error::Api { method: "list_members", status, error: None, messages: vec![], retry_after: None };
    /// assert!(api(503).is_retryable());
    /// // OfficeRnD answers 500 for business-rule violations: not retried
    /// assert!(!api(500).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        !matches!(self.retry_decision(), RetryDecision::DoNotRetry)
    }

    /// `true` when OfficeRnD asked the client to slow down (HTTP 429 from
    /// the API or the token endpoint) and was still doing so once the retry
    /// policy was spent. Every throttle [`is_retryable`](Self::is_retryable):
    /// back off (honour [`retry_after`](Self::retry_after)) and try again
    /// later.
    ///
    /// ```
    /// use std::time::Duration;
    /// use officernd_client::Error;
    ///
    /// let e = Error::Api {
    ///     method: "list_members", status: 429, error: Some("Too Many Requests".into()),
    ///     messages: vec![], retry_after: Some(Duration::from_secs(3)),
    /// };
    /// assert!(e.is_throttle() && e.is_retryable());
    /// ```
    pub fn is_throttle(&self) -> bool {
        matches!(
            self,
            Error::Api { status: 429, .. }
                | Error::Auth {
                    status: Some(429),
                    ..
                }
        )
    }

    /// `true` when OfficeRnD refused who the client is or what it may do,
    /// so that no retry helps until an operator fixes the credentials, the
    /// application's scopes or its permissions: the token endpoint refused
    /// the grant ([`Error::Auth`] that is not retryable), the API refused a
    /// fresh token ([`Error::Unauthorized`], also OfficeRnD's answer to a
    /// missing scope), the auth circuit breaker is open after repeated
    /// refusals ([`Error::AuthBlocked`]), or an API 401/403. Never
    /// retryable. A webhook whose signature does not verify is not an auth
    /// failure of the client.
    ///
    /// ```
    /// use officernd_client::Error;
    ///
    /// let e = Error::Auth {
    ///     status: Some(401), error: Some("invalid_client".into()),
    ///     message: "Unauthorized".into(), retryable: false, source: None,
    /// };
    /// assert!(e.is_auth() && !e.is_retryable());
    /// // the token endpoint was only unreachable: transient, not auth
    /// let e = Error::Auth { status: Some(503), error: None, message: "down".into(), retryable: true, source: None };
    /// assert!(!e.is_auth() && e.is_retryable());
    /// ```
    pub fn is_auth(&self) -> bool {
        match self {
            Error::Auth { retryable, .. } => !retryable && !self.is_throttle(),
            Error::Unauthorized { .. } | Error::AuthBlocked(_) => true,
            Error::Api { status, .. } => matches!(status, 401 | 403),
            _ => false,
        }
    }

    /// Whether OfficeRnD rejected a query parameter (`400 "property X should
    /// not exist"`): list endpoints accept only the parameters they know,
    /// and some (e.g. `modifiedAt` on memberships) are accepted on some
    /// organizations only. Fall back to a full listing when this is true.
    pub fn is_rejected_parameter(&self) -> bool {
        match self {
            Error::Api {
                status: 400,
                messages,
                ..
            } => messages
                .iter()
                .any(|m| m.contains("should not exist") || m.starts_with('$')),
            _ => false,
        }
    }

    /// The wait the server asked for, on a 429.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl Retryable for Error {
    fn retry_decision(&self) -> RetryDecision {
        match self {
            Error::Api {
                status: 429,
                retry_after,
                ..
            } => match retry_after {
                Some(wait) => RetryDecision::RetryAfter(*wait),
                None => RetryDecision::Throttled,
            },
            Error::Api {
                status: 502..=504, ..
            } => RetryDecision::Retry,
            Error::Transport { .. } => RetryDecision::Retry,
            Error::Auth {
                retryable: true, ..
            } => RetryDecision::Retry,
            _ => RetryDecision::DoNotRetry,
        }
    }
}

/// The NestJS error body: `{"statusCode":400,"message":"…" | ["…"],"error":"Bad Request"}`,
/// or an OAuth error `{"error":"invalid_client","error_description":"…"}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ErrorBody {
    pub(crate) message: Option<Messages>,
    pub(crate) error: Option<String>,
    #[serde(rename = "error_description")]
    pub(crate) error_description: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
pub(crate) enum Messages {
    One(String),
    Many(Vec<serde_json::Value>),
}

impl ErrorBody {
    /// Parses an error body; a body that is not the NestJS shape becomes one
    /// message (truncated), so the user still sees what the server said.
    pub(crate) fn parse(body: &[u8]) -> (Option<String>, Vec<String>) {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(parsed) => {
                let mut messages = match parsed.message {
                    Some(Messages::One(m)) => vec![m],
                    Some(Messages::Many(ms)) => ms
                        .into_iter()
                        .map(|m| match m {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        })
                        .collect(),
                    None => Vec::new(),
                };
                if let Some(d) = parsed.error_description {
                    messages.push(d);
                }
                (parsed.error, messages)
            }
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                if text.is_empty() {
                    (None, Vec::new())
                } else {
                    let mut cut: String = text.chars().take(200).collect();
                    if cut.len() < text.len() {
                        cut.push('…');
                    }
                    (None, vec![cut])
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nest_errors_with_string_or_array_messages() {
        let (e, m) = ErrorBody::parse(
            br#"{"statusCode":401,"message":"Unauthorized access","error":"Unauthorized"}"#,
        );
        assert_eq!(e.as_deref(), Some("Unauthorized"));
        assert_eq!(m, vec!["Unauthorized access"]);
        let (e, m) = ErrorBody::parse(
            br#"{"statusCode":400,"message":["name must be a string","startDate must be a valid ISO 8601 date string"],"error":"Bad Request"}"#,
        );
        assert_eq!(e.as_deref(), Some("Bad Request"));
        assert_eq!(m.len(), 2);
        let (e, m) = ErrorBody::parse(b"<html>Bad gateway</html>");
        assert_eq!(e, None);
        assert_eq!(m, vec!["<html>Bad gateway</html>"]);
        let (_, m) = ErrorBody::parse(b"");
        assert!(m.is_empty());
    }

    #[test]
    fn retry_classification() {
        let api = |status| Error::Api {
            method: "m",
            status,
            error: None,
            messages: vec![],
            retry_after: None,
        };
        assert_eq!(api(429).retry_decision(), RetryDecision::Throttled);
        for s in [502, 503, 504] {
            assert_eq!(api(s).retry_decision(), RetryDecision::Retry);
        }
        for s in [400, 401, 403, 404, 500] {
            assert_eq!(api(s).retry_decision(), RetryDecision::DoNotRetry, "{s}");
        }
        let throttled = Error::Api {
            method: "m",
            status: 429,
            error: None,
            messages: vec![],
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            throttled.retry_decision(),
            RetryDecision::RetryAfter(Duration::from_secs(3))
        );
    }

    #[test]
    fn throttle_and_auth_agree_with_the_retry_classification() {
        let api = |status| Error::Api {
            method: "m",
            status,
            error: None,
            messages: vec![],
            retry_after: None,
        };
        let auth = |status, retryable| Error::Auth {
            status,
            error: None,
            message: "x".into(),
            retryable,
            source: None,
        };
        let cases = [
            (api(429), true, false),
            (auth(Some(429), true), true, false),
            (api(401), false, true),
            (api(403), false, true),
            (api(400), false, false),
            (api(500), false, false),
            (api(503), false, false),
            (auth(Some(401), false), false, true),
            (auth(None, true), false, false),
            (
                Error::Unauthorized {
                    method: "m",
                    required_scope: "flex.community.members.read",
                    message: "Unauthorized".into(),
                },
                false,
                true,
            ),
            (
                Error::AuthBlocked(access_http::AuthBlocked {
                    failures: 3,
                    retry_in: Duration::from_secs(300),
                }),
                false,
                true,
            ),
            (Error::WebhookSignatureMismatch, false, false),
        ];
        for (e, throttle, is_auth) in cases {
            assert_eq!(e.is_throttle(), throttle, "{e}");
            assert_eq!(e.is_auth(), is_auth, "{e}");
            if throttle {
                assert!(e.is_retryable(), "{e}");
            }
            if is_auth {
                assert!(!e.is_retryable(), "{e}");
            }
        }
    }

    #[test]
    fn display_names_method_status_and_messages() {
        let e = Error::Api {
            method: "list_members",
            status: 400,
            error: Some("Bad Request".into()),
            messages: vec!["property foo should not exist".into()],
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "list_members: OfficeRnD answered HTTP 400 Bad Request: property foo should not exist"
        );
        assert!(e.is_rejected_parameter());
    }
}
