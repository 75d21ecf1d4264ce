//! What the three fake services share: call counters, fault queues, a token-bucket rate
//! limiter, the middleware that applies them, and small parsing helpers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use tokio::time::Instant;

use crate::server::ConnKill;

/// Locks a mutex, recovering the data if a previous holder panicked (a sandbox must keep
/// serving even if one test thread died mid-request).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fault to inject into one service. Queue it with
/// [`Faults::brivo`](crate::Faults::brivo), [`Faults::entrata`](crate::Faults::entrata) or
/// [`Faults::officernd`](crate::Faults::officernd).
///
/// Counted faults (`times`) apply to the next `times` requests that reach that service's
/// server (token endpoint included), in the order they were queued; then the service
/// answers normally again. Each answer is in the service's own error shape.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer `429 Too Many Requests` with `Retry-After: retry_after_secs`.
    /// OfficeRnD also gets the NestJS throttler's `Retry-After-read-minute` header
    /// (`officernd.md` §1.6).
    TooManyRequests {
        /// How many requests to reject.
        times: u32,
        /// Value of the `Retry-After` header, in seconds.
        retry_after_secs: u64,
    },
    /// Brivo's Mashery throttle: `403` with the HTML body `<h1>Developer Over Qps</h1>`,
    /// `X-Mashery-Error-Code: ERR_403_DEVELOPER_OVER_QPS` and `Retry-After: 1`
    /// (`brivo.md` §2.6). On the other services this behaves like `TooManyRequests`.
    OverQps {
        /// How many requests to reject.
        times: u32,
    },
    /// Answer with a server error status (e.g. 500, 502, 503) in the service's error shape.
    ServerError {
        /// How many requests to fail.
        times: u32,
        /// The HTTP status to answer with (500..=599; anything else is clamped to 500).
        status: u16,
    },
    /// Delay the next `times` requests by `delay`, then answer normally.
    Slow {
        /// How many requests to delay.
        times: u32,
        /// How long to wait before handling each of them.
        delay: Duration,
    },
    /// Close the connection of the next `times` requests without sending any response byte.
    DropConnection {
        /// How many requests to drop.
        times: u32,
    },
    /// Brivo and OfficeRnD: expire every access token issued so far, now. The next API
    /// call with one of them gets the service's 401. Refresh tokens stay valid. Ignored
    /// (with a warning) on Entrata, which has no tokens.
    ExpireTokens,
    /// Entrata only: every `getLeases`, `getLeaseDetails`, `getExpiringLeases` and
    /// `getCustomers` call for this property fails with the in-body error code 301 ("User
    /// doesn't have permission to the property or property is disabled.", HTTP 200,
    /// `entrata.md` §3.3) until [`Faults::clear`](crate::Faults::clear). Lets a test prove
    /// that a failed fetch revokes nothing.
    FailProperty {
        /// The Entrata property id, e.g. [`story::PROPERTY_NY`](crate::story::PROPERTY_NY).
        property_id: String,
    },
    /// A hostile or misconfigured upstream: answer `status` (a 3xx such as 302 or 307;
    /// anything else is clamped to 302) with `Location: location`, for instance
    /// [`Sandbox::elsewhere_url`](crate::Sandbox::elsewhere_url), a second origin that
    /// records whatever reaches it. A client that follows the redirect hands its
    /// credentials (a password grant, an api key) to that origin.
    Redirect {
        /// How many requests to redirect.
        times: u32,
        /// The 3xx status.
        status: u16,
        /// The `Location` header, verbatim.
        location: String,
    },
    /// Answer `status` with a body of `bytes` bytes (`x` repeated), streamed in 64 KiB
    /// chunks so the sandbox never holds it: a client that reads it whole needs that much
    /// memory.
    HugeBody {
        /// How many requests to answer so.
        times: u32,
        /// The HTTP status (an unusable one is clamped to 500).
        status: u16,
        /// The body's length.
        bytes: u64,
    },
    /// Answer `status` with a chunked body that never ends: only a client-side cap or
    /// timeout stops the read.
    EndlessBody {
        /// How many requests to answer so.
        times: u32,
        /// The HTTP status (an unusable one is clamped to 500).
        status: u16,
    },
    /// Answer exactly this: `status`, these headers (absurd values welcome: `Retry-After:
    /// 1e30`, a `Content-Type` that lies) and this body (a token with `expires_in` of
    /// 2^64−1, an amount that overflows). Headers that are not valid HTTP are skipped.
    Respond {
        /// How many requests to answer so.
        times: u32,
        /// The HTTP status (an unusable one is clamped to 500).
        status: u16,
        /// Header names and values.
        headers: Vec<(String, String)>,
        /// The body.
        body: String,
    },
    /// Answer `status` with an error body that echoes the request, as a careless
    /// upstream's debug page does: every header (`Authorization`, `api-key`, `X-Api-Key`)
    /// and the request body (a password grant, a client secret). A client must not carry
    /// any of it into its errors, logs or audit.
    EchoRequest {
        /// How many requests to answer so.
        times: u32,
        /// The HTTP status (an unusable one is clamped to 500).
        status: u16,
    },
}

/// A configured request-rate limit (token bucket).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained calls per second (bucket refill rate).
    pub per_second: f64,
    /// Bucket size: how many calls may arrive at once.
    pub burst: u32,
    /// How a throttled call is answered.
    pub response: ThrottleResponse,
}

/// How a rate-limited call is answered (Brivo's real behaviour is undocumented; both forms
/// are plausible, `brivo.md` §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThrottleResponse {
    /// `429 Too Many Requests` with `Retry-After: 1`.
    #[default]
    TooManyRequests,
    /// Mashery's `403 <h1>Developer Over Qps</h1>` with `Retry-After: 1`.
    OverQps,
}

/// Counters of the calls one fake service received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallStats {
    /// Every request received (token calls, faulted and throttled calls included).
    pub total: u64,
    /// Mutating API calls received (POST/PUT/PATCH/DELETE on the API, not the token
    /// endpoint), whatever their outcome. Always 0 for Entrata, whose sandbox is read-only.
    pub writes: u64,
    /// Requests answered by the rate limiter or a throttling fault.
    pub throttled: u64,
    /// Per route: `"GET /v1/api/users/{id}"`, ids replaced by placeholders.
    pub by_route: BTreeMap<String, u64>,
}

/// Which service's conventions the shared middleware follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Brivo,
    Entrata,
    OfficeRnd,
}

#[derive(Debug)]
struct Armed {
    fault: Fault,
    remaining: u32,
}

#[derive(Debug)]
struct Bucket {
    limit: RateLimit,
    tokens: f64,
    last: Instant,
}

/// Counters, fault queue and limiter of one service.
#[derive(Debug)]
pub(crate) struct Common {
    pub(crate) style: Style,
    stats: Mutex<CallStats>,
    faults: Mutex<Vec<Armed>>,
    bucket: Mutex<Option<Bucket>>,
}

impl Common {
    pub(crate) fn new(style: Style, rate_limit: Option<RateLimit>) -> Arc<Self> {
        Arc::new(Self {
            style,
            stats: Mutex::new(CallStats::default()),
            faults: Mutex::new(Vec::new()),
            bucket: Mutex::new(rate_limit.map(|limit| Bucket {
                limit,
                tokens: f64::from(limit.burst),
                last: Instant::now(),
            })),
        })
    }

    pub(crate) fn stats(&self) -> CallStats {
        lock(&self.stats).clone()
    }

    pub(crate) fn reset_stats(&self) {
        *lock(&self.stats) = CallStats::default();
    }

    /// Queues a counted fault; returns false for faults that are not counted.
    pub(crate) fn push(&self, fault: Fault) -> bool {
        let times = match &fault {
            Fault::TooManyRequests { times, .. }
            | Fault::OverQps { times }
            | Fault::ServerError { times, .. }
            | Fault::Slow { times, .. }
            | Fault::DropConnection { times }
            | Fault::Redirect { times, .. }
            | Fault::HugeBody { times, .. }
            | Fault::EndlessBody { times, .. }
            | Fault::Respond { times, .. }
            | Fault::EchoRequest { times, .. } => *times,
            Fault::ExpireTokens | Fault::FailProperty { .. } => return false,
        };
        if times > 0 {
            lock(&self.faults).push(Armed {
                fault,
                remaining: times,
            });
        }
        true
    }

    pub(crate) fn clear(&self) {
        lock(&self.faults).clear();
    }

    pub(crate) fn set_rate_limit(&self, limit: Option<RateLimit>) {
        *lock(&self.bucket) = limit.map(|limit| Bucket {
            limit,
            tokens: f64::from(limit.burst),
            last: Instant::now(),
        });
    }

    fn next_fault(&self) -> Option<Fault> {
        let mut q = lock(&self.faults);
        let first = q.first_mut()?;
        first.remaining -= 1;
        let fault = first.fault.clone();
        if first.remaining == 0 {
            q.remove(0);
        }
        Some(fault)
    }

    /// Takes one token; `Some(style)` if the call must be throttled.
    fn throttle(&self) -> Option<ThrottleResponse> {
        let mut guard = lock(&self.bucket);
        let bucket = guard.as_mut()?;
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.last = now;
        bucket.tokens =
            (bucket.tokens + elapsed * bucket.limit.per_second).min(f64::from(bucket.limit.burst));
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            Some(bucket.limit.response)
        }
    }

    fn record(&self, method: &Method, path: &str) {
        let write = match self.style {
            Style::Entrata => false,
            Style::Brivo | Style::OfficeRnd => {
                !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
                    && !path.ends_with("/oauth/token")
            }
        };
        let mut s = lock(&self.stats);
        s.total += 1;
        if write {
            s.writes += 1;
        }
        *s.by_route
            .entry(format!("{method} {}", route_key(path)))
            .or_insert(0) += 1;
    }

    fn count_throttled(&self) {
        lock(&self.stats).throttled += 1;
    }
}

/// Replaces ids in a path with placeholders, for per-route counters.
fn route_key(path: &str) -> String {
    let segs: Vec<&str> = path.split('/').collect();
    let mut out = Vec::with_capacity(segs.len());
    for (i, seg) in segs.iter().enumerate() {
        let next = segs.get(i + 1).copied();
        let is_id = (!seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()))
            || (seg.len() == 24 && seg.chars().all(|c| c.is_ascii_hexdigit()));
        if next == Some("external") {
            out.push("{externalId}");
        } else if is_id {
            out.push("{id}");
        } else {
            out.push(seg);
        }
    }
    out.join("/")
}

/// Middleware: count the call, apply the next queued fault, then the rate limiter.
pub(crate) async fn fault_middleware(
    State(common): State<Arc<Common>>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let resp = apply_faults(&common, req, next).await;
    tracing::debug!(service = ?common.style, %method, %path, status = resp.status().as_u16(), "sandbox call");
    resp
}

async fn apply_faults(common: &Common, req: Request, next: Next) -> Response {
    common.record(req.method(), req.uri().path());
    if let Some(fault) = common.next_fault() {
        match fault {
            Fault::TooManyRequests {
                retry_after_secs, ..
            } => {
                common.count_throttled();
                return too_many(common.style, retry_after_secs);
            }
            Fault::OverQps { .. } => {
                common.count_throttled();
                return over_qps(common.style);
            }
            Fault::ServerError { status, .. } => return server_error(common.style, status),
            Fault::Slow { delay, .. } => tokio::time::sleep(delay).await,
            Fault::DropConnection { .. } => {
                match req.extensions().get::<ConnKill>() {
                    Some(kill) => kill.kill(),
                    None => tracing::warn!("DropConnection fault without a connection handle"),
                }
                // The connection task drops this future together with the socket.
                std::future::pending::<()>().await;
            }
            Fault::Redirect {
                status, location, ..
            } => return redirect(status, &location),
            Fault::HugeBody { status, bytes, .. } => {
                return streamed(status, Some(bytes));
            }
            Fault::EndlessBody { status, .. } => return streamed(status, None),
            Fault::Respond {
                status,
                headers,
                body,
                ..
            } => return respond(status, &headers, body),
            Fault::EchoRequest { status, .. } => return echo(common.style, status, req).await,
            Fault::ExpireTokens | Fault::FailProperty { .. } => {}
        }
    }
    if let Some(style) = common.throttle() {
        common.count_throttled();
        return match style {
            ThrottleResponse::TooManyRequests => too_many(common.style, 1),
            ThrottleResponse::OverQps => over_qps(common.style),
        };
    }
    next.run(req).await
}

fn too_many(style: Style, retry_after: u64) -> Response {
    let retry = retry_after.to_string();
    match style {
        // Brivo's 429 body is undocumented (`brivo.md` §2.6); this is its usual {code,message}.
        Style::Brivo => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry)],
            json_body(&serde_json::json!({"code": 429, "message": "Too Many Requests"})),
        )
            .into_response(),
        // Entrata answers HTTP 429 (`entrata.md` §3.5); the body is the error envelope.
        Style::Entrata => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry)],
            json_body(&serde_json::json!({"response": {"error": {
                "code": 429, "message": "Too many requests. Rate limit exceeded."}}})),
        )
            .into_response(),
        // NestJS throttler (`officernd.md` §1.6).
        Style::OfficeRnd => {
            let mut resp = (
                StatusCode::TOO_MANY_REQUESTS,
                json_body(&serde_json::json!({
                    "statusCode": 429, "message": "ThrottlerException: Too Many Requests"})),
            )
                .into_response();
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&retry) {
                h.insert(header::RETRY_AFTER, v.clone());
                h.insert("retry-after-read-minute", v);
            }
            resp
        }
    }
}

fn over_qps(style: Style) -> Response {
    match style {
        Style::Brivo => (
            StatusCode::FORBIDDEN,
            [
                (header::CONTENT_TYPE, "text/html"),
                (header::RETRY_AFTER, "1"),
                (
                    header::HeaderName::from_static("x-mashery-error-code"),
                    "ERR_403_DEVELOPER_OVER_QPS",
                ),
            ],
            "<h1>Developer Over Qps</h1>",
        )
            .into_response(),
        other => too_many(other, 1),
    }
}

fn any_status(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn redirect(status: u16, location: &str) -> Response {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(StatusCode::is_redirection)
        .unwrap_or(StatusCode::FOUND);
    let mut resp = status.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// `bytes` bytes of `x` (or endless with `None`), 64 KiB at a time, generated as read.
fn streamed(status: u16, bytes: Option<u64>) -> Response {
    const CHUNK: usize = 64 * 1024;
    let chunk = axum::body::Bytes::from(vec![b'x'; CHUNK]);
    let left = bytes.unwrap_or(u64::MAX);
    let stream = futures::stream::unfold(left, move |left| {
        let chunk = chunk.clone();
        async move {
            if left == 0 {
                return None;
            }
            let n = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
            let next = if bytes.is_some() {
                left - n as u64
            } else {
                left
            };
            Some((Ok::<_, std::io::Error>(chunk.slice(..n)), next))
        }
    });
    let mut resp = Body::from_stream(stream).into_response();
    *resp.status_mut() = any_status(status);
    resp
}

fn respond(status: u16, headers: &[(String, String)], body: String) -> Response {
    let mut resp = Body::from(body).into_response();
    *resp.status_mut() = any_status(status);
    for (name, value) in headers {
        let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            tracing::warn!(%name, "Respond fault: skipping a header that is not valid HTTP");
            continue;
        };
        resp.headers_mut().append(name, value);
    }
    resp
}

/// The request dumped into the message field of the service's own error shape, so a
/// client that shows the server's message shows the dump.
async fn echo(style: Style, status: u16, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let headers: Vec<String> = parts
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
        .collect();
    let dump = format!(
        "debug: {} {} failed; headers: {}; body: {body}",
        parts.method,
        parts.uri,
        headers.join("; ")
    );
    let status = any_status(status);
    let code = status.as_u16();
    let value = match style {
        Style::Brivo => serde_json::json!({"code": code, "message": dump}),
        Style::Entrata => {
            serde_json::json!({"response": {"error": {"code": code, "message": dump}}})
        }
        Style::OfficeRnd => {
            serde_json::json!({"statusCode": code, "message": dump, "error": "Bad Request"})
        }
    };
    json(status, &value)
}

fn server_error(style: Style, status: u16) -> Response {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(StatusCode::is_server_error)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Server Error");
    let body = match style {
        Style::Brivo => serde_json::json!({"code": status.as_u16(), "message": reason}),
        Style::Entrata => serde_json::json!({"response": {"error": {
            "code": status.as_u16(), "message": reason}}}),
        Style::OfficeRnd => serde_json::json!({
            "statusCode": status.as_u16(), "message": reason, "error": reason}),
    };
    (status, json_body(&body)).into_response()
}

/// A JSON body with `application/json; charset=utf-8`, like all three services send.
pub(crate) fn json_body(value: &serde_json::Value) -> Response {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    (
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        Body::from(bytes),
    )
        .into_response()
}

/// `status` + JSON body.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut r = json_body(value);
    *r.status_mut() = status;
    r
}

/// Decodes `Authorization: Basic base64(user:pass)`.
pub(crate) fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_owned())
}

/// Standard base64 of `text` (for opaque cursors).
pub(crate) fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Decodes standard base64 to text.
pub(crate) fn unb64(text: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Parses an `application/x-www-form-urlencoded` string (a form body or a query string).
pub(crate) fn parse_form(input: &str) -> HashMap<String, String> {
    input
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Percent-decodes a form component (`+` is a space).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A fresh opaque token: prefix, a counter and some clock noise.
pub(crate) fn new_token(prefix: &str, counter: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}{counter:06}{nanos:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_hide_ids() {
        assert_eq!(
            route_key("/v1/api/users/15540001/groups"),
            "/v1/api/users/{id}/groups"
        );
        assert_eq!(
            route_key("/v1/api/users/sync%3Aa/external"),
            "/v1/api/users/{externalId}/external"
        );
        assert_eq!(
            route_key("/api/v2/organizations/x/members/64b000000000000000000001"),
            "/api/v2/organizations/x/members/{id}"
        );
    }

    #[test]
    fn form_decoding() {
        let f = parse_form("grant_type=password&username=a%40b.c&password=p+w%26");
        assert_eq!(f["username"], "a@b.c");
        assert_eq!(f["password"], "p w&");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
