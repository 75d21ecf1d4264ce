//! The client, its builder, and the one place where requests are sent:
//! rate limit, call budget, token, 401 replay, retries, tracing.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use access_http::{
    Attempt, CachedToken, CallInfo, CallSnapshot, Pacer, RateLimiter, RetryDecision, RetryPolicy,
    Retryable, TokenCache, check_base_url,
};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, classify, classify_token, redact};

/// The most read of a successful API answer (a page of 100 users with
/// custom fields is well under 1 MiB).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The user agent sent by default.
pub const USER_AGENT: &str = concat!("brivo-client/", env!("CARGO_PKG_VERSION"));

/// Brivo's regions: each has its own hosts **and its own credentials**.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Region {
    /// `api.brivo.com` / `auth.brivo.com`.
    #[default]
    Us,
    /// `api.eu.brivo.com` / `auth.eu.brivo.com`.
    Eu,
}

impl Region {
    /// The API base URL, `/v1/api` included.
    pub fn api_base_url(self) -> &'static str {
        match self {
            Self::Us => "https://api.brivo.com/v1/api",
            Self::Eu => "https://api.eu.brivo.com/v1/api",
        }
    }

    /// The OAuth host.
    pub fn auth_base_url(self) -> &'static str {
        match self {
            Self::Us => "https://auth.brivo.com",
            Self::Eu => "https://auth.eu.brivo.com",
        }
    }
}

/// The five secrets a password-grant Brivo application needs.
///
/// - `api_key`: the Mashery key from developer.brivo.com, sent as the
///   `api-key` header on every call (token calls included);
/// - `client_id` / `client_secret`: the "Password" application created in
///   Brivo Access, sent by Basic auth to the token endpoint;
/// - `username` / `password`: the administrator's **Administrator ID** (not
///   the e-mail used in the web UI) and password.
///
/// `Debug` shows none of them.
#[derive(Clone)]
pub struct Credentials {
    api_key: SecretString,
    client_id: SecretString,
    client_secret: SecretString,
    username: SecretString,
    password: SecretString,
}

impl Credentials {
    /// Password-grant credentials: each a [`SecretString`], a `String` or a
    /// `&str`.
    ///
    /// ```
    /// use brivo_client::Credentials;
    ///
    /// let credentials = Credentials::password("k-1", "id-2", "s-3", "admin-4", "pw-5");
    /// assert!(!format!("{credentials:?}").contains("s-3"));
    /// ```
    pub fn password(
        api_key: impl Into<SecretString>,
        client_id: impl Into<SecretString>,
        client_secret: impl Into<SecretString>,
        username: impl Into<SecretString>,
        password: impl Into<SecretString>,
    ) -> Self {
        Self {
            api_key: api_key.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &"[redacted]")
            .field("client_id", &"[redacted]")
            .field("client_secret", &"[redacted]")
            .field("username", &"[redacted]")
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Builds a [`Client`]. Start with [`Client::builder`].
///
/// Defaults: US region, 10 s connect timeout, 30 s per-request timeout,
/// [`RetryPolicy::default`] (5 attempts, jittered backoff, `Retry-After`
/// honoured up to 60 s), 5 calls per second with bursts of 5, no call
/// budget, user agent `brivo-client/<version>`.
#[derive(Clone)]
pub struct ClientBuilder {
    credentials: Credentials,
    region: Region,
    base_url: Option<String>,
    auth_url: Option<String>,
    connect_timeout: Duration,
    timeout: Duration,
    retry_policy: RetryPolicy,
    rate: Option<(f64, u32)>,
    budget: Option<u64>,
    user_agent: String,
    http_client: Option<reqwest::Client>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("auth_url", &self.auth_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("retry_policy", &self.retry_policy)
            .field("rate", &self.rate)
            .field("budget", &self.budget)
            .field("user_agent", &self.user_agent)
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
    /// Selects the region (hosts). Default [`Region::Us`].
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// Overrides the API base URL (sandbox, staging, a mock server).
    ///
    /// The path is normalised to end in `/v1/api`: `http://127.0.0.1:8080`,
    /// `…/v1`, `…/api`, `…/api/v1` and `…/v1/api` all become `…/v1/api`.
    /// Unless [`auth_url`](Self::auth_url) is set too, the token endpoint is
    /// then `<scheme://host:port of this URL>/oauth/token`. Plain `http` is
    /// refused unless the host is loopback.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Overrides the OAuth base URL (the token endpoint is `<url>/oauth/token`).
    pub fn auth_url(mut self, url: impl Into<String>) -> Self {
        self.auth_url = Some(url.into());
        self
    }

    /// TCP/TLS connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Timeout of one HTTP attempt (retries get their own).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retry policy for throttling, 5xx and connection errors.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Client-side rate limit: `per_second` calls per second on average,
    /// bursts of `burst` (default 5 and 5). A non-positive rate means
    /// unlimited, like [`no_rate_limit`](Self::no_rate_limit). Shared by
    /// every clone of the client.
    pub fn rate_limit(mut self, per_second: f64, burst: u32) -> Self {
        self.rate = Some((per_second, burst));
        self
    }

    /// No client-side rate limit (a throttled answer still pauses every
    /// caller for its `Retry-After`).
    pub fn no_rate_limit(mut self) -> Self {
        self.rate = None;
        self
    }

    /// A call budget over a sliding 30-day window: once this client (all
    /// clones together) has made `calls` requests in the last 30 days,
    /// further operations fail with [`Error::CallBudgetExhausted`] **before
    /// sending anything**, until older calls leave the window. Brivo plans
    /// cap calls per 30 days (100,000 on tier 0); give this client the share
    /// it may spend. Token requests and retries count. The check runs when
    /// an operation starts, so the retries of an operation that already
    /// started may overrun the budget by a few calls.
    ///
    /// The window is counted in this process, in hourly steps (a call
    /// leaves the window up to an hour late: the budget errs on the safe
    /// side); a restart starts it afresh, so keep the durable count where
    /// the runner keeps its state.
    pub fn calls_per_30_days(mut self, calls: u64) -> Self {
        self.budget = Some(calls);
        self
    }

    /// Replaces the user agent.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sends every request through your own `reqwest::Client` instead of
    /// one built by [`build`](Self::build): for a shared connection pool, a
    /// proxy, your own TLS roots or backend, default headers, tracing
    /// middleware at the connector level, and so on.
    ///
    /// **It must never follow redirects**: build it with
    /// `.redirect(reqwest::redirect::Policy::none())`. A followed redirect
    /// would re-send the `api-key` header (reqwest drops only
    /// `Authorization` and cookies when the host, port or scheme changes)
    /// and, on a 307 or
    /// 308, the password grant's body, to wherever `Location` points.
    /// [`build`](Self::build) refuses a client that may follow redirects
    /// with [`Error::Config`]: reqwest cannot report a client's policy, so
    /// the check reads the client's `Debug` text, and fails closed (a
    /// `Policy::custom` cannot be inspected and is refused too). Should a
    /// response come from elsewhere anyway, it is refused with
    /// [`Error::Redirected`] (but the request had been re-sent by then).
    ///
    /// What still applies: the per-request [`timeout`](Self::timeout), the
    /// response size caps, retries, the rate limit and the call budget, and
    /// the `api-key`, `Authorization`, `Accept` and `Content-Type` headers
    /// of each request. What is yours: the connect timeout, the user agent
    /// ([`connect_timeout`](Self::connect_timeout) and
    /// [`user_agent`](Self::user_agent) are ignored), proxies, TLS, HTTP
    /// versions, pooling and default headers. `reqwest` is re-exported as
    /// [`brivo_client::reqwest`](crate::reqwest), so the versions match.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use brivo_client::{Client, Credentials, reqwest};
    ///
    /// # fn run(credentials: Credentials) -> Result<(), Box<dyn std::error::Error>> {
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none()) // required
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .user_agent("acme-door-sync/2.1")
    ///     .proxy(reqwest::Proxy::https("http://proxy.internal:3128")?)
    ///     .build()?;
    /// let client = Client::builder(credentials)
    ///     .http_client(http)
    ///     .timeout(Duration::from_secs(20)) // still applies, per request
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Checks the configuration and builds the client. Makes no request.
    ///
    /// # Errors
    /// [`Error::Config`] for an unparsable URL, a URL holding user info, or
    /// an invalid header value; [`Error::InsecureBaseUrl`] for plain `http`
    /// to a non-loopback host.
    pub fn build(self) -> Result<Client, Error> {
        for (setting, value) in [
            ("connect_timeout", self.connect_timeout),
            ("timeout", self.timeout),
        ] {
            // a zero timeout would fail every call, far from its cause
            if value.is_zero() {
                return Err(Error::Config {
                    message: format!("{setting} must be more than zero"),
                });
            }
        }
        let api_base = match &self.base_url {
            Some(u) => normalize_api_base(parse_url("base URL", u)?),
            None => parse_url("base URL", self.region.api_base_url())?,
        };
        let auth_base = match (&self.auth_url, &self.base_url) {
            (Some(u), _) => parse_url("auth URL", u)?,
            (None, Some(_)) => {
                let mut origin = api_base.clone();
                origin.set_path("");
                origin
            }
            (None, None) => parse_url("auth URL", self.region.auth_base_url())?,
        };
        check_base_url(&api_base)?;
        check_base_url(&auth_base)?;
        let mut token_url = auth_base;
        {
            let path = token_url.path().trim_end_matches('/').to_owned();
            token_url.set_path(&format!("{path}/oauth/token"));
        }
        let mut api_key =
            HeaderValue::from_str(self.credentials.api_key.expose_secret()).map_err(|_| {
                Error::Config {
                    message: "the API key is not a valid header value".into(),
                }
            })?;
        api_key.set_sensitive(true);
        // never follows redirects: one would resend the api-key, the bearer
        // token or the password grant to another (maybe plain-http) host
        let http = match self.http_client {
            Some(http) => access_http::check_http_client(&http).map(|()| http),
            None => access_http::build_http_client(
                self.connect_timeout,
                &self.user_agent,
                &[&api_base, &token_url],
            ),
        }
        .map_err(|e| Error::Config {
            message: e.to_string(),
        })?;
        let limiter = match self.rate {
            Some((per_second, burst)) => RateLimiter::new(per_second, burst),
            None => RateLimiter::unlimited(),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                api_base,
                token_url,
                api_key,
                timeout: self.timeout,
                credentials: self.credentials,
                pacer: Pacer::new(self.retry_policy, limiter).with_service("brivo"),
                tokens: TokenCache::new(Duration::from_secs(10)),
                budget: self.budget.map(CallBudget::new),
                user_agent: self.user_agent,
                refusals: Refusals::default(),
            }),
        })
    }
}

fn parse_url(what: &str, text: &str) -> Result<Url, Error> {
    let url = Url::parse(text.trim()).map_err(|e| Error::Config {
        message: format!("{what} {text:?} is not a URL: {e}"),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config {
            message: format!("{what} must not contain a user name or password"),
        });
    }
    if url.cannot_be_a_base() {
        return Err(Error::Config {
            message: format!("{what} {text:?} is not an http(s) URL"),
        });
    }
    Ok(url)
}

/// Makes the path end in exactly `/v1/api`.
fn normalize_api_base(mut url: Url) -> Url {
    let path = url.path().trim_end_matches('/').to_owned();
    let stem = ["/v1/api", "/api/v1", "/v1", "/api"]
        .iter()
        .find_map(|suffix| path.strip_suffix(suffix))
        .unwrap_or(&path)
        .to_owned();
    url.set_path(&format!("{stem}/v1/api"));
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// An async client for the Brivo Access REST API.
///
/// Cheap to clone: clones share the HTTP connection pool, the token, the
/// rate limiter and the call counters.
///
/// ```no_run
/// use brivo_client::{Client, Credentials};
/// use brivo_client::SecretString;
///
/// # async fn run() -> Result<(), brivo_client::Error> {
/// let env = |k: &str| SecretString::from(std::env::var(k).unwrap_or_default());
/// let client = Client::builder(Credentials::password(
///     env("BRIVO_API_KEY"),
///     env("BRIVO_CLIENT_ID"),
///     env("BRIVO_CLIENT_SECRET"),
///     env("BRIVO_USERNAME"),
///     env("BRIVO_PASSWORD"),
/// ))
/// .calls_per_30_days(100_000)
/// .build()?;
///
/// if let Some(user) = client.get_user_by_external_id("sync:entrata:42").await? {
///     println!("{} is Brivo user {}", user.display_name(), user.id);
/// }
/// println!("{} calls made", client.calls().calls);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    api_base: Url,
    token_url: Url,
    api_key: HeaderValue,
    /// Per request, so that it applies to a caller's HTTP client too.
    timeout: Duration,
    credentials: Credentials,
    pacer: Pacer,
    tokens: TokenCache<Token>,
    budget: Option<CallBudget>,
    user_agent: String,
    refusals: Refusals,
}

/// The calls of the last 30 days, from hourly samples of the client's
/// running total: `total now − total at the newest sample at least 30 days
/// old` (0 when the client is younger). Hourly steps keep 720 samples at
/// most and count a call up to an hour too long, never too short.
struct CallBudget {
    limit: u64,
    samples: std::sync::Mutex<std::collections::VecDeque<(tokio::time::Instant, u64)>>,
}

impl fmt::Debug for CallBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallBudget")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl CallBudget {
    const WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);
    const STEP: Duration = Duration::from_secs(3600);

    fn new(limit: u64) -> Self {
        let start = std::collections::VecDeque::from([(tokio::time::Instant::now(), 0)]);
        CallBudget {
            limit,
            samples: std::sync::Mutex::new(start),
        }
    }

    /// The calls in the window ending now, given the running total.
    fn used(&self, total: u64) -> u64 {
        let now = tokio::time::Instant::now();
        let mut s = self
            .samples
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if s.back()
            .is_none_or(|(t, _)| now.duration_since(*t) >= Self::STEP)
        {
            s.push_back((now, total));
        }
        // keep one sample at or before the window's start: the baseline
        while s.len() >= 2
            && s.get(1)
                .is_some_and(|(t, _)| now.duration_since(*t) >= Self::WINDOW)
        {
            s.pop_front();
        }
        let base = match s.front() {
            Some((t, n)) if now.duration_since(*t) >= Self::WINDOW => *n,
            _ => 0,
        };
        total.saturating_sub(base)
    }
}

/// Definitive refusals of the credentials by the token endpoint, so that
/// callers queued behind a refused token request fail with the same answer
/// instead of each asking again (the token cache retries the fetch for
/// every waiter after a failure).
#[derive(Default)]
struct Refusals {
    count: AtomicU64,
    last: Mutex<Option<Refusal>>,
}

#[derive(Clone)]
enum Refusal {
    Credentials {
        status: u16,
        error: Option<String>,
        description: Option<String>,
    },
    ApiKey,
}

impl Refusal {
    fn of(error: &Error) -> Option<Self> {
        match error {
            Error::Auth {
                status,
                error,
                description,
                ..
            } => Some(Self::Credentials {
                status: *status,
                error: error.clone(),
                description: description.clone(),
            }),
            Error::ApiKeyInactive { .. } => Some(Self::ApiKey),
            _ => None,
        }
    }

    fn to_error(&self, method: &'static str) -> Error {
        match self.clone() {
            Self::Credentials {
                status,
                error,
                description,
            } => Error::Auth {
                method,
                status,
                error,
                description,
            },
            Self::ApiKey => Error::ApiKeyInactive { method },
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("api_base", &i.api_base.as_str())
            .field("token_url", &i.token_url.as_str())
            .field("credentials", &i.credentials)
            .field("retry_policy", i.pacer.policy())
            .field("rate_per_second", &i.pacer.limiter().per_second())
            .field("budget", &i.budget.as_ref().map(|b| b.limit))
            .field("calls", &i.pacer.stats().snapshot())
            .field("user_agent", &i.user_agent)
            .finish_non_exhaustive()
    }
}

/// An access token and the refresh token that came with it.
#[derive(Clone)]
struct Token {
    access: SecretString,
    refresh: Option<SecretString>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "crate::models::common::opt_lenient_u64")]
    expires_in: Option<u64>,
}

/// A request to the API host.
pub(crate) struct Req {
    pub(crate) name: &'static str,
    pub(crate) verb: Method,
    pub(crate) url: Url,
    pub(crate) body: Option<Vec<u8>>,
    /// Safe to send twice. `false` for creations: then only throttled
    /// answers and connect failures (nothing sent) are retried.
    pub(crate) idempotent: bool,
}

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) body: Vec<u8>,
}

/// An attempt's failure as the retry loop sees it.
#[derive(Debug)]
struct Failure {
    error: Error,
    /// Do not retry, whatever the error says (token failures were retried
    /// already by their own loop).
    fatal: bool,
    idempotent: bool,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

impl Retryable for Failure {
    fn retry_decision(&self) -> RetryDecision {
        if self.fatal {
            return RetryDecision::DoNotRetry;
        }
        if self.idempotent {
            return self.error.retry_decision();
        }
        match &self.error {
            // the gateway refused it, or nothing was sent: safe to repeat
            Error::Throttled { .. } | Error::Transport { .. } => self.error.retry_decision(),
            _ => RetryDecision::DoNotRetry,
        }
    }
}

impl Client {
    /// Starts a builder with the given credentials.
    pub fn builder(credentials: Credentials) -> ClientBuilder {
        ClientBuilder {
            credentials,
            region: Region::Us,
            base_url: None,
            auth_url: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retry_policy: RetryPolicy::default(),
            rate: Some((5.0, 5)),
            budget: None,
            user_agent: USER_AGENT.to_owned(),
            http_client: None,
        }
    }

    /// The API base URL in use (ends in `/v1/api`).
    pub fn api_base_url(&self) -> &Url {
        &self.inner.api_base
    }

    /// Calls made so far by this client and its clones: every HTTP request
    /// (token requests, retries and 401 replays included), plus how many
    /// were retries and how many answers were throttling.
    pub fn calls(&self) -> CallSnapshot {
        self.inner.pacer.stats().snapshot()
    }

    /// Calls left in the budget set with
    /// [`ClientBuilder::calls_per_30_days`], `None` without a budget.
    pub fn remaining_budget(&self) -> Option<u64> {
        self.inner
            .budget
            .as_ref()
            .map(|b| b.limit.saturating_sub(b.used(self.calls().calls)))
    }

    /// Fetches a token now (normally done lazily): checks the credentials
    /// with one token request, or none if a fresh token is cached.
    ///
    /// # Errors
    /// [`Error::Auth`] for refused credentials, [`Error::ApiKeyInactive`]
    /// for a refused API key, transport and server errors otherwise.
    pub async fn authenticate(&self) -> Result<(), Error> {
        self.check_budget("authenticate")?;
        self.token("authenticate").await.map(drop)
    }

    /// Forgets the cached token; the next call authenticates from scratch.
    pub async fn clear_token(&self) {
        self.inner.tokens.clear().await;
    }

    /// `base/segment/segment…` with each segment percent-encoded.
    pub(crate) fn url<I, S>(&self, segments: I) -> Url
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut url = self.inner.api_base.clone();
        url.path_segments_mut()
            .expect("the base URL was checked to be an http(s) URL at build time")
            .extend(segments);
        url
    }

    fn check_budget(&self, name: &'static str) -> Result<(), Error> {
        if let Some(budget) = &self.inner.budget {
            let used = budget.used(self.calls().calls);
            if used >= budget.limit {
                return Err(Error::CallBudgetExhausted {
                    method: name,
                    budget: budget.limit,
                    used,
                });
            }
        }
        Ok(())
    }

    /// Sends `req` with retries and returns the successful answer.
    pub(crate) async fn execute(&self, req: &Req) -> Result<Answer, Error> {
        self.check_budget(req.name)?;
        // Get the token before the retry loop: the Pacer counts an attempt
        // as a call when it starts, so an attempt that failed on the token
        // would be counted without having been sent. Inside the loop this
        // is a cache hit unless the token expired during retries.
        self.token(req.name).await?;
        self.inner
            .pacer
            .run(
                CallInfo::new(req.name, req.verb.as_str()).url(&req.url),
                |attempt| self.attempt(req, attempt),
            )
            .await
            .map_err(|f| f.error)
    }

    /// Sends `req` and decodes the JSON answer.
    pub(crate) async fn execute_json<T: DeserializeOwned>(&self, req: &Req) -> Result<T, Error> {
        let answer = self.execute(req).await?;
        decode(req.name, &answer.body)
    }

    async fn attempt(&self, req: &Req, attempt: Attempt) -> Result<Answer, Failure> {
        let fail = |error: Error, fatal: bool| Failure {
            error,
            fatal,
            idempotent: req.idempotent,
        };
        let token = self.token(req.name).await.map_err(|e| fail(e, true))?;
        let mut answer = self
            .send(req, &token.token)
            .await
            .map_err(|e| fail(e, false))?;
        let mut renewed = None;
        if answer.0 == StatusCode::UNAUTHORIZED {
            attempt.record_status(401);
            tracing::debug!("access token refused; renewing it once");
            // each refused token counts once towards the breaker; a
            // success on the renewed token resets it
            self.inner
                .tokens
                .record_auth_failure(Some(token.generation));
            self.inner.tokens.invalidate(token.generation).await;
            let fresh = self.token(req.name).await.map_err(|e| fail(e, true))?;
            self.inner.pacer.limiter().acquire().await;
            self.inner.pacer.stats().record_call();
            answer = self
                .send(req, &fresh.token)
                .await
                .map_err(|e| fail(e, false))?;
            if answer.0 == StatusCode::UNAUTHORIZED {
                self.inner
                    .tokens
                    .record_auth_failure(Some(fresh.generation));
            }
            renewed = Some(fresh.token);
        }
        let (status, headers, body) = answer;
        attempt.record_status(status.as_u16());
        if status != StatusCode::UNAUTHORIZED {
            self.inner.tokens.record_auth_success();
        }
        if status.is_success() {
            tracing::debug!(status = status.as_u16(), bytes = body.len(), "answered");
            return Ok(Answer { body });
        }
        let error = redact(
            classify(req.name, req.url.path(), status, &headers, &body),
            &[
                token.token.access.expose_secret(),
                renewed.as_ref().map_or("", |t| t.access.expose_secret()),
                self.inner.credentials.api_key.expose_secret(),
            ],
        );
        tracing::debug!(status = status.as_u16(), %error, "failed");
        // a 401 after a fresh token will not get better by retrying
        let fatal = status == StatusCode::UNAUTHORIZED;
        Err(fail(error, fatal))
    }

    async fn send(
        &self,
        req: &Req,
        token: &Token,
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, Vec<u8>), Error> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.access.expose_secret()))
            .map_err(|_| Error::Unauthorized {
            method: req.name,
            error: None,
            description: Some("the token endpoint returned an unusable access token".into()),
        })?;
        auth.set_sensitive(true);
        let mut builder = self
            .inner
            .http
            .request(req.verb.clone(), req.url.clone())
            .timeout(self.inner.timeout)
            .header("api-key", self.inner.api_key.clone())
            .header(AUTHORIZATION, auth)
            .header(ACCEPT, "application/json");
        if let Some(body) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        } else if matches!(req.verb, Method::PUT | Method::POST | Method::PATCH) {
            // Brivo answers 415 to a write without a Content-Type (the
            // membership PUT has no payload); recorded clients send `{}`
            builder = builder.header(CONTENT_TYPE, "application/json").body("{}");
        }
        let transport = |source: reqwest::Error| Error::Transport {
            method: req.name,
            maybe_applied: !req.idempotent && !source.is_connect(),
            source,
        };
        let response = builder.send().await.map_err(transport)?;
        let status = response.status();
        if let Some(redirect) = access_http::followed_redirect(&req.url, &response) {
            return Err(Error::Redirected {
                method: req.name,
                status: status.as_u16(),
                redirect,
            });
        }
        let headers = response.headers().clone();
        if status.is_redirection() {
            return Err(Error::Redirected {
                method: req.name,
                status: status.as_u16(),
                redirect: access_http::describe_redirect(status.as_u16(), &headers),
            });
        }
        let body = if status.is_success() {
            access_http::read_body(response, BODY_LIMIT)
                .await
                .map_err(|e| match e {
                    access_http::BodyError::Transport(source) => transport(source),
                    other => Error::BodyTooLarge {
                        method: req.name,
                        source: other,
                    },
                })?
        } else {
            // capped before any processing: error bodies are lower-cased
            // and searched, which a 512 MiB body must not get to
            access_http::read_body_truncated(response, access_http::ERROR_BODY_LIMIT)
                .await
                .map_err(transport)?
        };
        Ok((status, headers, body))
    }

    /// The cached token, or a new one (refresh grant first, then password).
    async fn token(&self, name: &'static str) -> Result<CachedToken<Token>, Error> {
        let refusals = &self.inner.refusals;
        let seen = refusals.count.load(Ordering::SeqCst);
        self.inner
            .tokens
            .get(|previous| async move {
                // credentials refused again and again: do not ask again
                // (each password grant may count towards a lock-out)
                self.inner
                    .tokens
                    .check_breaker()
                    .map_err(|blocked| Error::AuthBlocked {
                        method: name,
                        blocked,
                    })?;
                // refused while this caller waited for the cache: same answer
                if refusals.count.load(Ordering::SeqCst) != seen
                    && let Some(refusal) = lock(&refusals.last).clone()
                {
                    return Err(refusal.to_error(name));
                }
                let result = self.fetch_token(name, previous).await;
                match &result {
                    // a token granted: the API's answer to it is what
                    // counts (an API key it refuses must still open the
                    // breaker), so only the probe is handed back
                    Ok(_) => self.inner.tokens.release_probe(),
                    Err(error) => {
                        let refusal = Refusal::of(error);
                        if matches!(refusal, Some(Refusal::Credentials { .. })) {
                            self.inner.tokens.record_auth_failure(None);
                        } else {
                            // no answer about the credentials (a 5xx)
                            self.inner.tokens.release_probe();
                        }
                        if let Some(refusal) = refusal {
                            *lock(&refusals.last) = Some(refusal);
                            refusals.count.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                result
            })
            .await
    }

    async fn fetch_token(
        &self,
        name: &'static str,
        previous: Option<Token>,
    ) -> Result<(Token, Duration), Error> {
        if let Some(refresh) = previous.and_then(|t| t.refresh) {
            match self.token_grant(name, Some(&refresh)).await {
                Ok((mut token, lifetime)) => {
                    if token.refresh.is_none() {
                        token.refresh = Some(refresh);
                    }
                    return Ok((token, lifetime));
                }
                Err(error) => {
                    tracing::debug!(%error, "refresh grant failed; using the password grant");
                }
            }
        }
        self.token_grant(name, None).await
    }

    async fn token_grant(
        &self,
        name: &'static str,
        refresh: Option<&SecretString>,
    ) -> Result<(Token, Duration), Error> {
        let grant = if refresh.is_some() {
            "refresh_token"
        } else {
            "password"
        };
        self.inner
            .pacer
            .run(
                CallInfo::new("oauth_token", "POST").url(&self.inner.token_url),
                |attempt| {
                    tracing::debug!(grant, for_method = name, "requesting a token");
                    self.token_call(name, refresh, attempt)
                },
            )
            .await
    }

    async fn token_call(
        &self,
        name: &'static str,
        refresh: Option<&SecretString>,
        attempt: Attempt,
    ) -> Result<(Token, Duration), Error> {
        let c = &self.inner.credentials;
        let form: Vec<(&str, &str)> = match refresh {
            Some(r) => vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", r.expose_secret()),
            ],
            None => vec![
                ("grant_type", "password"),
                ("username", c.username.expose_secret()),
                ("password", c.password.expose_secret()),
            ],
        };
        let transport = |source: reqwest::Error| Error::Transport {
            method: name,
            maybe_applied: false,
            source,
        };
        let response = self
            .inner
            .http
            .post(self.inner.token_url.clone())
            .timeout(self.inner.timeout)
            .basic_auth(
                c.client_id.expose_secret(),
                Some(c.client_secret.expose_secret()),
            )
            .header("api-key", self.inner.api_key.clone())
            .header(ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        attempt.record_status(status.as_u16());
        if let Some(redirect) = access_http::followed_redirect(&self.inner.token_url, &response) {
            return Err(Error::Redirected {
                method: name,
                status: status.as_u16(),
                redirect,
            });
        }
        let headers = response.headers().clone();
        if status.is_redirection() {
            return Err(Error::Redirected {
                method: name,
                status: status.as_u16(),
                redirect: access_http::describe_redirect(status.as_u16(), &headers),
            });
        }
        let body = if status.is_success() {
            access_http::read_body(response, access_http::TOKEN_BODY_LIMIT)
                .await
                .map_err(|e| match e {
                    access_http::BodyError::Transport(source) => transport(source),
                    other => Error::BodyTooLarge {
                        method: name,
                        source: other,
                    },
                })?
        } else {
            access_http::read_body_truncated(response, access_http::ERROR_BODY_LIMIT)
                .await
                .map_err(transport)?
        };
        if !status.is_success() {
            let mut secrets = vec![
                c.api_key.expose_secret(),
                c.client_id.expose_secret(),
                c.client_secret.expose_secret(),
                c.username.expose_secret(),
                c.password.expose_secret(),
            ];
            secrets.extend(refresh.map(|r| r.expose_secret()));
            return Err(redact(
                classify_token(name, status, &headers, &body),
                &secrets,
            ));
        }
        let parsed: TokenResponse = decode(name, &body)?;
        // Brivo's tokens live 59-300 s; without a lifetime assume a short one.
        // clamped to a day: `expires_in: u64::MAX` must not overflow
        let lifetime = access_http::token_lifetime(parsed.expires_in, Duration::from_secs(60));
        Ok((
            Token {
                access: SecretString::from(parsed.access_token),
                refresh: parsed.refresh_token.map(SecretString::from),
            },
            lifetime,
        ))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Decodes JSON, naming the path of the first offending value.
pub(crate) fn decode<T: DeserializeOwned>(name: &'static str, body: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Decode {
        method: name,
        path: e.path().to_string(),
        source: access_http::DecodeError::new(e.inner(), &[]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_budget_is_a_sliding_30_day_window_not_a_lifetime_cap() {
        let day = Duration::from_secs(24 * 3600);
        let b = CallBudget::new(100);
        assert_eq!(b.used(0), 0);
        tokio::time::advance(day).await;
        assert_eq!(b.used(60), 60); // 60 calls on day 1
        tokio::time::advance(10 * day).await;
        assert_eq!(b.used(100), 100, "spent on day 11");
        // the 60 calls made by day 1 stay in the window for 30 days...
        tokio::time::advance(20 * day - Duration::from_secs(3600)).await;
        assert_eq!(b.used(100), 100);
        // ... and then leave it
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert_eq!(b.used(100), 40);
        // a month with no calls: nothing in the window
        tokio::time::advance(31 * day).await;
        b.used(100);
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert_eq!(b.used(100), 0);
        assert!(
            b.samples.lock().unwrap().len() <= 722,
            "bounded: hourly samples over 30 days"
        );
    }

    #[test]
    fn base_urls_are_normalised_to_v1_api() {
        for (given, want) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/api"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/api"),
            ("https://api.brivo.com/v1", "https://api.brivo.com/v1/api"),
            ("https://api.brivo.com/api", "https://api.brivo.com/v1/api"),
            (
                "https://api.brivo.com/api/v1",
                "https://api.brivo.com/v1/api",
            ),
            (
                "https://api.brivo.com/v1/api/",
                "https://api.brivo.com/v1/api",
            ),
            ("https://x.test/brivo", "https://x.test/brivo/v1/api"),
        ] {
            let url = normalize_api_base(Url::parse(given).unwrap());
            assert_eq!(url.as_str(), want, "{given}");
        }
    }
}
