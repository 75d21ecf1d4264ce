//! In-process fake Entrata, Brivo and OfficeRnD servers for examples and end-to-end tests.
//!
//! [`Sandbox::start_default`] binds three HTTP servers on `127.0.0.1` (random ports),
//! seeded with the sample portfolio of `sandbox/README.md` ([`story`] has its ids and the
//! instants worth syncing at). Each serves the service's real wire format, quirks included
//! (sources: `/work/shared/api/{brivo,entrata,officernd}.md`), accepts the dummy
//! [`SandboxCredentials`], and takes injected [`Fault`]s. Servers stop when the
//! [`Sandbox`] is dropped or on [`Sandbox::shutdown`].
//!
//! A test starts a sandbox, points its clients at the URLs, injects faults and asserts on
//! the fake Brivo account:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use sandbox::{Fault, Sandbox, story};
//!
//! let sb = Sandbox::start_default().await?;
//! let c = sb.credentials();
//! // Brivo: token at {brivo_auth_url}/oauth/token, API under {brivo_api_url}/users, …
//! // Entrata: POST {entrata_api_url}/leases (Basic) or {entrata_gateway_url}/leases (X-Api-Key).
//! // OfficeRnD: token at {officernd_identity_url}/oauth/token, API under {officernd_api_url}/members.
//! assert!(sb.entrata_gateway_url().ends_with("/ext/orgs/sandbox/v1"));
//! assert!(sb.officernd_api_url().ends_with("/api/v2/organizations/sandbox-org"));
//!
//! let http = reqwest::Client::new();
//! let token: serde_json::Value = http
//!     .post(format!("{}/oauth/token", sb.brivo_auth_url()))
//!     .basic_auth(&c.brivo_client_id, Some(&c.brivo_client_secret))
//!     .header("api-key", &c.brivo_api_key)
//!     .form(&[
//!         ("grant_type", "password"),
//!         ("username", c.brivo_username.as_str()),
//!         ("password", c.brivo_password.as_str()),
//!     ])
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! let bearer = token["access_token"].as_str().unwrap_or_default();
//!
//! // The next Brivo call gets a 429, the one after it succeeds.
//! sb.faults().brivo(Fault::TooManyRequests { times: 1, retry_after_secs: 1 });
//! let url = format!("{}/users/{}/external", sb.brivo_api_url(), "sync%3Aentrata%3A100%3A5006");
//! let get = || http.get(&url).header("api-key", &c.brivo_api_key).bearer_auth(bearer).send();
//! assert_eq!(get().await?.status(), 429);
//! assert_eq!(get().await?.status(), 200);
//!
//! let state = sb.brivo().snapshot();
//! assert!(state.members_of(story::GROUP_HARBOR_VIEW_RESIDENTS).contains(&story::USER_FAY_FORMER));
//! assert_eq!((sb.brivo_calls(), sb.brivo_writes()), (3, 0));
//! sb.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Handlers short-circuit with a ready `Response` as the error; boxing it buys nothing here.
#![allow(clippy::result_large_err)]

mod brivo;
mod common;
mod elsewhere;
mod entrata;
mod officernd;
pub mod platform;
mod seed;
mod server;
pub mod story;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use brivo::{
    BrivoGroup, BrivoHandle, BrivoSnapshot, BrivoUser, MAX_GROUPS_PER_USER, MembershipChange,
    NewBrivoUser,
};
pub use common::{CallStats, Fault, RateLimit, ThrottleResponse};
pub use elsewhere::RecordedRequest;
pub use entrata::{DEFAULT_PAGE_CAP, EntrataHandle};
pub use officernd::{OfficeRndHandle, WebhookDelivery};
pub use seed::{BrivoSeed, EntrataSeed, OfficeRndSeed, Seed, fixture, fixture_names};

/// What can go wrong starting a sandbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A server could not bind its loopback port.
    #[error("sandbox: could not bind a 127.0.0.1 port: {0}")]
    Bind(#[from] std::io::Error),
    /// The seed data is malformed.
    #[error("sandbox: bad seed data: {0}")]
    Seed(String),
}

/// The dummy credentials the fake services accept (anything else is rejected the way the
/// real service rejects it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxCredentials {
    /// Brivo `api-key` header (Mashery key), required on every call.
    pub brivo_api_key: String,
    /// Brivo OAuth client id (Basic auth on `/oauth/token`).
    pub brivo_client_id: String,
    /// Brivo OAuth client secret.
    pub brivo_client_secret: String,
    /// Brivo administrator id for the password grant.
    pub brivo_username: String,
    /// Brivo administrator password for the password grant.
    pub brivo_password: String,
    /// Entrata Basic-auth user (per-customer host `/api/v1/{service}`).
    pub entrata_username: String,
    /// Entrata Basic-auth password.
    pub entrata_password: String,
    /// Entrata gateway `X-Api-Key` (`/ext/orgs/{org}/v1/{service}`).
    pub entrata_api_key: String,
    /// Entrata org (client subdomain) in gateway URLs.
    pub entrata_org: String,
    /// OfficeRnD application client id (client-credentials grant).
    pub officernd_client_id: String,
    /// OfficeRnD application client secret.
    pub officernd_client_secret: String,
    /// OfficeRnD organization slug in API URLs.
    pub officernd_org: String,
}

impl Default for SandboxCredentials {
    fn default() -> Self {
        Self {
            brivo_api_key: "sandbox-brivo-api-key".into(),
            brivo_client_id: "sandbox-brivo-client".into(),
            brivo_client_secret: "sandbox-brivo-secret".into(),
            brivo_username: "sandbox-admin".into(),
            brivo_password: "sandbox-password".into(),
            entrata_username: "sandbox-user".into(),
            entrata_password: "sandbox-password".into(),
            entrata_api_key: "sandbox-entrata-api-key".into(),
            entrata_org: "sandbox".into(),
            officernd_client_id: "sandbox-officernd-client".into(),
            officernd_client_secret: "sandbox-officernd-secret".into(),
            officernd_org: "sandbox-org".into(),
        }
    }
}

/// Tunables of a sandbox. `SandboxConfig::default()` is what [`Sandbox::start`] uses.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SandboxConfig {
    /// The credentials the services accept.
    pub credentials: SandboxCredentials,
    /// Brivo access-token lifetime (`expires_in`). Default 30 minutes; the real service
    /// gives 60 s to 300 s (`brivo.md` §1.4), so set it short to exercise refresh.
    pub brivo_token_ttl: Duration,
    /// Brivo per-second limit. Default 20/s with a burst of 40, answered with 429.
    pub brivo_rate_limit: Option<RateLimit>,
    /// OfficeRnD access-token lifetime. Default 3599 s, as the real one.
    pub officernd_token_ttl: Duration,
    /// OfficeRnD scopes the sandbox application was granted. A token request for any other
    /// scope fails as a whole (`officernd.md` §1.1). Default: every read scope the runner
    /// needs ([`officernd_read_scopes`]).
    pub officernd_granted_scopes: Vec<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            credentials: SandboxCredentials::default(),
            brivo_token_ttl: Duration::from_secs(30 * 60),
            brivo_rate_limit: Some(RateLimit {
                per_second: 20.0,
                burst: 40,
                response: ThrottleResponse::TooManyRequests,
            }),
            officernd_token_ttl: Duration::from_secs(3599),
            officernd_granted_scopes: officernd_read_scopes()
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

impl SandboxConfig {
    /// Sets the accepted credentials.
    pub fn with_credentials(mut self, credentials: SandboxCredentials) -> Self {
        self.credentials = credentials;
        self
    }
    /// Sets the Brivo access-token lifetime.
    pub fn with_brivo_token_ttl(mut self, ttl: Duration) -> Self {
        self.brivo_token_ttl = ttl;
        self
    }
    /// Sets (or removes, with `None`) the Brivo rate limit.
    pub fn with_brivo_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.brivo_rate_limit = limit;
        self
    }
    /// Sets the OfficeRnD access-token lifetime.
    pub fn with_officernd_token_ttl(mut self, ttl: Duration) -> Self {
        self.officernd_token_ttl = ttl;
        self
    }
    /// Sets the OfficeRnD scopes the sandbox application was granted.
    pub fn with_officernd_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.officernd_granted_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

/// The OfficeRnD read scopes the sandbox routes check, one per collection.
pub fn officernd_read_scopes() -> &'static [&'static str] {
    officernd::READ_SCOPES
}

/// Three running fake services. Dropping it stops them.
#[derive(Debug)]
pub struct Sandbox {
    creds: SandboxCredentials,
    brivo: Arc<brivo::Brivo>,
    entrata: Arc<entrata::Entrata>,
    officernd: Arc<officernd::OfficeRnd>,
    brivo_base: String,
    entrata_base: String,
    officernd_base: String,
    elsewhere_base: String,
    elsewhere: elsewhere::Log,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts the three services with `seed` and the default [`SandboxConfig`].
    pub async fn start(seed: Seed) -> Result<Self, Error> {
        Self::start_with(seed, SandboxConfig::default()).await
    }

    /// Starts the three services with the sample portfolio ([`Seed::sample`]).
    pub async fn start_default() -> Result<Self, Error> {
        Self::start(Seed::sample()).await
    }

    /// Starts the three services with `seed` and `config`.
    pub async fn start_with(seed: Seed, config: SandboxConfig) -> Result<Self, Error> {
        let creds = config.credentials.clone();
        let brivo = brivo::Brivo::new(
            &seed.brivo,
            creds.clone(),
            config.brivo_token_ttl,
            config.brivo_rate_limit,
        )?;
        let entrata = entrata::Entrata::new(&seed.entrata, creds.clone())?;
        let officernd = officernd::OfficeRnd::new(
            &seed.officernd,
            creds.clone(),
            config.officernd_token_ttl,
            config.officernd_granted_scopes.clone(),
        )?;
        let (tx, rx) = watch::channel(false);
        let b = server::spawn("brivo", brivo.router(), rx.clone()).await?;
        let e = server::spawn("entrata", entrata.router(), rx.clone()).await?;
        let o = server::spawn("officernd", officernd.router(), rx.clone()).await?;
        let elsewhere = elsewhere::Log::default();
        let x = server::spawn("elsewhere", elsewhere::router(elsewhere.clone()), rx).await?;
        tracing::info!(brivo = %b.addr, entrata = %e.addr, officernd = %o.addr, "sandbox started");
        Ok(Self {
            creds,
            brivo,
            entrata,
            officernd,
            brivo_base: format!("http://{}", b.addr),
            entrata_base: format!("http://{}", e.addr),
            officernd_base: format!("http://{}", o.addr),
            elsewhere_base: format!("http://{}", x.addr),
            elsewhere,
            shutdown: tx,
            tasks: vec![b.task, e.task, o.task, x.task],
        })
    }

    /// Stops the servers and waits for their accept loops to end. Open connections are
    /// closed.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
    }

    /// The credentials the services accept.
    pub fn credentials(&self) -> &SandboxCredentials {
        &self.creds
    }

    /// Brivo auth host (`https://auth.brivo.com` in production): POST `{this}/oauth/token`.
    pub fn brivo_auth_url(&self) -> String {
        self.brivo_base.clone()
    }

    /// Brivo API base including `/v1/api` (`https://api.brivo.com/v1/api` in production):
    /// GET `{this}/users`.
    pub fn brivo_api_url(&self) -> String {
        format!("{}/v1/api", self.brivo_base)
    }

    /// The bare Entrata host (`https://{subdomain}.entrata.com` in production).
    pub fn entrata_base_url(&self) -> String {
        self.entrata_base.clone()
    }

    /// Entrata per-customer-host base (`https://{subdomain}.entrata.com/api/v1`): POST
    /// `{this}/{service}` with Basic auth. `{base}/api/{service}` (newer docs) works too.
    pub fn entrata_api_url(&self) -> String {
        format!("{}/api/v1", self.entrata_base)
    }

    /// Entrata gateway base for the sandbox org
    /// (`https://apis.entrata.com/ext/orgs/{org}/v1`): POST `{this}/{service}` with
    /// `X-Api-Key`.
    pub fn entrata_gateway_url(&self) -> String {
        format!(
            "{}/ext/orgs/{}/v1",
            self.entrata_base, self.creds.entrata_org
        )
    }

    /// OfficeRnD identity host (`https://identity.officernd.com`): POST `{this}/oauth/token`.
    pub fn officernd_identity_url(&self) -> String {
        self.officernd_base.clone()
    }

    /// The bare OfficeRnD API host (`https://app.officernd.com`).
    pub fn officernd_base_url(&self) -> String {
        self.officernd_base.clone()
    }

    /// OfficeRnD v2 base for the sandbox org
    /// (`https://app.officernd.com/api/v2/organizations/{org}`): GET `{this}/members`.
    pub fn officernd_api_url(&self) -> String {
        format!(
            "{}/api/v2/organizations/{}",
            self.officernd_base, self.creds.officernd_org
        )
    }

    /// A second origin (another port on 127.0.0.1) that records every request reaching
    /// it and answers `200 {}`: point a [`Fault::Redirect`] at it, then check
    /// [`elsewhere_requests`](Self::elsewhere_requests) is empty.
    pub fn elsewhere_url(&self) -> String {
        self.elsewhere_base.clone()
    }

    /// Every request that reached [`elsewhere_url`](Self::elsewhere_url) so far.
    pub fn elsewhere_requests(&self) -> Vec<RecordedRequest> {
        common::lock(&self.elsewhere).clone()
    }

    /// Fault injection for all three services.
    pub fn faults(&self) -> Faults {
        Faults {
            brivo: self.brivo.clone(),
            entrata: self.entrata.clone(),
            officernd: self.officernd.clone(),
        }
    }

    /// Test-side access to the fake Brivo account (snapshot, seeding, counters).
    pub fn brivo(&self) -> BrivoHandle {
        BrivoHandle {
            inner: self.brivo.clone(),
        }
    }

    /// Test-side access to the fake Entrata portfolio (change leases, counters).
    pub fn entrata(&self) -> EntrataHandle {
        EntrataHandle {
            inner: self.entrata.clone(),
        }
    }

    /// Test-side access to the fake OfficeRnD organization (change records, counters).
    pub fn officernd(&self) -> OfficeRndHandle {
        OfficeRndHandle {
            inner: self.officernd.clone(),
        }
    }

    /// Total Brivo calls received so far (token calls included).
    pub fn brivo_calls(&self) -> u64 {
        self.brivo.common.stats().total
    }

    /// Mutating Brivo API calls received so far (POST/PUT/PATCH/DELETE under `/v1/api`).
    pub fn brivo_writes(&self) -> u64 {
        self.brivo.common.stats().writes
    }

    /// Resets the Brivo call counters and its redundant-write count (as
    /// [`BrivoHandle::reset_counters`] does).
    pub fn reset_brivo_counters(&self) {
        self.brivo.reset_counters();
    }

    /// Counters of the Entrata service.
    pub fn entrata_stats(&self) -> CallStats {
        self.entrata.common.stats()
    }

    /// Counters of the OfficeRnD service.
    pub fn officernd_stats(&self) -> CallStats {
        self.officernd.common.stats()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Fault injection; get it with [`Sandbox::faults`]. Cheap to clone.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sandbox::Error> {
/// use std::time::Duration;
/// use sandbox::{Fault, Sandbox, story};
///
/// let sb = Sandbox::start_default().await?;
/// sb.faults()
///     .brivo(Fault::TooManyRequests { times: 5, retry_after_secs: 1 })
///     .brivo(Fault::DropConnection { times: 1 })
///     .officernd(Fault::Slow { times: 2, delay: Duration::from_millis(50) })
///     .entrata(Fault::FailProperty { property_id: story::PROPERTY_LA.into() });
/// sb.faults().brivo(Fault::ExpireTokens); // applies at once
/// sb.faults().clear(); // back to normal
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Faults {
    brivo: Arc<brivo::Brivo>,
    entrata: Arc<entrata::Entrata>,
    officernd: Arc<officernd::OfficeRnd>,
}

impl Faults {
    /// Injects a fault into Brivo (API and token endpoint).
    pub fn brivo(&self, fault: Fault) -> &Self {
        match fault {
            Fault::ExpireTokens => self.brivo.expire_tokens(),
            Fault::FailProperty { .. } => {
                tracing::warn!("Fault::FailProperty applies to Entrata only; ignored for Brivo");
            }
            other => {
                self.brivo.common.push(other);
            }
        }
        self
    }

    /// Injects a fault into Entrata.
    pub fn entrata(&self, fault: Fault) -> &Self {
        match fault {
            Fault::ExpireTokens => {
                tracing::warn!("Fault::ExpireTokens: Entrata has no tokens; ignored");
            }
            Fault::FailProperty { property_id } => self.entrata.fail_property(property_id),
            other => {
                self.entrata.common.push(other);
            }
        }
        self
    }

    /// Injects a fault into OfficeRnD (API and identity endpoint).
    pub fn officernd(&self, fault: Fault) -> &Self {
        match fault {
            Fault::ExpireTokens => self.officernd.expire_tokens(),
            Fault::FailProperty { .. } => {
                tracing::warn!(
                    "Fault::FailProperty applies to Entrata only; ignored for OfficeRnD"
                );
            }
            other => {
                self.officernd.common.push(other);
            }
        }
        self
    }

    /// Removes every queued fault and every failing Entrata property.
    pub fn clear(&self) {
        self.brivo.common.clear();
        self.entrata.common.clear();
        self.entrata.clear_failures();
        self.officernd.common.clear();
    }
}
