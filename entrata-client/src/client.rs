//! The client, its configuration and the call path.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use access_http::{
    Attempt, AuthBreaker, CallInfo, CallSnapshot, Pacer, RateLimiter, RetryPolicy, check_base_url,
    retry_after,
};
use futures::Stream;
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::envelope::{Output, Params, decode_body, request_body};
use crate::error::Error;
use crate::rate_limit::RateLimitSnapshot;

/// How the client proves who it is.
///
/// Entrata has two deployments: each customer's own host
/// (`https://{subdomain}.entrata.com/api/v1/{service}`) with HTTP Basic
/// auth, and the API gateway
/// (`https://apis.entrata.com/ext/orgs/{org}/v1/{service}`) with an
/// `X-Api-Key` header. The body's `auth.type` follows (`"basic"` or
/// `"apikey"`); the secret itself only travels in the header.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// HTTP Basic auth (per-customer host).
    Basic {
        /// The API user's name.
        username: String,
        /// The API user's password.
        password: SecretString,
    },
    /// `X-Api-Key` (API gateway).
    ApiKey(SecretString),
}

impl Credentials {
    /// Basic credentials.
    pub fn basic(username: impl Into<String>, password: impl Into<SecretString>) -> Self {
        Self::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// An API key.
    pub fn api_key(key: impl Into<SecretString>) -> Self {
        Self::ApiKey(key.into())
    }

    fn auth_type(&self) -> &'static str {
        match self {
            Self::Basic { .. } => "basic",
            Self::ApiKey(_) => "apikey",
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"[REDACTED]")
                .finish(),
            Self::ApiKey(_) => f.debug_tuple("ApiKey").field(&"[REDACTED]").finish(),
        }
    }
}

/// The client's settings. Build one with [`Client::builder`].
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Where services live; `{service}` is appended (`.../v1/leases`).
    pub base_url: Url,
    /// The credentials.
    pub credentials: Credentials,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one attempt, from sending to the end of the body.
    pub request_timeout: Duration,
    /// Retries of throttled, failed and timed-out calls.
    pub retry_policy: RetryPolicy,
    /// Client-side rate limit: calls per second (`None`: unlimited).
    pub rate_limit_per_second: Option<f64>,
    /// Burst allowed by the client-side limiter.
    pub rate_limit_burst: u32,
    /// Slow down when the server says a rate-limit bucket is nearly empty.
    pub adaptive_throttle: bool,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Page size for paginated methods.
    pub per_page: u32,
    /// The most pages a listing will fetch before it stops with an error.
    pub max_pages: u32,
    /// The largest successful answer read, in bytes.
    pub max_body_bytes: usize,
}

/// Default of [`ClientConfig::max_body_bytes`]: generous for a page of
/// leases with details, small enough that a hostile server cannot exhaust
/// memory.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url.as_str())
            .field("credentials", &self.credentials)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry_policy", &self.retry_policy)
            .field("rate_limit_per_second", &self.rate_limit_per_second)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field("adaptive_throttle", &self.adaptive_throttle)
            .field("user_agent", &self.user_agent)
            .field("per_page", &self.per_page)
            .field("max_pages", &self.max_pages)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

/// Builds a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use entrata_client::{Client, RetryPolicy};
///
/// let client = Client::builder_gateway("acme", "my-api-key")
///     .request_timeout(Duration::from_secs(60))
///     .retry_policy(RetryPolicy::default().with_max_attempts(3))
///     .rate_limit(5.0, 5)
///     .build()?;
/// assert_eq!(client.base_url().as_str(), "https://apis.entrata.com/ext/orgs/acme/v1/");
/// assert!(!format!("{client:?}").contains("my-api-key"));
/// # Ok::<(), entrata_client::Error>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    config: ClientConfig,
    base_url_error: Option<String>,
    http_client: Option<reqwest::Client>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("base_url_error", &self.base_url_error)
            // not the client's own Debug: it lists its default headers
            .field(
                "http_client",
                &if self.http_client.is_some() {
                    "the caller's"
                } else {
                    "built by build()"
                },
            )
            .finish()
    }
}

impl ClientBuilder {
    /// A builder for `credentials` against `base_url` (which should end with
    /// the version segment, e.g. `https://acme.entrata.com/api/v1`).
    pub fn new(base_url: &str, credentials: Credentials) -> Self {
        let (url, err) = match parse_base(base_url) {
            Ok(u) => (u, None),
            Err(e) => (
                Url::parse("https://invalid.invalid/").expect("constant URL parses"),
                Some(e),
            ),
        };
        Self {
            config: ClientConfig {
                base_url: url,
                credentials,
                connect_timeout: Duration::from_secs(10),
                request_timeout: Duration::from_secs(120),
                retry_policy: RetryPolicy::default(),
                rate_limit_per_second: None,
                rate_limit_burst: 1,
                adaptive_throttle: true,
                user_agent: concat!("entrata-client/", env!("CARGO_PKG_VERSION")).to_owned(),
                per_page: 500,
                max_pages: 10_000,
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            },
            base_url_error: err,
            http_client: None,
        }
    }

    /// Overrides the base URL (sandbox, staging, a mock server). `{service}`
    /// is appended to it. Plain `http` is allowed only for loopback hosts.
    pub fn base_url(mut self, base_url: &str) -> Self {
        match parse_base(base_url) {
            Ok(u) => {
                self.config.base_url = u;
                self.base_url_error = None;
            }
            Err(e) => self.base_url_error = Some(e),
        }
        self
    }

    /// Time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Time allowed for one attempt (default 120 s: lease lists are big).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Retry policy (default: 5 attempts within 2 minutes).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.retry_policy = policy;
        self
    }

    /// Client-side limit of `per_second` calls per second, in bursts of up
    /// to `burst` (default: unlimited; the server's headers still apply).
    /// A non-positive rate means unlimited, like
    /// [`no_rate_limit`](Self::no_rate_limit).
    pub fn rate_limit(mut self, per_second: f64, burst: u32) -> Self {
        self.config.rate_limit_per_second = Some(per_second);
        self.config.rate_limit_burst = burst;
        self
    }

    /// No client-side rate limit (the default; a throttled answer, or a
    /// nearly spent bucket with [`adaptive_throttle`](Self::adaptive_throttle),
    /// still pauses every caller).
    pub fn no_rate_limit(mut self) -> Self {
        self.config.rate_limit_per_second = None;
        self
    }

    /// Whether to slow down when a server bucket is nearly empty (default
    /// on). When a `X-RateLimit-*` bucket has under 10% of its calls left,
    /// the next calls are spaced so the rest last until it resets (see
    /// [`RateLimitSnapshot::suggested_delay`]), each wait capped at the
    /// retry policy's `max_retry_after`. A nearly spent *daily* bucket can
    /// make calls slow for hours: turn this off to run at full speed and
    /// take the 429s instead.
    pub fn adaptive_throttle(mut self, on: bool) -> Self {
        self.config.adaptive_throttle = on;
        self
    }

    /// The `User-Agent` (default `entrata-client/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.config.user_agent = agent.into();
        self
    }

    /// Sends every request through your own `reqwest::Client` instead of
    /// one built by [`build`](Self::build): for a shared connection pool, a
    /// proxy, your own TLS roots or backend, default headers, and so on.
    ///
    /// **It must never follow redirects**: build it with
    /// `.redirect(reqwest::redirect::Policy::none())`. A followed redirect
    /// would re-send the `X-Api-Key` header (reqwest drops only
    /// `Authorization` and cookies when the host, port or scheme changes)
    /// to wherever `Location` points. [`build`](Self::build)
    /// refuses a client that may follow redirects with [`Error::Config`]:
    /// reqwest cannot report a client's policy, so the check reads the
    /// client's `Debug` text, and fails closed (a `Policy::custom` cannot be
    /// inspected and is refused too). Should a response come from elsewhere
    /// anyway, it is refused with [`Error::Redirected`] (but the request had
    /// been re-sent by then).
    ///
    /// What still applies: the per-request
    /// [`request_timeout`](Self::request_timeout), the response size cap
    /// ([`max_body_bytes`](Self::max_body_bytes)), retries, rate limits, and
    /// each request's auth, `Content-Type` and `Accept` headers. What is
    /// yours: the connect timeout, the user agent
    /// ([`connect_timeout`](Self::connect_timeout) and
    /// [`user_agent`](Self::user_agent) are ignored), proxies, TLS, HTTP
    /// versions, pooling and default headers. `reqwest` is re-exported as
    /// [`entrata_client::reqwest`](crate::reqwest), so the versions match.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use entrata_client::{Client, reqwest};
    ///
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none()) // required
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .user_agent("acme-door-sync/2.1")
    ///     .proxy(reqwest::Proxy::https("http://proxy.internal:3128")?)
    ///     .build()?;
    /// let client = Client::builder_gateway("acme", "my-api-key")
    ///     .http_client(http)
    ///     .request_timeout(Duration::from_secs(60)) // still applies, per request
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Page size for paginated listings (default 500, clamped to 1..=5000).
    pub fn per_page(mut self, n: u32) -> Self {
        self.config.per_page = n.clamp(1, 5000);
        self
    }

    /// The largest successful answer read, in bytes (default 64 MiB, at
    /// least 64 KiB, at most 1 GiB): a bigger one fails with
    /// [`Error::BodyTooLarge`] rather than exhaust memory. A page of 500
    /// leases with details is a few MiB.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.config.max_body_bytes = bytes.clamp(64 * 1024, 1024 * 1024 * 1024);
        self
    }

    /// The most pages one listing may fetch (default 10 000).
    pub fn max_pages(mut self, n: u32) -> Self {
        self.config.max_pages = n.max(1);
        self
    }

    /// The settings so far.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Builds the client: checks the base URL (HTTPS unless loopback) and
    /// the credentials' header values.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(e) = self.base_url_error {
            return Err(Error::Config(e));
        }
        let config = self.config;
        for (setting, value) in [
            ("connect_timeout", config.connect_timeout),
            ("request_timeout", config.request_timeout),
        ] {
            // a zero timeout would fail every call, far from its cause
            if value.is_zero() {
                return Err(Error::Config(format!("{setting} must be more than zero")));
            }
        }
        check_base_url(&config.base_url)?;
        let auth = match &config.credentials {
            Credentials::Basic { username, password } => {
                if username.contains(':') {
                    return Err(Error::Config(
                        "a Basic auth username cannot contain ':'".to_owned(),
                    ));
                }
                let raw = format!("{username}:{}", password.expose_secret());
                let mut v = HeaderValue::from_str(&format!("Basic {}", base64(raw.as_bytes())))
                    .map_err(|_| {
                        Error::Config("the credentials are not valid header text".to_owned())
                    })?;
                v.set_sensitive(true);
                (http::header::AUTHORIZATION, v)
            }
            Credentials::ApiKey(key) => {
                let mut v = HeaderValue::from_str(key.expose_secret()).map_err(|_| {
                    Error::Config("the API key is not valid header text".to_owned())
                })?;
                v.set_sensitive(true);
                (http::header::HeaderName::from_static("x-api-key"), v)
            }
        };
        // never follows redirects: one would resend the x-api-key or the
        // Basic credentials to another (maybe plain-http) host
        let http = match self.http_client {
            Some(http) => access_http::check_http_client(&http).map(|()| http),
            None => access_http::build_http_client(
                config.connect_timeout,
                &config.user_agent,
                &[&config.base_url],
            ),
        }
        .map_err(|e| Error::Config(e.to_string()))?;
        let limiter = match config.rate_limit_per_second {
            Some(rate) => RateLimiter::new(rate, config.rate_limit_burst),
            None => RateLimiter::unlimited(),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                auth,
                pacer: Pacer::new(config.retry_policy.clone(), limiter).with_service("entrata"),
                auth_breaker: AuthBreaker::default(),
                request_ids: AtomicU64::new(1),
                rate_limits: Mutex::default(),
                page_caps: Mutex::default(),
                page_floors: Mutex::default(),
                config,
            }),
        })
    }
}

fn parse_base(s: &str) -> Result<Url, String> {
    // the text is not echoed back: a malformed URL may still carry a password
    let mut url = Url::parse(s.trim()).map_err(|e| format!("the base URL is not a URL: {e}"))?;
    if url.cannot_be_a_base() {
        return Err("the base URL cannot be a base (it needs a scheme and a host)".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the base URL must not carry credentials; use Credentials".to_owned());
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// Standard base64 (RFC 4648, padded), for the Basic auth header.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An async client for Entrata's web services. Cheap to clone: clones
/// share the connection pool, the rate limiter, the call counters and the
/// latest rate-limit headers.
///
/// See the [crate docs](crate) for an example.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    auth: (http::header::HeaderName, HeaderValue),
    pacer: Pacer,
    /// Refused credentials are not re-sent on every call: Basic auth and
    /// API keys have no token request to hold back, so the calls are.
    auth_breaker: AuthBreaker,
    request_ids: AtomicU64,
    rate_limits: Mutex<RateLimits>,
    /// Page-size caps the server was caught applying, per method: later
    /// listings start at the cap instead of rediscovering it.
    page_caps: Mutex<HashMap<&'static str, u32>>,
    /// Per method, the most records the server was seen to return on one
    /// page: its page-size cap, if it has one, is at least that.
    page_floors: Mutex<HashMap<&'static str, u64>>,
}

#[derive(Default)]
struct RateLimits {
    latest: Option<RateLimitSnapshot>,
    by_service: HashMap<String, RateLimitSnapshot>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("calls", &self.inner.pacer.stats().snapshot())
            .finish_non_exhaustive()
    }
}

/// Bodies at least this large are decoded on a blocking thread.
const BLOCKING_DECODE_BYTES: usize = 256 * 1024;

/// One remote call, as data.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) service: &'static str,
    pub(crate) name: &'static str,
    pub(crate) version: &'static str,
    pub(crate) params: Params,
    pub(crate) page: Option<(u32, u32)>,
}

impl Client {
    /// A builder for a per-customer host with HTTP Basic auth:
    /// `https://{subdomain}.entrata.com/api/v1/`.
    pub fn builder_basic(
        subdomain: &str,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> ClientBuilder {
        ClientBuilder::new(
            &format!("https://{subdomain}.entrata.com/api/v1/"),
            Credentials::basic(username, password),
        )
    }

    /// A builder for the API gateway with an API key:
    /// `https://apis.entrata.com/ext/orgs/{org}/v1/`.
    pub fn builder_gateway(org: &str, api_key: impl Into<SecretString>) -> ClientBuilder {
        ClientBuilder::new(
            &format!("https://apis.entrata.com/ext/orgs/{org}/v1/"),
            Credentials::api_key(api_key),
        )
    }

    /// A builder for any base URL (a sandbox, a mock server).
    pub fn builder(base_url: &str, credentials: Credentials) -> ClientBuilder {
        ClientBuilder::new(base_url, credentials)
    }

    /// The base URL services are appended to.
    pub fn base_url(&self) -> &Url {
        &self.inner.config.base_url
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Calls made so far (retries included), retries and throttled answers.
    pub fn call_stats(&self) -> CallSnapshot {
        self.inner.pacer.stats().snapshot()
    }

    /// The rate-limit headers of the latest response that had them.
    pub fn rate_limit(&self) -> Option<RateLimitSnapshot> {
        self.lock_limits().latest.clone()
    }

    /// The rate-limit headers last seen for `service` (`"leases"`,
    /// `"properties"`, ...): each service has its own buckets.
    pub fn rate_limit_for(&self, service: &str) -> Option<RateLimitSnapshot> {
        self.lock_limits().by_service.get(service).cloned()
    }

    fn lock_limits(&self) -> std::sync::MutexGuard<'_, RateLimits> {
        self.inner
            .rate_limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn observe_rate_limit(&self, service: &str, headers: &http::HeaderMap) {
        let Some(snap) = RateLimitSnapshot::from_headers(service, headers) else {
            return;
        };
        if self.inner.config.adaptive_throttle
            && let Some(delay) = snap.suggested_delay()
        {
            let delay = delay.min(self.inner.config.retry_policy.max_retry_after);
            tracing::debug!(
                service,
                ?delay,
                "rate-limit bucket nearly empty: slowing down"
            );
            self.inner.pacer.limiter().pause_for(delay);
        }
        let mut limits = self.lock_limits();
        limits.by_service.insert(service.to_owned(), snap.clone());
        limits.latest = Some(snap);
    }

    /// Sends `call`, retrying as the policy allows, and decodes the reply.
    pub(crate) async fn call<R: Output + Send + 'static>(&self, call: &Call) -> Result<R, Error> {
        self.call_counted(call).await.map(|(r, _)| r)
    }

    /// [`call`](Self::call), with the `X-Total-Count` header of the reply
    /// (absent or unreadable: `None`).
    pub(crate) async fn call_counted<R: Output + Send + 'static>(
        &self,
        call: &Call,
    ) -> Result<(R, Option<u64>), Error> {
        let url = self
            .inner
            .config
            .base_url
            .join(call.service)
            .map_err(|e| Error::Config(format!("service URL: {e}")))?;
        let request_id = self
            .inner
            .request_ids
            .fetch_add(1, Ordering::Relaxed)
            .to_string();
        let body = request_body(
            self.inner.config.credentials.auth_type(),
            &request_id,
            call.name,
            call.version,
            &call.params,
        );
        let breaker = &self.inner.auth_breaker;
        // fail fast before queueing; the probe is taken in `attempt`, after
        // the rate limiter, so calls queued while it opened send nothing
        breaker.is_open().map_err(|blocked| Error::AuthBlocked {
            method: call.name,
            blocked,
        })?;
        // whether this call was given the probe after a cool-down: it keeps
        // it across its own retries, and answers for it
        let probe = std::sync::atomic::AtomicBool::new(false);
        let result = self
            .inner
            .pacer
            .run(CallInfo::new(call.name, "POST").url(&url), |attempt| {
                self.attempt::<R>(call, url.clone(), body.clone(), attempt, &probe)
            })
            .await;
        match &result {
            Ok(_) => breaker.record_success(),
            Err(e) if e.refuses_credentials() => breaker.record_failure(None),
            Err(_) if probe.load(Ordering::Relaxed) => breaker.release_probe(),
            Err(_) => {}
        }
        result
    }

    async fn attempt<R: Output + Send + 'static>(
        &self,
        call: &Call,
        url: Url,
        body: Vec<u8>,
        attempt: Attempt,
        probe: &std::sync::atomic::AtomicBool,
    ) -> Result<(R, Option<u64>), Error> {
        let breaker = &self.inner.auth_breaker;
        let blocked = |blocked| Error::AuthBlocked {
            method: call.name,
            blocked,
        };
        // a retry of the probe's call is still the probe
        if probe.load(Ordering::Relaxed) {
            breaker.is_open().map_err(blocked)?;
        } else if breaker.check().map_err(blocked)? {
            probe.store(true, Ordering::Relaxed);
        }
        tracing::debug!(
            version = call.version,
            page = call.page.map(|p| p.0),
            per_page = call.page.map(|p| p.1),
            "sending"
        );
        let (name, value) = &self.inner.auth;
        let mut req = self
            .inner
            .http
            .post(url.clone())
            .timeout(self.inner.config.request_timeout)
            .header(
                http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .header(http::header::ACCEPT, "application/json")
            .header(name.clone(), value.clone())
            .body(body);
        if let Some((page, per_page)) = call.page {
            req = req.query(&[("page_no", page), ("per_page", per_page)]);
        }
        let transport = |e: reqwest::Error| Error::Transport {
            method: call.name,
            kind: if e.is_timeout() {
                "timeout"
            } else if e.is_connect() {
                "connect"
            } else {
                "network"
            },
            source: e.without_url(),
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        attempt.record_status(status);
        if let Some(redirect) = access_http::followed_redirect(&url, &resp) {
            return Err(Error::Redirected {
                method: call.name,
                status,
                redirect,
            });
        }
        self.observe_rate_limit(call.service, resp.headers());
        if status == 429 {
            return Err(Error::RateLimited {
                method: call.name,
                status,
                retry_after: retry_after(resp.headers()),
            });
        }
        if (300..400).contains(&status) {
            return Err(Error::Redirected {
                method: call.name,
                status,
                redirect: access_http::describe_redirect(status, resp.headers()),
            });
        }
        let total = total_count(resp.headers());
        let bytes = if (200..300).contains(&status) {
            access_http::read_body(resp, self.inner.config.max_body_bytes)
                .await
                .map_err(|e| match e {
                    access_http::BodyError::Transport(e) => transport(e),
                    other => Error::BodyTooLarge {
                        method: call.name,
                        source: other,
                    },
                })?
        } else {
            // only the start of an error body is ever shown
            access_http::read_body_truncated(resp, access_http::ERROR_BODY_LIMIT)
                .await
                .map_err(transport)?
        };
        tracing::debug!(status, bytes = bytes.len(), total, "response received");
        if bytes.len() < BLOCKING_DECODE_BYTES {
            return decode_body::<R>(call.name, status, &bytes)
                .map(|r| (r, total))
                .map_err(|e| self.redact(e));
        }
        // a multi-megabyte lease list takes tens of milliseconds to decode:
        // off the async workers, so other tasks keep running meanwhile
        let name = call.name;
        match tokio::task::spawn_blocking(move || decode_body::<R>(name, status, &bytes)).await {
            Ok(result) => result.map(|r| (r, total)).map_err(|e| self.redact(e)),
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(_) => Err(Error::Config("the runtime is shutting down".to_owned())),
        }
    }

    /// `error` with the credentials, and secret-shaped text, redacted.
    fn redact(&self, error: Error) -> Error {
        match &self.inner.config.credentials {
            // the user name is not secret, and Entrata's messages about
            // permissions are more useful with it
            Credentials::Basic { password, .. } => error.redact(&[password.expose_secret()]),
            Credentials::ApiKey(key) => error.redact(&[key.expose_secret()]),
        }
    }

    /// The page size a listing of `method` starts with: the configured
    /// one, or a smaller cap the server was caught applying.
    fn start_page_size(&self, method: &'static str) -> u32 {
        let configured = self.inner.config.per_page;
        self.lock_caps()
            .get(method)
            .map_or(configured, |cap| configured.min(*cap))
    }

    fn learn_page_cap(&self, method: &'static str, cap: u32) {
        self.lock_caps().insert(method, cap);
    }

    /// Forgets how many records the server was seen to return on one page,
    /// so that every short page is confirmed by the next one again. Call it
    /// when a listing looks cut short (a lease missing from a list that
    /// Entrata still reports by id): the server may have lowered its page
    /// cap.
    pub fn forget_page_floors(&self) {
        self.lock_floors().clear();
    }

    /// The most records `method` was seen to return on a page (0: none yet).
    fn page_floor(&self, method: &'static str) -> u64 {
        self.lock_floors().get(method).copied().unwrap_or(0)
    }

    fn learn_page_floor(&self, method: &'static str, n: u64) {
        let mut floors = self.lock_floors();
        let f = floors.entry(method).or_insert(0);
        *f = (*f).max(n);
    }

    fn lock_floors(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, u64>> {
        self.inner
            .page_floors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_caps(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, u32>> {
        self.inner
            .page_caps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A lazy stream of the pages of a listing (see [`Client::leases`] for
    /// the rules). A short page is held back until the next page shows it
    /// was the last; a listing always yields at least one page (perhaps
    /// empty); the stream ends after the first error.
    pub(crate) fn pages<R>(
        &self,
        call: Call,
    ) -> impl Stream<Item = Result<ListedPage<R>, Error>> + Send + 'static
    where
        R: Output + Paged + Send + 'static,
    {
        let listing = Listing {
            per_page: self.start_page_size(call.name),
            client: self.clone(),
            call,
            page: 1,
            requested: 0,
            collected: 0,
            total: None,
            held: None,
            previous: None,
            restarted: false,
            probe: None,
            outbox: VecDeque::new(),
            done: false,
        };
        futures::stream::unfold(listing, |mut l| async move {
            loop {
                if let Some(item) = l.outbox.pop_front() {
                    return Some((item, l));
                }
                if l.done {
                    return None;
                }
                l.step().await;
            }
        })
    }
}

/// A page of a listing, with what the listing knew when it was yielded.
pub(crate) struct ListedPage<R> {
    pub(crate) page: R,
    /// `X-Total-Count`, when the service sent it.
    pub(crate) total: Option<u64>,
    /// The page size in use.
    pub(crate) page_size: u32,
    /// Pages requested so far (a final empty page and pages discarded by a
    /// restart included).
    pub(crate) requested: u32,
}

/// The state of one listing.
struct Listing<R> {
    client: Client,
    call: Call,
    per_page: u32,
    /// The next page to ask for.
    page: u32,
    requested: u32,
    /// Records (skipped ones included) on the pages accepted so far.
    collected: u64,
    total: Option<u64>,
    /// A short page, held until the next page shows whether it was the last.
    held: Option<R>,
    previous: Option<Fingerprint>,
    /// Already restarted at a detected page-size cap.
    restarted: bool,
    /// The page size for the next request only: after a short first page
    /// of `k` records, page 2 is asked with `per_page = k`, so that it
    /// starts right after them whether the server offsets pages by the
    /// size asked for or by the size it answered with.
    probe: Option<u32>,
    outbox: VecDeque<Result<ListedPage<R>, Error>>,
    done: bool,
}

impl<R: Output + Paged + Send + 'static> Listing<R> {
    /// Fetches the next page and decides what it means.
    async fn step(&mut self) {
        let max_pages = self.client.inner.config.max_pages;
        if self.page > max_pages {
            let err = self.error(format!(
                "more than {max_pages} pages; raise max_pages if this is expected"
            ));
            return self.fail(err);
        }
        self.call.page = Some((self.page, self.probe.take().unwrap_or(self.per_page)));
        self.requested += 1;
        match self.client.call_counted::<R>(&self.call).await {
            Ok((page, total)) => {
                if let Err(e) = self.accept(page, total) {
                    self.fail(e);
                }
            }
            Err(e) => self.fail(e),
        }
    }

    fn accept(&mut self, page: R, total: Option<u64>) -> Result<(), Error> {
        let n = page.record_count() as u64;
        let per_page = u64::from(self.per_page);
        match (self.total, total) {
            (Some(was), Some(now)) if was != now => {
                return Err(self.error(format!(
                    "X-Total-Count changed from {was} to {now} during the listing"
                )));
            }
            (None, Some(now)) => self.total = Some(now),
            _ => {}
        }

        let print = page.fingerprint();
        let repeat = n > 0 && self.previous.as_ref() == Some(&print);
        self.previous = Some(print);
        if repeat {
            // after a short page: the server ignores page_no, and that page
            // (page 1) was the whole list; drop the repeat
            if let Some(held) = self.held.take() {
                self.emit(held);
                return self.finish();
            }
            return Err(self.error(
                "the server sent the same page again (it may ignore page_no for this method); \
                 try a larger per_page"
                    .to_owned(),
            ));
        }

        if n > per_page {
            // the server ignores per_page: this page is the whole list
            if self.page != 1 || self.restarted {
                return Err(self.error(format!(
                    "page {} has {n} records, more than the {per_page} asked for, after other pages",
                    self.page
                )));
            }
            if let Some(t) = self.total.filter(|t| *t != n) {
                return Err(self.error(format!(
                    "the only page has {n} records but X-Total-Count says {t}"
                )));
            }
            self.collected = n;
            self.emit(page);
            return self.finish();
        }

        if n == 0 {
            if let Some(t) = self.total.filter(|t| *t != self.collected) {
                return Err(self.error(format!(
                    "an empty page after {} of the {t} records X-Total-Count announced",
                    self.collected
                )));
            }
            // the held short page closes the listing; else the empty page
            // does (so a listing always yields a page). The server returned
            // all of that short page: its cap, if any, is no smaller.
            if let Some(held) = &self.held {
                self.client
                    .learn_page_floor(self.call.name, held.record_count() as u64);
            }
            let last = self.held.take().unwrap_or(page);
            self.emit(last);
            return self.finish();
        }

        if let Some(held) = self.held.take() {
            // more records after a short page
            let short = held.record_count();
            if self.page == 2 && !self.restarted {
                return self.restart(short);
            }
            return Err(self.error(format!(
                "page {} had {short} records, fewer than the {per_page} asked for, \
                 yet page {} has {n} more",
                self.page - 1,
                self.page
            )));
        }

        self.collected += n;
        if let Some(t) = self.total {
            if self.collected > t {
                return Err(self.error(format!(
                    "{} records collected, more than the {t} X-Total-Count announced",
                    self.collected
                )));
            }
            if self.collected == t {
                self.emit(page);
                return self.finish();
            }
            if n < per_page {
                if self.page == 1 && !self.restarted {
                    return self.restart(page.record_count());
                }
                return Err(self.error(format!(
                    "page {} had {n} records, fewer than the {per_page} asked for, \
                     with {} of the {t} records X-Total-Count announced",
                    self.page, self.collected
                )));
            }
            self.emit(page);
        } else if self.page == 1
            && !self.restarted
            && n < per_page
            && n < self.client.page_floor(self.call.name)
        {
            // A first page with fewer records than the server has returned
            // on one page before: not a cap (a cap is at least that), so
            // the whole list. This saves the empty page that would confirm
            // it (Entrata counts every call). Later short pages are still
            // confirmed, so a server that changes its mind mid-listing is
            // caught.
            self.emit(page);
            return self.finish();
        } else if n < per_page {
            // maybe the end, maybe a cap: the next page decides, asked at
            // this page's size when this is the first page
            if self.page == 1 && !self.restarted {
                self.probe = u32::try_from(n).ok();
            }
            self.held = Some(page);
        } else {
            self.client.learn_page_floor(self.call.name, n);
            self.emit(page);
        }
        self.page += 1;
        Ok(())
    }

    /// The server answered `per_page` with `cap` records and then more:
    /// it caps the page size. Pages it offset by the size asked for would
    /// have skipped records, so read again from page 1 at the cap.
    fn restart(&mut self, cap: usize) -> Result<(), Error> {
        let cap = u32::try_from(cap).unwrap_or(u32::MAX).max(1);
        tracing::warn!(
            method = self.call.name,
            asked = self.per_page,
            cap,
            "Entrata returns fewer records per page than asked for; reading the listing again from page 1 at that size"
        );
        self.client.learn_page_cap(self.call.name, cap);
        self.per_page = cap;
        self.page = 1;
        self.collected = 0;
        self.held = None;
        self.previous = None;
        self.restarted = true;
        Ok(())
    }

    fn emit(&mut self, page: R) {
        self.outbox.push_back(Ok(ListedPage {
            page,
            total: self.total,
            page_size: self.per_page,
            requested: self.requested,
        }));
    }

    fn finish(&mut self) -> Result<(), Error> {
        self.done = true;
        Ok(())
    }

    fn fail(&mut self, err: Error) {
        self.outbox.push_back(Err(err));
        self.done = true;
    }

    fn error(&self, message: String) -> Error {
        Error::Pagination {
            method: self.call.name,
            page: self.page,
            message,
        }
    }
}

/// Enough of a page to tell whether two pages are the same.
pub(crate) type Fingerprint = (usize, Option<String>, Option<String>);

/// `X-Total-Count` (header names are case-insensitive), when readable.
fn total_count(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get("x-total-count")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A page of a paginated listing.
pub(crate) trait Paged {
    /// Records on the page, skipped ones included.
    fn record_count(&self) -> usize;
    /// Enough to tell whether two pages are the same.
    fn fingerprint(&self) -> Fingerprint;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn base_urls_are_checked() {
        let creds = || Credentials::basic("u", "p");
        assert!(
            Client::builder("http://example.com/api/v1", creds())
                .build()
                .is_err()
        );
        assert!(Client::builder("not a url", creds()).build().is_err());
        assert!(
            Client::builder("https://u:p@x.entrata.com/api/v1", creds())
                .build()
                .is_err()
        );
        let c = Client::builder("http://127.0.0.1:9/api/v1", creds())
            .build()
            .unwrap();
        assert_eq!(c.base_url().as_str(), "http://127.0.0.1:9/api/v1/");
        let c = Client::builder_basic("acme", "u", "p").build().unwrap();
        assert_eq!(c.base_url().as_str(), "https://acme.entrata.com/api/v1/");
        assert_eq!(
            c.base_url().join("leases").unwrap().as_str(),
            "https://acme.entrata.com/api/v1/leases"
        );
    }
}
