//! Client configuration.

use std::fmt;
use std::time::Duration;

use access_http::RetryPolicy;
use secrecy::SecretString;

use crate::client::Client;
use crate::error::Result;

/// Production API root (`/organizations/{slug}` is appended).
pub const PRODUCTION_API_URL: &str = "https://app.officernd.com/api/v2/";
/// Production token endpoint.
pub const PRODUCTION_TOKEN_URL: &str = "https://identity.officernd.com/oauth/token";
/// Staging API root.
pub const STAGING_API_URL: &str = "https://staging.officernd.com/api/v2/";
/// Staging token endpoint.
pub const STAGING_TOKEN_URL: &str = "https://identity-staging.officernd.com/oauth/token";

/// The read scopes access-sync uses, the default of
/// [`ClientBuilder::scopes`]: locations, members, memberships, resource
/// types, resources, assignments, bookings, visitors (the guests of a
/// booking) and day passes. Least privilege: the application in OfficeRnD
/// needs exactly these, and one ungranted scope would fail the whole token
/// request, so nothing else is asked for.
///
/// Calls outside this set (companies, plans, floors, check-ins) need
/// [`READ_SCOPES`] or their own scope added with [`ClientBuilder::scopes`];
/// without it OfficeRnD answers 401 and the error names the scope.
pub const SYNC_SCOPES: &[&str] = &[
    "flex.community.members.read",
    "flex.community.memberships.read",
    "flex.community.visitors.read",
    "flex.space.locations.read",
    "flex.space.resources.read",
    "flex.space.resourceTypes.read",
    "flex.space.assignments.read",
    "flex.space.bookings.read",
    "flex.space.passes.read",
];

/// The read scopes every method of this client needs. The application in
/// OfficeRnD must be granted all of them: one ungranted scope fails the
/// whole token request.
pub const READ_SCOPES: &[&str] = &[
    "flex.community.members.read",
    "flex.community.companies.read",
    "flex.community.memberships.read",
    "flex.community.checkins.read",
    "flex.community.visitors.read",
    "flex.billing.plans.read",
    "flex.space.locations.read",
    "flex.space.floors.read",
    "flex.space.resources.read",
    "flex.space.resourceTypes.read",
    "flex.space.assignments.read",
    "flex.space.bookings.read",
    "flex.space.passes.read",
];

/// The `User-Agent` sent by default.
pub const USER_AGENT: &str = concat!("officernd-client/", env!("CARGO_PKG_VERSION"));

/// Builds a [`Client`].
///
/// Defaults: production URLs, [`SYNC_SCOPES`], 10 s connect timeout, 30 s
/// per request, [`RetryPolicy::default`], and a client-side limit of 5 calls
/// per second with bursts of 10 (OfficeRnD allows roughly 400 reads a
/// minute; its exact numbers are not published).
///
/// ```
/// use officernd_client::Client;
/// use officernd_client::SecretString;
///
/// let client = Client::builder("acme-coworking", "my-client-id", SecretString::from("my-secret"))
///     .staging()
///     .timeout(std::time::Duration::from_secs(20))
///     .build()
///     .unwrap();
/// assert!(!format!("{client:?}").contains("my-secret"));
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    pub(crate) org_slug: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) scopes: Vec<String>,
    pub(crate) api_url: String,
    pub(crate) token_url: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) retry_policy: RetryPolicy,
    pub(crate) rate_limit: Option<(f64, u32)>,
    pub(crate) user_agent: String,
    pub(crate) http_client: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// A builder for organization `org_slug` (the segment in
    /// `https://app.officernd.com/admin/<slug>`) with the credentials of an
    /// OfficeRnD application (Settings → Developer Tools → Applications).
    pub fn new(
        org_slug: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Self {
        Self {
            org_slug: org_slug.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scopes: SYNC_SCOPES.iter().map(|s| s.to_string()).collect(),
            api_url: PRODUCTION_API_URL.to_string(),
            token_url: PRODUCTION_TOKEN_URL.to_string(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retry_policy: RetryPolicy::default(),
            rate_limit: Some((5.0, 10)),
            user_agent: USER_AGENT.to_string(),
            http_client: None,
        }
    }

    /// Uses OfficeRnD's staging hosts.
    pub fn staging(mut self) -> Self {
        self.api_url = STAGING_API_URL.to_string();
        self.token_url = STAGING_TOKEN_URL.to_string();
        self
    }

    /// The API root, up to and including `/api/v2` (a sandbox or mock
    /// server); `organizations/{slug}/` is appended. Must be HTTPS unless
    /// the host is loopback.
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = url.into();
        self
    }

    /// The OAuth2 token endpoint. Must be HTTPS unless the host is loopback.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// The scopes to request (space-separated on the wire), replacing the
    /// default [`SYNC_SCOPES`]. Ask only for what the application was
    /// granted; [`READ_SCOPES`] covers every method of this client.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Timeout of each request (each attempt).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retry policy (attempts, backoff, time budget).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Client-side rate limit: `per_second` calls per second on average,
    /// bursts of `burst`.
    pub fn rate_limit(mut self, per_second: f64, burst: u32) -> Self {
        self.rate_limit = Some((per_second, burst));
        self
    }

    /// No client-side rate limit (a throttled answer still pauses every
    /// caller for its `Retry-After`).
    pub fn no_rate_limit(mut self) -> Self {
        self.rate_limit = None;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sends every request through your own `reqwest::Client` instead of
    /// one built by [`build`](Self::build): for a shared connection pool, a
    /// proxy, your own TLS roots or backend, default headers, and so on.
    ///
    /// **It must never follow redirects**: build it with
    /// `.redirect(reqwest::redirect::Policy::none())`. On a 307 or 308 a
    /// followed redirect would re-send the token request's body, client
    /// secret included, to wherever `Location` points (reqwest drops only
    /// `Authorization` and cookies when the host, port or scheme changes).
    /// [`build`](Self::build) refuses a client that may follow redirects
    /// with [`Error::Config`](crate::Error::Config): reqwest cannot report a
    /// client's policy, so the check reads the client's `Debug` text, and
    /// fails closed (a `Policy::custom` cannot be inspected and is refused
    /// too). Should a response come from elsewhere anyway, it is refused
    /// with [`Error::Redirected`](crate::Error::Redirected) (but the request
    /// had been re-sent by then).
    ///
    /// What still applies: the per-request [`timeout`](Self::timeout), the
    /// response size caps, retries, the rate limit, and each request's
    /// `Authorization` and `Accept` headers. What is yours: the connect
    /// timeout, the user agent ([`connect_timeout`](Self::connect_timeout)
    /// and [`user_agent`](Self::user_agent) are ignored), proxies, TLS, HTTP
    /// versions, pooling and default headers. `reqwest` is re-exported as
    /// [`officernd_client::reqwest`](crate::reqwest), so the versions match.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use officernd_client::{Client, reqwest};
    ///
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none()) // required
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .user_agent("acme-door-sync/2.1")
    ///     .proxy(reqwest::Proxy::https("http://proxy.internal:3128")?)
    ///     .build()?;
    /// let client = Client::builder("acme-coworking", "client-id", "client-secret")
    ///     .http_client(http)
    ///     .timeout(Duration::from_secs(20)) // still applies, per request
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Checks the configuration and builds the client (no network call).
    pub fn build(self) -> Result<Client> {
        Client::from_builder(self)
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("org_slug", &self.org_slug)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scopes", &self.scopes)
            .field("api_url", &self.api_url)
            .field("token_url", &self.token_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("retry_policy", &self.retry_policy)
            .field("rate_limit", &self.rate_limit)
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
