//! The crate's one error type, and how Brivo's answers are classified.

use std::time::Duration;

use access_http::{InsecureBaseUrl, RetryDecision, Retryable};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::models::common::{GroupId, UserId};

/// Everything that can go wrong. `method` is always the name of the
/// [`Client`](crate::Client) method that failed (e.g. `"get_user"`).
///
/// Nothing secret is ever part of an error: no token, no password, no API
/// key, no request body. Text taken from Brivo's answers is scrubbed of
/// echoed tokens and credentials and clipped to 300 characters. Match on the variant or use the helpers
/// ([`status`](Self::status), [`is_retryable`](Self::is_retryable),
/// [`is_not_found`](Self::is_not_found)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is incomplete or invalid.
    #[error("invalid brivo-client configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },

    /// A base URL would send credentials in clear text.
    #[error(transparent)]
    InsecureBaseUrl(#[from] InsecureBaseUrl),

    /// An argument cannot be sent as given (nothing was sent).
    #[error("{method}: {message}")]
    InvalidArgument {
        /// The client method.
        method: &'static str,
        /// What is wrong.
        message: String,
    },

    /// The token endpoint refused the credentials (wrong administrator id
    /// or password, wrong client id or secret). Not retried.
    #[error("{method}: Brivo refused the credentials (HTTP {status}{}); check the administrator id (not the e-mail), password, client id and secret", describe(.error, .description))]
    Auth {
        /// The client method that needed a token.
        method: &'static str,
        /// HTTP status (400 or 401).
        status: u16,
        /// OAuth `error`, e.g. `invalid_grant`.
        error: Option<String>,
        /// OAuth `error_description` or `message`, e.g. `Bad credentials`.
        description: Option<String>,
    },

    /// The API answered 401 to a fresh token too (the token was renewed
    /// once and the call replayed).
    #[error("{method}: Brivo refused the access token (HTTP 401{}) even after re-authenticating", describe(.error, .description))]
    Unauthorized {
        /// The client method.
        method: &'static str,
        /// OAuth `error`, e.g. `invalid_token`.
        error: Option<String>,
        /// The description Brivo gave.
        description: Option<String>,
    },

    /// 403 "Developer Inactive": the `api-key` is missing, wrong, inactive
    /// or for the other region.
    #[error(
        "{method}: Brivo refused the API key (HTTP 403 Developer Inactive); check the api-key and that it belongs to this region"
    )]
    ApiKeyInactive {
        /// The client method.
        method: &'static str,
    },

    /// Throttled (429, or 403 "Developer Over Qps") and still throttled
    /// after the retry policy was spent.
    #[error("{method}: throttled by Brivo (HTTP {status}){}", .retry_after.map(|d| format!(", asked to wait {d:?}")).unwrap_or_default())]
    Throttled {
        /// The client method.
        method: &'static str,
        /// 429 or 403.
        status: u16,
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },

    /// 403 "Developer Over Rate": the plan's call quota (calls per 30
    /// days) is spent. Not retried: calls fail until the quota resets.
    #[error(
        "{method}: Brivo's API call quota for this key is spent (HTTP 403 Developer Over Rate); calls will fail until the plan allows more"
    )]
    QuotaExceeded {
        /// The client method.
        method: &'static str,
    },

    /// The client's own call budget
    /// ([`ClientBuilder::calls_per_30_days`](crate::ClientBuilder::calls_per_30_days))
    /// is spent; nothing was sent.
    #[error(
        "{method}: not sent: this client's call budget of {budget} calls per 30 days is spent ({used} calls in the last 30 days)"
    )]
    CallBudgetExhausted {
        /// The client method.
        method: &'static str,
        /// The configured budget.
        budget: u64,
        /// Calls made in the last 30 days.
        used: u64,
    },

    /// HTTP 596 "Service Not Found": no such endpoint. The base URL (it
    /// must end in `/v1/api`), the region or the verb is wrong.
    #[error(
        "{method}: no such Brivo endpoint: {path} (HTTP 596 Service Not Found; check that the base URL ends in /v1/api and the region)"
    )]
    ServiceNotFound {
        /// The client method.
        method: &'static str,
        /// The path that was called.
        path: String,
    },

    /// The change would put the user in more than 16 groups (Brivo's
    /// limit, which counts groups the administrator cannot see too). Brivo
    /// changed nothing.
    #[error("{method}: user {user} would be in more than 16 groups, Brivo's limit; nothing was changed{}", .message.as_ref().map(|m| format!(" (Brivo: {m})")).unwrap_or_default())]
    GroupLimitExceeded {
        /// The client method.
        method: &'static str,
        /// The user.
        user: UserId,
        /// Brivo's message, if it came from Brivo.
        message: Option<String>,
    },

    /// Several groups share a name that was expected to be unique.
    #[error("{} groups are named {name:?} (ids {}); Brivo does not keep group names unique, so refer to the group by id", .ids.len(), join_ids(.ids))]
    DuplicateGroupName {
        /// The name.
        name: String,
        /// Every group with that name.
        ids: Vec<GroupId>,
    },

    /// Brivo answered with an error status not covered above.
    #[error("{method}: Brivo answered HTTP {status}{}", describe(&.code.as_ref().filter(|c| **c != status.to_string()).cloned(), .message))]
    Api {
        /// The client method.
        method: &'static str,
        /// HTTP status.
        status: u16,
        /// Brivo's own `code` (or OAuth `error`), if any.
        code: Option<String>,
        /// Brivo's own `message` (or the HTML page's heading, or the start
        /// of a text body).
        message: Option<String>,
        /// The server's `Retry-After`, if it sent one (honoured when a 5xx
        /// is retried).
        retry_after: Option<Duration>,
    },

    /// Brivo (or something posing as it) answered with a redirect. It is
    /// not followed: the redirect would carry the api-key, the bearer token
    /// or the password grant to wherever `Location` points.
    #[error(
        "{method}: Brivo answered with a {redirect}, which is not followed (it would resend the credentials); check the base URL and auth URL"
    )]
    Redirected {
        /// The client method.
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

    /// Authentication failed several times in a row (refused credentials,
    /// or 401s right after a new token); no token is requested until the
    /// cool-down ends, so a broken password cannot lock the administrator
    /// out.
    #[error("{method}: {blocked}")]
    AuthBlocked {
        /// The client method.
        method: &'static str,
        /// Failures seen and the time left.
        blocked: access_http::AuthBlocked,
    },

    /// The request did not complete (connect failure, timeout, broken
    /// connection).
    #[error("{method}: {}{}", transport_kind(.source), if *.maybe_applied { "; the request may have reached Brivo and taken effect, so look the record up before trying again" } else { "" })]
    Transport {
        /// The client method.
        method: &'static str,
        /// `true` for a non-idempotent call (`create_user`,
        /// `create_mobile_pass_invitation`) that may have been applied.
        maybe_applied: bool,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// The answer did not have the expected shape.
    #[error("{method}: Brivo's answer could not be read at `{path}`")]
    Decode {
        /// The client method.
        method: &'static str,
        /// JSON path of the offending value (`.` for the whole document).
        path: String,
        /// The decoder's message, without the values it quoted (which
        /// may be anything Brivo sent back, a secret included).
        #[source]
        source: access_http::DecodeError,
    },

    /// Paging was stopped because the server misbehaved (a page repeated,
    /// or no end in sight).
    #[error("{method}: paging stopped: {message}")]
    Pagination {
        /// The client method.
        method: &'static str,
        /// What went wrong.
        message: String,
    },
}

fn describe(code: &Option<String>, message: &Option<String>) -> String {
    match (code, message) {
        (Some(c), Some(m)) => format!(": {c}: {m}"),
        (Some(s), None) | (None, Some(s)) => format!(": {s}"),
        (None, None) => String::new(),
    }
}

fn join_ids(ids: &[GroupId]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "the request to Brivo timed out"
    } else if e.is_connect() {
        "could not connect to Brivo"
    } else if e.is_body() || e.is_decode() {
        "the connection broke while reading Brivo's answer"
    } else {
        "the request to Brivo failed"
    }
}

impl Error {
    /// The HTTP status Brivo answered with, if the error came from an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Auth { status, .. }
            | Self::Throttled { status, .. }
            | Self::Api { status, .. } => Some(*status),
            Self::Unauthorized { .. } => Some(401),
            Self::ApiKeyInactive { .. } | Self::QuotaExceeded { .. } => Some(403),
            Self::ServiceNotFound { .. } => Some(596),
            Self::Redirected { status, .. } => Some(*status),
            Self::Transport { source, .. } => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// The client method that failed, if the error belongs to a call.
    pub fn method(&self) -> Option<&'static str> {
        match self {
            Self::InvalidArgument { method, .. }
            | Self::Auth { method, .. }
            | Self::Redirected { method, .. }
            | Self::BodyTooLarge { method, .. }
            | Self::AuthBlocked { method, .. }
            | Self::Unauthorized { method, .. }
            | Self::ApiKeyInactive { method }
            | Self::Throttled { method, .. }
            | Self::QuotaExceeded { method }
            | Self::CallBudgetExhausted { method, .. }
            | Self::ServiceNotFound { method, .. }
            | Self::GroupLimitExceeded { method, .. }
            | Self::Api { method, .. }
            | Self::Transport { method, .. }
            | Self::Decode { method, .. }
            | Self::Pagination { method, .. } => Some(method),
            _ => None,
        }
    }

    /// `true` for a 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { status: 404, .. })
    }

    /// `true` if the failure is transient (throttling, 5xx, connection
    /// trouble) and the same call may succeed later. The client has already
    /// retried such failures as its [`RetryPolicy`](access_http::RetryPolicy)
    /// allows.
    ///
    /// This is exactly the client's own retry classification
    /// ([`Retryable::retry_decision`] is not
    /// [`DoNotRetry`](RetryDecision::DoNotRetry)): a 596, a quota, bad
    /// credentials and a connection error after a `create_user` that may
    /// have taken effect (`maybe_applied`) are not retryable.
    ///
    /// ```
    /// use brivo_client::Error;
    ///
    /// let busy = Error::Api { method: "list_users", status: 503, code: None, message: None, retry_after: None };
    /// assert!(busy.is_retryable());
    /// let refused = Error::Api { method: "get_user", status: 400, code: None, message: None, retry_after: None };
    /// assert!(!refused.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        !matches!(self.retry_decision(), RetryDecision::DoNotRetry)
    }

    /// `true` when Brivo asked the client to slow down and was still doing
    /// so once the retry policy was spent: HTTP 429, or 403 "Developer Over
    /// Qps" ([`Error::Throttled`]). Every throttle
    /// [`is_retryable`](Self::is_retryable); back off (honour
    /// [`Error::Throttled`]'s `retry_after`) and try again later.
    ///
    /// A spent quota is not a throttle: Brivo's 30-day quota
    /// ([`Error::QuotaExceeded`]) and this client's own budget
    /// ([`Error::CallBudgetExhausted`]) do not recover in seconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// use brivo_client::Error;
    ///
    /// let throttled = Error::Throttled { method: "list_users", status: 403, retry_after: Some(Duration::from_secs(1)) };
    /// assert!(throttled.is_throttle() && throttled.is_retryable());
    /// assert!(!Error::QuotaExceeded { method: "list_users" }.is_throttle());
    /// ```
    pub fn is_throttle(&self) -> bool {
        matches!(self, Self::Throttled { .. })
    }

    /// `true` when Brivo refused who the client is or what it may do, so
    /// that no retry helps until an operator fixes the credentials or the
    /// administrator's permissions: the token endpoint refused the
    /// credentials ([`Error::Auth`]), the API refused a fresh token
    /// ([`Error::Unauthorized`]), the api-key is inactive or for another
    /// region ([`Error::ApiKeyInactive`]), the auth circuit breaker is open
    /// after repeated refusals ([`Error::AuthBlocked`]), or a plain HTTP 403
    /// (the administrator may not do this). Never retryable.
    ///
    /// Not an auth failure: Brivo's throttling 403 ("Developer Over Qps",
    /// [`is_throttle`](Self::is_throttle)) and its quota 403 ("Developer
    /// Over Rate", [`Error::QuotaExceeded`]).
    ///
    /// ```
    /// use brivo_client::Error;
    ///
    /// let refused = Error::Auth {
    ///     method: "list_users", status: 401,
    ///     error: Some("invalid_grant".into()), description: Some("Bad credentials".into()),
    /// };
    /// assert!(refused.is_auth() && !refused.is_retryable());
    /// assert!(Error::ApiKeyInactive { method: "list_users" }.is_auth());
    /// let forbidden = Error::Api { method: "delete_user", status: 403, code: None, message: None, retry_after: None };
    /// assert!(forbidden.is_auth());
    /// assert!(!Error::QuotaExceeded { method: "list_users" }.is_auth());
    /// ```
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Self::Auth { .. }
                | Self::Unauthorized { .. }
                | Self::ApiKeyInactive { .. }
                | Self::AuthBlocked { .. }
                | Self::Api { status: 403, .. }
        )
    }

    /// Brivo's message, where there is one.
    pub fn brivo_message(&self) -> Option<&str> {
        match self {
            Self::Api { message, .. } | Self::GroupLimitExceeded { message, .. } => {
                message.as_deref()
            }
            Self::Auth { description, .. } | Self::Unauthorized { description, .. } => {
                description.as_deref()
            }
            _ => None,
        }
    }
}

impl Retryable for Error {
    /// 429 and 403 "Over Qps" are throttling and honour `Retry-After`; 5xx
    /// (596 aside) are retried with backoff, or after their `Retry-After`
    /// when they send one; connection errors are retried with backoff;
    /// everything else is final.
    fn retry_decision(&self) -> RetryDecision {
        match self {
            Self::Throttled {
                retry_after: Some(d),
                ..
            } => RetryDecision::RetryAfter(*d),
            Self::Throttled { .. } => RetryDecision::Throttled,
            Self::Api {
                status,
                retry_after,
                ..
            } if (500..=599).contains(status) && *status != 596 => match retry_after {
                Some(d) => RetryDecision::RetryAfter(*d),
                None => RetryDecision::Retry,
            },
            Self::Transport { maybe_applied, .. } if !maybe_applied => RetryDecision::Retry,
            _ => RetryDecision::DoNotRetry,
        }
    }
}

/// The parts of an error body Brivo may send, in any of its four shapes:
/// `{code,message}`, `{error,error_description}`,
/// `{status,error,message,path}`, or HTML / text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub(crate) code: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) description: Option<String>,
    /// The body's text, lower-cased, for keyword checks.
    pub(crate) text_lower: String,
}

const MAX_MESSAGE: usize = 300;

/// Removes what looks like a credential from a server's message: Spring
/// OAuth's "Invalid access token: <token>" / "Access token expired: <token>"
/// and anything shaped like a JWT.
fn scrub(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let s = match lower.find("token:") {
        Some(i) => format!("{} [redacted]", &s[..i + "token:".len()]),
        None => s.to_owned(),
    };
    if !s.split_whitespace().any(jwt_like) {
        return s;
    }
    s.split(' ')
        .map(|w| if jwt_like(w) { "[redacted]" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

fn jwt_like(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let parts: Vec<&str> = w.split('.').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            p.len() >= 8
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
        })
}

/// Replaces every occurrence of `secrets` in the server-provided text of
/// `error` (a server may echo what it was sent).
pub(crate) fn redact(mut error: Error, secrets: &[&str]) -> Error {
    let fix = |field: &mut Option<String>| {
        if let Some(text) = field {
            *text = access_http::redact(text, secrets);
        }
    };
    match &mut error {
        Error::Api { code, message, .. } => {
            fix(code);
            fix(message);
        }
        Error::Auth {
            error, description, ..
        }
        | Error::Unauthorized {
            error, description, ..
        } => {
            fix(error);
            fix(description);
        }
        Error::GroupLimitExceeded { message, .. } => fix(message),
        _ => {}
    }
    error
}

fn clip(s: &str) -> String {
    let s = scrub(s.trim());
    let s = s.as_str();
    match s.char_indices().nth(MAX_MESSAGE) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

impl ErrorBody {
    pub(crate) fn parse(body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let mut out = Self {
            text_lower: text.to_lowercase(),
            ..Self::default()
        };
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) {
            let field = |k: &str| match map.get(k) {
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(clip(s)),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            out.code = field("code");
            out.message = field("message");
            out.error = field("error");
            out.description = field("error_description");
            return out;
        }
        // HTML (Mashery: <h1>Developer Inactive</h1>, <h1>596 Service Not Found</h1>)
        if let Some(start) = out.text_lower.find("<h1>") {
            let rest = &text[start + 4..];
            let end = rest.to_lowercase().find("</h1>").unwrap_or(rest.len());
            let heading = clip(&rest[..end]);
            if !heading.is_empty() {
                out.message = Some(heading);
            }
            return out;
        }
        let plain = clip(&text);
        if !plain.is_empty() && !plain.starts_with('<') {
            out.message = Some(plain);
        }
        out
    }

    /// The best "code" to show: Brivo's `code`, else OAuth `error`.
    fn code_or_error(&self) -> Option<String> {
        self.code.clone().or_else(|| self.error.clone())
    }

    /// The best message to show.
    fn best_message(&self) -> Option<String> {
        self.message
            .clone()
            .or_else(|| self.description.clone())
            .or_else(|| {
                // {"error":"Unauthorized"} alone: the error is the message
                if self.code.is_none() {
                    None
                } else {
                    self.error.clone()
                }
            })
    }

    fn mentions(&self, needle: &str) -> bool {
        self.text_lower.contains(needle)
    }
}

fn header_mentions(headers: &HeaderMap, needle: &str) -> bool {
    headers.iter().any(|(name, value)| {
        name.as_str().starts_with("x-mashery")
            && value
                .to_str()
                .is_ok_and(|v| v.to_ascii_lowercase().contains(needle))
    })
}

/// Classifies a non-success answer from the API host.
pub(crate) fn classify(
    method: &'static str,
    path: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Error {
    let parsed = ErrorBody::parse(body);
    let code = status.as_u16();
    let over = |kind: &str| {
        parsed.mentions(&format!("over {kind}"))
            || header_mentions(headers, &format!("over_{kind}"))
    };
    match code {
        429 => Error::Throttled {
            method,
            status: code,
            retry_after: access_http::retry_after(headers),
        },
        403 if over("qps") => Error::Throttled {
            method,
            status: code,
            retry_after: access_http::retry_after(headers),
        },
        403 if over("rate") => Error::QuotaExceeded { method },
        403 if parsed.mentions("developer inactive")
            || header_mentions(headers, "developer_inactive") =>
        {
            Error::ApiKeyInactive { method }
        }
        401 => Error::Unauthorized {
            method,
            error: parsed.error.clone().or_else(|| parsed.code.clone()),
            description: parsed.description.clone().or(parsed.message.clone()),
        },
        596 => Error::ServiceNotFound {
            method,
            path: path.to_owned(),
        },
        _ => Error::Api {
            method,
            status: code,
            code: parsed.code_or_error(),
            message: parsed.best_message(),
            retry_after: access_http::retry_after(headers),
        },
    }
}

/// `true` when a 400 says the 16-groups-per-user limit was hit.
pub(crate) fn is_group_limit(error: &Error) -> bool {
    match error {
        Error::Api {
            status: 400,
            message: Some(m),
            ..
        } => {
            let m = m.to_lowercase();
            m.contains("16") && m.contains("group")
        }
        _ => false,
    }
}

/// Classifies a non-success answer from the token endpoint.
pub(crate) fn classify_token(
    method: &'static str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Error {
    let code = status.as_u16();
    if code == 400 || code == 401 {
        let parsed = ErrorBody::parse(body);
        return Error::Auth {
            method,
            status: code,
            error: parsed.error.clone().or(parsed.code.clone()),
            description: parsed.description.clone().or(parsed.message.clone()),
        };
    }
    classify(method, "/oauth/token", status, headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> Error {
        classify(
            "get_user",
            "/v1/api/users/1",
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn every_error_body_shape_is_read() {
        let e = api(404, r#"{"message":"Requested user not found","code":404}"#);
        assert!(e.is_not_found());
        assert_eq!(
            e.to_string(),
            "get_user: Brivo answered HTTP 404: Requested user not found"
        );
        let e = api(
            400,
            r#"{"error":"invalid_request","error_description":"Missing grant"}"#,
        );
        assert_eq!(e.brivo_message(), Some("Missing grant"));
        let e = api(
            500,
            r#"{"status":500,"error":"Internal Server Error","message":"boom","path":"/x"}"#,
        );
        assert_eq!(e.brivo_message(), Some("boom"));
        assert!(e.is_retryable());
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        let e = classify("get_user", "/", StatusCode::SERVICE_UNAVAILABLE, &h, b"");
        assert_eq!(
            e.retry_decision(),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
        let e = api(418, "I'm a teapot");
        assert_eq!(e.brivo_message(), Some("I'm a teapot"));
        assert!(!e.is_retryable());
    }

    #[test]
    fn mashery_html_answers_are_classified() {
        assert!(matches!(
            api(403, "<h1>Developer Inactive</h1>"),
            Error::ApiKeyInactive { .. }
        ));
        let e = api(403, "<h1>Developer Over Qps</h1>");
        assert!(matches!(e, Error::Throttled { status: 403, .. }));
        assert!(e.is_retryable());
        let e = api(403, "<h1>Developer Over Rate</h1>");
        assert!(matches!(e, Error::QuotaExceeded { .. }));
        assert!(!e.is_retryable());
        let e = api(
            596,
            "<html><body><h1>596 Service Not Found</h1></body></html>",
        );
        let shown = e.to_string();
        assert!(shown.contains("/v1/api/users/1"), "{shown}");
        assert!(!shown.contains("<h1>"), "{shown}");
        // a plain permission 403 is final
        let e = api(
            403,
            r#"{"code":403,"message":"You are not allowed to perform that action"}"#,
        );
        assert!(matches!(e, Error::Api { status: 403, .. }));
        assert!(!e.is_retryable());
    }

    #[test]
    fn mashery_headers_are_read_too() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-mashery-error-code",
            "ERR_403_DEVELOPER_OVER_QPS".parse().unwrap(),
        );
        h.insert("retry-after", "1".parse().unwrap());
        let e = classify("list_users", "/", StatusCode::FORBIDDEN, &h, b"");
        assert_eq!(
            e.retry_decision(),
            RetryDecision::RetryAfter(Duration::from_secs(1))
        );
        h.insert(
            "x-mashery-error-code",
            "ERR_403_DEVELOPER_OVER_RATE".parse().unwrap(),
        );
        let e = classify("list_users", "/", StatusCode::FORBIDDEN, &h, b"");
        assert!(matches!(e, Error::QuotaExceeded { .. }));
    }

    #[test]
    fn echoed_tokens_are_scrubbed_from_messages() {
        let e = api(
            401,
            r#"{"error":"invalid_token","error_description":"Invalid access token: 0b7d3f-secret"}"#,
        );
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("0b7d3f-secret"), "{shown}");
        assert!(
            shown.contains("Invalid access token: [redacted]"),
            "{shown}"
        );
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
        let e = api(400, &format!(r#"{{"message":"bad {jwt}, sorry"}}"#));
        assert_eq!(e.brivo_message(), Some("bad [redacted] sorry"));
        let e = redact(
            api(400, r#"{"message":"password hunter22 is wrong"}"#),
            &["hunter22"],
        );
        assert_eq!(e.brivo_message(), Some("password [REDACTED] is wrong"));
        // ordinary messages are untouched
        let e = api(404, r#"{"message":"Requested user not found","code":404}"#);
        assert_eq!(e.brivo_message(), Some("Requested user not found"));
    }

    #[test]
    fn throttle_and_auth_agree_with_the_retry_classification() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "1".parse().unwrap());
        let over_qps = classify(
            "list_users",
            "/",
            StatusCode::FORBIDDEN,
            &h,
            b"<h1>Developer Over Qps</h1>",
        );
        let cases = [
            (api(429, ""), true, false),
            (over_qps, true, false),
            (api(403, "<h1>Developer Over Rate</h1>"), false, false),
            (api(403, "<h1>Developer Inactive</h1>"), false, true),
            (api(401, r#"{"error":"invalid_token"}"#), false, true),
            (api(403, r#"{"message":"not allowed"}"#), false, true),
            (api(503, ""), false, false),
            (api(400, "bad"), false, false),
            (api(596, "<h1>596 Service Not Found</h1>"), false, false),
            (
                classify_token("list_users", StatusCode::UNAUTHORIZED, &h, b""),
                false,
                true,
            ),
        ];
        for (e, throttle, auth) in cases {
            assert_eq!(e.is_throttle(), throttle, "{e}");
            assert_eq!(e.is_auth(), auth, "{e}");
            // a throttle is always retried; an auth failure never is
            if throttle {
                assert!(e.is_retryable(), "{e}");
            }
            if auth {
                assert!(!e.is_retryable(), "{e}");
            }
        }
        let blocked = Error::AuthBlocked {
            method: "list_users",
            blocked: access_http::AuthBlocked {
                failures: 3,
                retry_in: Duration::from_secs(300),
            },
        };
        assert!(blocked.is_auth());
    }

    #[test]
    fn long_bodies_are_clipped() {
        let body = "x".repeat(5000);
        let e = api(502, &body);
        assert!(e.to_string().len() < 400);
    }
}
