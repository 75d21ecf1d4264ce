//! The crate's error type.

use std::time::Duration;

use access_http::{RetryDecision, Retryable};

/// Everything that can go wrong talking to Entrata.
///
/// Each variant names the remote method (`getLeases`, ...) and, where the
/// service answered, the HTTP status and Entrata's own error code and
/// message. [`Error::is_retryable`] says whether trying again may help; the
/// client already retried such errors within its
/// [`RetryPolicy`](access_http::RetryPolicy) before returning them.
///
/// No variant ever contains a credential.
///
/// ```
/// use entrata_client::{Error, GetLeases};
///
/// let body = br#"{"response":{"requestId":"15","error":{"code":301,
///     "message":"User doesn't have permission to the property or property is disabled."}}}"#;
/// let err = GetLeases::decode(body).unwrap_err();
/// assert!(matches!(err, Error::PermissionDenied { code: Some(301), .. }));
/// assert!(!err.is_retryable());
/// assert_eq!(err.to_string(), "getLeases: permission denied (HTTP 200, Entrata code 301): \
///     User doesn't have permission to the property or property is disabled.");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is unusable (bad base URL, bad header value).
    #[error("invalid Entrata client configuration: {0}")]
    Config(String),

    /// The base URL would send credentials in clear text.
    #[error(transparent)]
    InsecureBaseUrl(#[from] access_http::InsecureBaseUrl),

    /// A request parameter is invalid (checked before anything is sent).
    #[error("{method}: invalid request: {message}")]
    InvalidRequest {
        /// The remote method.
        method: &'static str,
        /// What is wrong.
        message: String,
    },

    /// The credentials were refused (Entrata code 113, or HTTP 401).
    #[error("{method}: authentication failed (HTTP {status}{}): {message}", code_suffix(*code))]
    Authentication {
        /// The remote method.
        method: &'static str,
        /// The HTTP status (Entrata may answer 200 with an error body).
        status: u16,
        /// Entrata's error code, when the body had one.
        code: Option<i64>,
        /// Entrata's message.
        message: String,
    },

    /// The credentials were refused several calls in a row (code 113, HTTP
    /// 401 or 403): nothing is sent until the cool-down ends, so a wrong
    /// password or API key is not re-sent on every call (which could lock
    /// the API user out). The breaker is access-http's
    /// [`AuthBreaker`](access_http::AuthBreaker) with its defaults: open
    /// after 3 refusals in a row, for 5 minutes, then one call is let
    /// through (its refusal reopens it at once, a success closes it).
    #[error("{method}: {blocked}")]
    AuthBlocked {
        /// The remote method.
        method: &'static str,
        /// Failures seen and the time left.
        blocked: access_http::AuthBlocked,
    },

    /// The credentials lack access to the property or service (Entrata
    /// codes 301 and 311, or HTTP 403). Code 311 is also what a sandbox
    /// property id used with production credentials gets.
    #[error("{method}: permission denied (HTTP {status}{}): {message}", code_suffix(*code))]
    PermissionDenied {
        /// The remote method.
        method: &'static str,
        /// The HTTP status.
        status: u16,
        /// Entrata's error code, when the body had one.
        code: Option<i64>,
        /// Entrata's message.
        message: String,
    },

    /// Over the rate limit (HTTP 429). Retryable.
    #[error("{method}: rate limited by Entrata (HTTP {status}){}", retry_suffix(*retry_after))]
    RateLimited {
        /// The remote method.
        method: &'static str,
        /// The HTTP status.
        status: u16,
        /// How long the server asked us to wait, if it said.
        retry_after: Option<Duration>,
    },

    /// Entrata failed (HTTP 5xx, or a 5xx code in the body). Retryable.
    #[error("{method}: Entrata server error (HTTP {status}{}): {message}", code_suffix(*code))]
    Server {
        /// The remote method.
        method: &'static str,
        /// The HTTP status.
        status: u16,
        /// Entrata's error code, when the body had one.
        code: Option<i64>,
        /// Entrata's message, or the start of the body.
        message: String,
    },

    /// Entrata answered with an error this crate has no closer variant for.
    #[error("{method}: Entrata error (HTTP {status}{}): {message}", code_suffix(*code))]
    Api {
        /// The remote method.
        method: &'static str,
        /// The HTTP status.
        status: u16,
        /// Entrata's error code, when the body had one.
        code: Option<i64>,
        /// Entrata's message, or the start of the body.
        message: String,
    },

    /// Entrata (or something posing as it) answered with a redirect. It is
    /// not followed: the redirect would carry the API key or the Basic
    /// credentials to wherever `Location` points.
    #[error(
        "{method}: Entrata answered with a {redirect}, which is not followed (it would resend the credentials); check the base URL"
    )]
    Redirected {
        /// The remote method.
        method: &'static str,
        /// The HTTP status.
        status: u16,
        /// Status and target host, e.g. `HTTP 302 redirect to host evil.test`.
        redirect: String,
    },

    /// A successful answer larger than this client reads for one page.
    #[error("{method}: {source}")]
    BodyTooLarge {
        /// The remote method.
        method: &'static str,
        /// The cap that was exceeded.
        #[source]
        source: access_http::BodyError,
    },

    /// The request did not complete: connection refused or reset, TLS,
    /// timeout. Retryable (every method here is a read).
    #[error("{method}: request failed: {kind}")]
    Transport {
        /// The remote method.
        method: &'static str,
        /// `"timeout"`, `"connect"` or `"network"`.
        kind: &'static str,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// The response could not be decoded.
    #[error("{method}: could not decode the response at {path:?}: {message}")]
    Decode {
        /// The remote method.
        method: &'static str,
        /// The JSON path of the value that failed (`response.result.leases`).
        path: String,
        /// What was wrong with it.
        message: String,
        /// The decoder's message, without the values it quoted (which
        /// may be anything Entrata sent back, a secret included).
        #[source]
        source: access_http::DecodeError,
    },

    /// Entrata answered with a `result` that is neither the method's data
    /// (e.g. `leases` for getLeases) nor one of its known "no records"
    /// answers (`{"success": "No Records Found."}`, or a bare
    /// `"No records found ..."` sentence): another sentence, `[]`, `null`,
    /// or an object without the expected key. Reading it as "no records"
    /// could make every resident look moved out, so it is an error; the
    /// read is incomplete. Not retryable: the same request will most
    /// likely get the same answer. Check the API user's web-service
    /// permissions and the request, or report the answer shown in `found`.
    ///
    /// ```
    /// use entrata_client::{Error, GetLeases};
    ///
    /// let err = GetLeases::decode(br#"{"response":{"code":200,"result":"Service is under maintenance."}}"#)
    ///     .unwrap_err();
    /// assert!(matches!(err, Error::UnexpectedResult { method: "getLeases", .. }));
    /// assert!(!err.is_retryable());
    /// assert!(err.to_string().contains("\"Service is under maintenance.\""));
    /// ```
    #[error(
        "{method}: unexpected result from Entrata: expected `{expected}` or a \"No records found\" \
         answer, found {found}; the read is incomplete (not treated as \"no records\")"
    )]
    UnexpectedResult {
        /// The remote method.
        method: &'static str,
        /// The key the method's data comes under (`leases`, `PhysicalProperty`, ...).
        expected: &'static str,
        /// The start of the `result` as sent (JSON, at most about 200 characters).
        found: String,
    },

    /// A paginated listing misbehaved: the server sent the same page again,
    /// pages that do not add up (to `X-Total-Count`, or after a short
    /// page), or more pages than the configured maximum. The listing is
    /// incomplete.
    #[error("{method}: pagination stopped at page {page}: {message}")]
    Pagination {
        /// The remote method.
        method: &'static str,
        /// The page number that triggered the guard.
        page: u32,
        /// What happened.
        message: String,
    },
}

fn code_suffix(code: Option<i64>) -> String {
    code.map(|c| format!(", Entrata code {c}"))
        .unwrap_or_default()
}

fn retry_suffix(wait: Option<Duration>) -> String {
    wait.map(|w| format!("; retry after {} s", w.as_secs_f64()))
        .unwrap_or_default()
}

impl Error {
    /// Whether another attempt may succeed (throttling, server errors,
    /// network failures). This is exactly the client's own retry
    /// classification ([`Retryable::retry_decision`] is not
    /// [`DoNotRetry`](RetryDecision::DoNotRetry)); the client already
    /// retried such errors as its policy allows.
    ///
    /// ```
    /// use entrata_client::Error;
    ///
    /// let busy = Error::Server { method: "getLeases", status: 503, code: None, message: "busy".into() };
    /// assert!(busy.is_retryable());
    /// let odd = Error::Api { method: "getLeases", status: 400, code: Some(1), message: "bad".into() };
    /// assert!(!odd.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        !matches!(self.retry_decision(), RetryDecision::DoNotRetry)
    }

    /// `true` when Entrata asked the client to slow down (HTTP 429,
    /// [`Error::RateLimited`]) and was still doing so once the retry policy
    /// was spent. Every throttle [`is_retryable`](Self::is_retryable): back
    /// off (honour `retry_after`) and try again later.
    ///
    /// ```
    /// use std::time::Duration;
    /// use entrata_client::Error;
    ///
    /// let e = Error::RateLimited { method: "getLeases", status: 429, retry_after: Some(Duration::from_secs(2)) };
    /// assert!(e.is_throttle() && e.is_retryable());
    /// ```
    pub fn is_throttle(&self) -> bool {
        matches!(self, Self::RateLimited { .. })
    }

    /// `true` when Entrata refused the credentials ([`Error::Authentication`]:
    /// code 113 or HTTP 401; [`Error::AuthBlocked`] after several such
    /// refusals in a row) or what they may reach
    /// ([`Error::PermissionDenied`]: codes 301 and 311 or HTTP 403, e.g. a
    /// property or web service the API user is not granted). No retry helps
    /// until an operator fixes the credentials or the API user's
    /// permissions; never retryable.
    ///
    /// ```
    /// use entrata_client::Error;
    ///
    /// let e = Error::PermissionDenied {
    ///     method: "getLeases", status: 200, code: Some(301),
    ///     message: "User doesn't have permission to the property or property is disabled.".into(),
    /// };
    /// assert!(e.is_auth() && !e.is_retryable());
    /// let e = Error::Authentication { method: "getLeases", status: 401, code: None, message: "Unauthorized".into() };
    /// assert!(e.is_auth());
    /// ```
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Self::Authentication { .. } | Self::AuthBlocked { .. } | Self::PermissionDenied { .. }
        )
    }

    /// The remote method, when the error came from a call.
    pub fn method(&self) -> Option<&'static str> {
        match self {
            Self::Config(_) | Self::InsecureBaseUrl(_) => None,
            Self::InvalidRequest { method, .. }
            | Self::Authentication { method, .. }
            | Self::AuthBlocked { method, .. }
            | Self::PermissionDenied { method, .. }
            | Self::RateLimited { method, .. }
            | Self::Server { method, .. }
            | Self::Api { method, .. }
            | Self::Transport { method, .. }
            | Self::Decode { method, .. }
            | Self::UnexpectedResult { method, .. }
            | Self::Redirected { method, .. }
            | Self::BodyTooLarge { method, .. }
            | Self::Pagination { method, .. } => Some(method),
        }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Authentication { status, .. }
            | Self::PermissionDenied { status, .. }
            | Self::RateLimited { status, .. }
            | Self::Server { status, .. }
            | Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Entrata's own error code (113, 301, 311, ...), when the body had one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Authentication { code, .. }
            | Self::PermissionDenied { code, .. }
            | Self::Server { code, .. }
            | Self::Api { code, .. } => *code,
            _ => None,
        }
    }
}

impl Error {
    /// Whether this answer means the credentials themselves were refused,
    /// which the client's [`AuthBreaker`](access_http::AuthBreaker) counts:
    /// code 113, or HTTP 401 with any code. Not a permission refusal (HTTP 403, codes 301
    /// and 311): those refuse one web service or property to credentials
    /// that work (getMitsPropertyUnits is often not granted), and must not
    /// stop getLeases for everyone.
    pub(crate) fn refuses_credentials(&self) -> bool {
        // any 401, whatever code the body carries
        matches!(
            self,
            Self::Authentication { .. } | Self::Api { status: 401, .. }
        )
    }

    /// Replaces `secrets` and secret-shaped text in what the server said
    /// (the shared [`access_http::redact`]): a server may echo the API key.
    pub(crate) fn redact(mut self, secrets: &[&str]) -> Self {
        match &mut self {
            Self::Authentication { message, .. }
            | Self::PermissionDenied { message, .. }
            | Self::Server { message, .. }
            | Self::Api { message, .. }
            | Self::Decode { message, .. }
            | Self::InvalidRequest { message, .. }
            | Self::UnexpectedResult { found: message, .. } => {
                *message = access_http::redact(message, secrets);
            }
            _ => {}
        }
        if let Self::Decode { source, .. } = &mut self {
            *source = source.clone().redact(secrets);
        }
        self
    }
}

impl Retryable for Error {
    /// Every method this crate calls is a read, so connection errors and
    /// timeouts are safe to retry.
    fn retry_decision(&self) -> RetryDecision {
        match self {
            Self::RateLimited {
                retry_after: Some(wait),
                ..
            } => RetryDecision::RetryAfter(*wait),
            Self::RateLimited { .. } => RetryDecision::Throttled,
            Self::Server { .. } | Self::Transport { .. } => RetryDecision::Retry,
            _ => RetryDecision::DoNotRetry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_classification() {
        let rl = Error::RateLimited {
            method: "getLeases",
            status: 429,
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            rl.retry_decision(),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
        let server = Error::Server {
            method: "getLeases",
            status: 503,
            code: None,
            message: "busy".into(),
        };
        assert!(server.is_retryable());
        let denied = Error::PermissionDenied {
            method: "getLeases",
            status: 403,
            code: Some(311),
            message: "App doesn't have permission to the property.".into(),
        };
        assert!(!denied.is_retryable());
        assert!(denied.is_auth() && !denied.is_throttle());
        assert!(rl.is_throttle() && rl.is_retryable() && !rl.is_auth());
        assert!(!server.is_throttle() && !server.is_auth());
        assert_eq!(denied.code(), Some(311));
        assert_eq!(denied.status(), Some(403));
        assert_eq!(denied.method(), Some("getLeases"));
    }
}
