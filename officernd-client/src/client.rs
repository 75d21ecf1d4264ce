//! The client: auth, requests, pagination and one method per endpoint.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use access_http::{
    Attempt, CachedToken, CallInfo, CallSnapshot, Pacer, RateLimiter, TokenCache, check_base_url,
};
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::ClientBuilder;
use crate::error::{Error, ErrorBody, Result};
use crate::models::*;
use crate::query::*;
use crate::rate_limit::{RateLimitStatus, throttle_wait};
use crate::recurrence;

/// An OAuth2 access token (redacted in `Debug`).
#[derive(Clone)]
struct AccessToken(SecretString);

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

/// A remote method: its name (for errors and logs) and the scope it needs.
#[derive(Debug, Clone, Copy)]
struct Op {
    name: &'static str,
    scope: &'static str,
}

const fn op(name: &'static str, scope: &'static str) -> Op {
    Op { name, scope }
}

/// The most read of a successful answer: 50 records a page is far below.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The largest page OfficeRnD v2 serves (`$limit` above 50 is a 400).
pub const MAX_PAGE_SIZE: u8 = 50;

/// An async client for one OfficeRnD Flex organization (API v2).
///
/// Cheap to clone (an `Arc` inside); clones share the token cache, the rate
/// limiter and the call counters. Every method is a read; failed calls are
/// retried per [`crate::Error`]'s classification.
///
/// ```no_run
/// use futures::TryStreamExt;
/// use officernd_client::{Client, query::MembershipsQuery};
/// use officernd_client::SecretString;
///
/// # async fn run() -> Result<(), officernd_client::Error> {
/// let client = Client::builder(
///     "acme-coworking",
///     std::env::var("OFFICERND_CLIENT_ID").unwrap(),
///     SecretString::from(std::env::var("OFFICERND_CLIENT_SECRET").unwrap()),
/// )
/// .build()?;
///
/// // every membership, page by page (50 at a time), lazily
/// let mut memberships = client.list_memberships(MembershipsQuery::new()).items();
/// while let Some(m) = memberships.try_next().await? {
///     println!("{} {:?} from {}", m.id, m.calculated_status, m.start_date);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Per request, so that it applies to a caller's HTTP client too.
    timeout: Duration,
    base: Url,
    token_url: Url,
    org_slug: String,
    client_id: String,
    client_secret: SecretString,
    scopes: Vec<String>,
    pacer: Pacer,
    tokens: TokenCache<AccessToken>,
    rate_limit: Mutex<RateLimitStatus>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("base_url", &i.base.as_str())
            .field("token_url", &i.token_url.as_str())
            .field("org_slug", &i.org_slug)
            .field("client_id", &i.client_id)
            .field("client_secret", &"[redacted]")
            .field("scopes", &i.scopes)
            .field("retry_policy", i.pacer.policy())
            .finish_non_exhaustive()
    }
}

fn config_error(reason: impl Into<String>) -> Error {
    Error::Config {
        reason: reason.into(),
    }
}

fn parse_url(what: &str, s: &str) -> Result<Url> {
    let url = Url::parse(s).map_err(|e| config_error(format!("{what} `{s}` is not a URL: {e}")))?;
    check_base_url(&url).map_err(|e| config_error(format!("{what}: {e}")))?;
    Ok(url)
}

impl Client {
    /// Starts a [`ClientBuilder`]; `client_secret` is a [`SecretString`], a
    /// `String` or a `&str`.
    pub fn builder(
        org_slug: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> ClientBuilder {
        ClientBuilder::new(org_slug, client_id, client_secret)
    }

    pub(crate) fn from_builder(b: ClientBuilder) -> Result<Self> {
        let slug = b.org_slug.trim().to_string();
        if slug.is_empty() || slug.contains(['/', '?', '#', '%', ' ']) {
            return Err(config_error(format!(
                "organization slug `{slug}` must be a non-empty path segment"
            )));
        }
        for (setting, value) in [
            ("connect_timeout", b.connect_timeout),
            ("timeout", b.timeout),
        ] {
            // a zero timeout would fail every call, far from its cause
            if value.is_zero() {
                return Err(config_error(format!("{setting} must be more than zero")));
            }
        }
        if b.client_id.trim().is_empty() {
            return Err(config_error("client id is empty"));
        }
        if b.client_secret.expose_secret().is_empty() {
            return Err(config_error("client secret is empty"));
        }
        let mut api = b.api_url.clone();
        if !api.ends_with('/') {
            api.push('/');
        }
        let api = parse_url("API URL", &api)?;
        let base = api
            .join(&format!("organizations/{slug}/"))
            .map_err(|e| config_error(format!("API URL cannot take a path: {e}")))?;
        let token_url = parse_url("token URL", &b.token_url)?;
        // never follows redirects: one would resend the client secret or
        // the bearer token to another (maybe plain-http) host
        let http = match b.http_client {
            Some(http) => access_http::check_http_client(&http).map(|()| http),
            None => access_http::build_http_client(
                b.connect_timeout,
                &b.user_agent,
                &[&base, &token_url],
            ),
        }
        .map_err(|e| config_error(e.to_string()))?;
        let limiter = match b.rate_limit {
            Some((per_second, burst)) => RateLimiter::new(per_second, burst),
            None => RateLimiter::unlimited(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                timeout: b.timeout,
                base,
                token_url,
                org_slug: slug,
                client_id: b.client_id,
                client_secret: b.client_secret,
                scopes: b.scopes,
                pacer: Pacer::new(b.retry_policy, limiter).with_service("officernd"),
                tokens: TokenCache::new(Duration::from_secs(60)),
                rate_limit: Mutex::new(RateLimitStatus::default()),
            }),
        })
    }

    /// The organization's API base URL (`…/api/v2/organizations/{slug}/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// Calls made so far, token requests and retries included. (An attempt
    /// that failed while fetching its token also counts as one call: the
    /// shared retry loop counts attempts.)
    pub fn call_stats(&self) -> CallSnapshot {
        self.inner.pacer.stats().snapshot()
    }

    /// The rate-limit buckets reported by the last answer that had them.
    pub fn rate_limit_status(&self) -> RateLimitStatus {
        self.inner
            .rate_limit
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    // ---------------------------------------------------------------- auth

    async fn token(&self) -> Result<CachedToken<AccessToken>> {
        let this = self.clone();
        self.inner
            .tokens
            .get(|_previous| async move {
                // refused again and again: stop asking for a while
                this.inner
                    .tokens
                    .check_breaker()
                    .map_err(Error::AuthBlocked)?;
                let result = this.fetch_token().await;
                match &result {
                    // a token granted: the API's answer to it is what
                    // counts, so only the probe is handed back
                    Ok(_) => this.inner.tokens.release_probe(),
                    Err(Error::Auth {
                        retryable: false,
                        status: Some(400 | 401 | 403),
                        ..
                    }) => this.inner.tokens.record_auth_failure(None),
                    // no answer about the credentials (a 5xx, a timeout)
                    Err(_) => this.inner.tokens.release_probe(),
                }
                result
            })
            .await
    }

    /// `message` with the client secret, and secret-shaped text, redacted:
    /// a token endpoint may echo the form it was sent.
    fn redact(&self, message: &str, token: Option<&AccessToken>) -> String {
        let secret = self.inner.client_secret.expose_secret();
        let token = token.map_or("", |t| t.0.expose_secret());
        access_http::redact(message, &[secret, token])
    }

    async fn fetch_token(&self) -> Result<(AccessToken, Duration)> {
        // one attempt: the call that needs the token retries around it
        let call = CallInfo::new("oauth_token", "POST").url(&self.inner.token_url);
        self.inner
            .pacer
            .once(call, |attempt| self.token_attempt(attempt))
            .await
    }

    async fn token_attempt(&self, attempt: Attempt) -> Result<(AccessToken, Duration)> {
        {
            let i = &self.inner;
            let scope = i.scopes.join(" ");
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", i.client_id.as_str()),
                ("client_secret", i.client_secret.expose_secret()),
                ("scope", scope.as_str()),
            ];
            let resp = i
                .http
                .post(i.token_url.clone())
                .timeout(i.timeout)
                .header(ACCEPT, "application/json")
                .form(&form)
                .send()
                .await
                .map_err(|e| Error::Auth {
                    status: None,
                    error: None,
                    message: if e.is_timeout() {
                        "the token endpoint timed out".into()
                    } else {
                        "could not reach the token endpoint".into()
                    },
                    retryable: true,
                    source: Some(e),
                })?;
            let status = resp.status();
            attempt.record_status(status.as_u16());
            if let Some(redirect) = access_http::followed_redirect(&i.token_url, &resp) {
                return Err(Error::Redirected {
                    method: "oauth_token",
                    status: status.as_u16(),
                    redirect,
                });
            }
            if status.is_redirection() {
                return Err(Error::Redirected {
                    method: "oauth_token",
                    status: status.as_u16(),
                    redirect: access_http::describe_redirect(status.as_u16(), resp.headers()),
                });
            }
            let retryable = matches!(status.as_u16(), 429 | 502..=504);
            let cut_off = |e| Error::Auth {
                status: Some(status.as_u16()),
                error: None,
                message: "the token response was cut off".into(),
                retryable: true,
                source: Some(e),
            };
            let body = if status.is_success() {
                access_http::read_body(resp, access_http::TOKEN_BODY_LIMIT)
                    .await
                    .map_err(|e| match e {
                        access_http::BodyError::Transport(e) => cut_off(e),
                        other => Error::BodyTooLarge {
                            method: "oauth_token",
                            source: other,
                        },
                    })?
            } else {
                access_http::read_body_truncated(resp, access_http::ERROR_BODY_LIMIT)
                    .await
                    .map_err(cut_off)?
            };
            if !status.is_success() {
                let (error, messages) = ErrorBody::parse(&body);
                let error = error.map(|e| self.redact(&e, None));
                let mut message = if messages.is_empty() {
                    status.canonical_reason().unwrap_or("error").to_string()
                } else {
                    self.redact(&messages.join("; "), None)
                };
                if matches!(status.as_u16(), 400 | 401 | 403) {
                    message.push_str(
                        " (check the client id and secret, and that the application is granted every requested scope)",
                    );
                }
                return Err(Error::Auth {
                    status: Some(status.as_u16()),
                    error,
                    message,
                    retryable,
                    source: None,
                });
            }
            #[derive(serde::Deserialize)]
            struct TokenResponse {
                access_token: String,
                #[serde(default)]
                expires_in: Option<f64>,
            }
            // never echo this body: it holds the token
            let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|_| Error::Auth {
                status: Some(status.as_u16()),
                error: None,
                message: "the token response has no `access_token`".into(),
                retryable: false,
                source: None,
            })?;
            // clamped to a day (TokenCache would too): 1e30 must not panic
            let lifetime = parsed
                .expires_in
                .filter(|s| s.is_finite() && *s > 0.0)
                .map_or(Duration::from_secs(3600), |s| {
                    Duration::try_from_secs_f64(s).unwrap_or(access_http::MAX_TOKEN_LIFETIME)
                })
                .min(access_http::MAX_TOKEN_LIFETIME);
            Ok((
                AccessToken(SecretString::from(parsed.access_token)),
                lifetime,
            ))
        }
    }

    // ------------------------------------------------------------ requests

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// GETs `segments` with retries and one re-authentication on 401.
    async fn get_bytes(
        &self,
        op: Op,
        segments: &[&str],
        query: &[(String, String)],
    ) -> Result<Vec<u8>> {
        let url = self.url(segments);
        let url = &url;
        self.inner
            .pacer
            .run(CallInfo::new(op.name, "GET").url(url), |attempt| {
                self.attempt(op, url, query, attempt)
            })
            .await
    }

    async fn attempt(
        &self,
        op: Op,
        url: &Url,
        query: &[(String, String)],
        attempt: Attempt,
    ) -> Result<Vec<u8>> {
        {
            let token = self.token().await?;
            let mut used = token.token.clone();
            let mut resp = self.send(op, url, query, &token.token).await?;
            attempt.record_status(resp.status().as_u16());
            if resp.status() == StatusCode::UNAUTHORIZED {
                tracing::debug!("401 Unauthorized: fetching a new token and trying once more");
                // each refused token counts once towards the breaker
                self.inner
                    .tokens
                    .record_auth_failure(Some(token.generation));
                self.inner.tokens.invalidate(token.generation).await;
                let fresh = self.token().await?;
                self.inner.pacer.limiter().acquire().await;
                self.inner.pacer.stats().record_call();
                resp = self.send(op, url, query, &fresh.token).await?;
                attempt.record_status(resp.status().as_u16());
                if resp.status() == StatusCode::UNAUTHORIZED {
                    self.inner
                        .tokens
                        .record_auth_failure(Some(fresh.generation));
                    let body =
                        access_http::read_body_truncated(resp, access_http::ERROR_BODY_LIMIT)
                            .await
                            .unwrap_or_default();
                    let (_, messages) = ErrorBody::parse(&body);
                    return Err(Error::Unauthorized {
                        method: op.name,
                        required_scope: op.scope,
                        message: if messages.is_empty() {
                            "Unauthorized".into()
                        } else {
                            self.redact(&messages.join("; "), Some(&fresh.token))
                        },
                    });
                }
                used = fresh.token;
            }
            self.inner.tokens.record_auth_success();
            self.finish(op, resp, &used).await
        }
    }

    async fn send(
        &self,
        op: Op,
        url: &Url,
        query: &[(String, String)],
        token: &AccessToken,
    ) -> Result<reqwest::Response> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.0.expose_secret()))
            .map_err(|_| Error::Auth {
                status: None,
                error: None,
                message: "the access token is not a valid header value".into(),
                retryable: false,
                source: None,
            })?;
        auth.set_sensitive(true);
        let resp = self
            .inner
            .http
            .get(url.clone())
            .timeout(self.inner.timeout)
            .query(query)
            .header(AUTHORIZATION, auth)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| transport(op, e))?;
        if let Some(redirect) = access_http::followed_redirect(url, &resp) {
            return Err(Error::Redirected {
                method: op.name,
                status: resp.status().as_u16(),
                redirect,
            });
        }
        Ok(resp)
    }

    async fn finish(
        &self,
        op: Op,
        resp: reqwest::Response,
        token: &AccessToken,
    ) -> Result<Vec<u8>> {
        let status = resp.status();
        if status.is_redirection() {
            return Err(Error::Redirected {
                method: op.name,
                status: status.as_u16(),
                redirect: access_http::describe_redirect(status.as_u16(), resp.headers()),
            });
        }
        let limits = RateLimitStatus::from_headers(resp.headers());
        if status.is_success()
            && let Some(wait) = limits.exhausted_for()
        {
            // the budget is spent: hold every caller until it resets rather
            // than walk into a 429 (capped like a Retry-After)
            let wait = wait.min(self.inner.pacer.policy().max_retry_after);
            tracing::debug!(?wait, "rate-limit bucket exhausted: pausing");
            self.inner.pacer.limiter().pause_for(wait);
        }
        if !limits.is_empty() {
            *self
                .inner
                .rate_limit
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = limits;
        }
        if status.is_success() {
            return access_http::read_body(resp, BODY_LIMIT)
                .await
                .map_err(|e| match e {
                    access_http::BodyError::Transport(e) => transport(op, e),
                    other => Error::BodyTooLarge {
                        method: op.name,
                        source: other,
                    },
                });
        }
        let retry_after = if status == StatusCode::TOO_MANY_REQUESTS {
            throttle_wait(resp.headers())
        } else {
            None
        };
        let body = access_http::read_body_truncated(resp, access_http::ERROR_BODY_LIMIT)
            .await
            .unwrap_or_default();
        let (error, messages) = ErrorBody::parse(&body);
        let error = error.map(|e| self.redact(&e, Some(token)));
        let messages: Vec<String> = messages
            .iter()
            .map(|m| self.redact(m, Some(token)))
            .collect();
        tracing::debug!(
            status = status.as_u16(),
            ?error,
            ?messages,
            "OfficeRnD error"
        );
        Err(Error::Api {
            method: op.name,
            status: status.as_u16(),
            error,
            messages,
            retry_after,
        })
    }

    async fn get_one<T: DeserializeOwned>(&self, op: Op, segments: &[&str]) -> Result<T> {
        let body = self.get_bytes(op, segments, &[]).await?;
        decode(op.name, &body)
    }

    fn list<T>(&self, op: Op, path: &'static str, query: Vec<(String, String)>) -> ListRequest<T> {
        ListRequest {
            client: self.clone(),
            op,
            path,
            query,
            page_size: MAX_PAGE_SIZE,
            _item: PhantomData,
        }
    }

    // ------------------------------------------------------------- methods

    /// `GET /members`: members matching `query`.
    pub fn list_members(&self, query: MembersQuery) -> ListRequest<Member> {
        self.list(LIST_MEMBERS, "members", query.to_pairs())
    }

    /// `GET /members/{id}`.
    pub async fn get_member(&self, id: &MemberId) -> Result<Member> {
        self.get_one(GET_MEMBER, &["members", id.as_str()]).await
    }

    /// `GET /companies`.
    pub fn list_companies(&self, query: CompaniesQuery) -> ListRequest<Company> {
        self.list(LIST_COMPANIES, "companies", query.to_pairs())
    }

    /// `GET /companies/{id}`.
    pub async fn get_company(&self, id: &CompanyId) -> Result<Company> {
        self.get_one(GET_COMPANY, &["companies", id.as_str()]).await
    }

    /// `GET /memberships`.
    pub fn list_memberships(&self, query: MembershipsQuery) -> ListRequest<Membership> {
        self.list(LIST_MEMBERSHIPS, "memberships", query.to_pairs())
    }

    /// `GET /memberships/{id}`.
    pub async fn get_membership(&self, id: &MembershipId) -> Result<Membership> {
        self.get_one(GET_MEMBERSHIP, &["memberships", id.as_str()])
            .await
    }

    /// `GET /plans`.
    pub fn list_plans(&self) -> ListRequest<Plan> {
        self.list(LIST_PLANS, "plans", Vec::new())
    }

    /// `GET /plans/{id}`.
    pub async fn get_plan(&self, id: &PlanId) -> Result<Plan> {
        self.get_one(GET_PLAN, &["plans", id.as_str()]).await
    }

    /// `GET /locations`.
    pub fn list_locations(&self, query: LocationsQuery) -> ListRequest<Location> {
        self.list(LIST_LOCATIONS, "locations", query.to_pairs())
    }

    /// `GET /locations/{id}`.
    pub async fn get_location(&self, id: &LocationId) -> Result<Location> {
        self.get_one(GET_LOCATION, &["locations", id.as_str()])
            .await
    }

    /// `GET /floors`.
    pub fn list_floors(&self, query: FloorsQuery) -> ListRequest<Floor> {
        self.list(LIST_FLOORS, "floors", query.to_pairs())
    }

    /// `GET /floors/{id}`.
    pub async fn get_floor(&self, id: &FloorId) -> Result<Floor> {
        self.get_one(GET_FLOOR, &["floors", id.as_str()]).await
    }

    /// `GET /resource-types`.
    pub fn list_resource_types(&self) -> ListRequest<ResourceType> {
        self.list(LIST_RESOURCE_TYPES, "resource-types", Vec::new())
    }

    /// `GET /resources`.
    pub fn list_resources(&self, query: ResourcesQuery) -> ListRequest<Resource> {
        self.list(LIST_RESOURCES, "resources", query.to_pairs())
    }

    /// `GET /resources/{id}`.
    pub async fn get_resource(&self, id: &ResourceId) -> Result<Resource> {
        self.get_one(GET_RESOURCE, &["resources", id.as_str()])
            .await
    }

    /// `GET /assignments`.
    pub fn list_assignments(&self, query: AssignmentsQuery) -> ListRequest<Assignment> {
        self.list(LIST_ASSIGNMENTS, "assignments", query.to_pairs())
    }

    /// `GET /bookings`. Recurring bookings come back once, as their series:
    /// see [`booking_occurrences`](Self::booking_occurrences).
    pub fn list_bookings(&self, query: BookingsQuery) -> ListRequest<Booking> {
        self.list(LIST_BOOKINGS, "bookings", query.to_pairs())
    }

    /// `GET /bookings/{id}`.
    pub async fn get_booking(&self, id: &BookingId) -> Result<Booking> {
        self.get_one(GET_BOOKING, &["bookings", id.as_str()]).await
    }

    /// Every booking occurrence overlapping `[from, to)`: lists the bookings
    /// whose series overlaps the window (`seriesStart[$lt]=to`,
    /// `seriesEnd[$gte]=from`, plus `query`'s other filters) and expands
    /// recurring ones with [`recurrence::expand`] in their own zone.
    ///
    /// A booking that cannot be decoded or expanded (unsupported rule, no
    /// zone) is reported in [`Occurrences::skipped`] with its id; it never
    /// fails the whole call. Cancelled occurrences are included with
    /// `is_cancelled` set. Occurrences are sorted by start.
    pub async fn booking_occurrences(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        query: BookingsQuery,
    ) -> Result<Occurrences> {
        let query = query.series_start(Cmp::Lt, to).series_end(Cmp::Gte, from);
        let listing = self.list_bookings(query).collect_all().await?;
        let mut out = Occurrences {
            occurrences: Vec::new(),
            skipped: listing.skipped,
        };
        for booking in &listing.items {
            match recurrence::expand(booking, from, to) {
                Ok(occ) => out.occurrences.extend(occ),
                Err(e) => {
                    tracing::warn!(booking = %booking.id, error = %e, "booking not expanded");
                    out.skipped.push(SkippedRecord {
                        id: Some(booking.id.to_string()),
                        path: "recurrence.rrule".into(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        out.occurrences
            .sort_by(|a, b| (a.start, &a.booking).cmp(&(b.start, &b.booking)));
        Ok(out)
    }

    /// `GET /passes`: day-pass sets.
    pub fn list_passes(&self, query: PassesQuery) -> ListRequest<Pass> {
        self.list(LIST_PASSES, "passes", query.to_pairs())
    }

    /// `GET /passes/{id}`.
    pub async fn get_pass(&self, id: &PassId) -> Result<Pass> {
        self.get_one(GET_PASS, &["passes", id.as_str()]).await
    }

    /// `GET /checkins`.
    pub fn list_checkins(&self, query: CheckinsQuery) -> ListRequest<Checkin> {
        self.list(LIST_CHECKINS, "checkins", query.to_pairs())
    }

    /// `GET /checkins/{id}`.
    pub async fn get_checkin(&self, id: &CheckinId) -> Result<Checkin> {
        self.get_one(GET_CHECKIN, &["checkins", id.as_str()]).await
    }

    /// `GET /visitors`.
    pub fn list_visitors(&self, query: VisitorsQuery) -> ListRequest<Visitor> {
        self.list(LIST_VISITORS, "visitors", query.to_pairs())
    }

    /// `GET /visitors/{id}`.
    pub async fn get_visitor(&self, id: &VisitorId) -> Result<Visitor> {
        self.get_one(GET_VISITOR, &["visitors", id.as_str()]).await
    }
}

const LIST_MEMBERS: Op = op("list_members", "flex.community.members.read");
const GET_MEMBER: Op = op("get_member", "flex.community.members.read");
const LIST_COMPANIES: Op = op("list_companies", "flex.community.companies.read");
const GET_COMPANY: Op = op("get_company", "flex.community.companies.read");
const LIST_MEMBERSHIPS: Op = op("list_memberships", "flex.community.memberships.read");
const GET_MEMBERSHIP: Op = op("get_membership", "flex.community.memberships.read");
const LIST_PLANS: Op = op("list_plans", "flex.billing.plans.read");
const GET_PLAN: Op = op("get_plan", "flex.billing.plans.read");
const LIST_LOCATIONS: Op = op("list_locations", "flex.space.locations.read");
const GET_LOCATION: Op = op("get_location", "flex.space.locations.read");
const LIST_FLOORS: Op = op("list_floors", "flex.space.floors.read");
const GET_FLOOR: Op = op("get_floor", "flex.space.floors.read");
const LIST_RESOURCE_TYPES: Op = op("list_resource_types", "flex.space.resourceTypes.read");
const LIST_RESOURCES: Op = op("list_resources", "flex.space.resources.read");
const GET_RESOURCE: Op = op("get_resource", "flex.space.resources.read");
const LIST_ASSIGNMENTS: Op = op("list_assignments", "flex.space.assignments.read");
const LIST_BOOKINGS: Op = op("list_bookings", "flex.space.bookings.read");
const GET_BOOKING: Op = op("get_booking", "flex.space.bookings.read");
const LIST_PASSES: Op = op("list_passes", "flex.space.passes.read");
const GET_PASS: Op = op("get_pass", "flex.space.passes.read");
const LIST_CHECKINS: Op = op("list_checkins", "flex.community.checkins.read");
const GET_CHECKIN: Op = op("get_checkin", "flex.community.checkins.read");
const LIST_VISITORS: Op = op("list_visitors", "flex.community.visitors.read");
const GET_VISITOR: Op = op("get_visitor", "flex.community.visitors.read");

fn transport(op: Op, e: reqwest::Error) -> Error {
    Error::Transport {
        method: op.name,
        timeout: e.is_timeout(),
        source: e,
    }
}

fn decode<T: DeserializeOwned>(method: &'static str, body: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Decode {
        method,
        path: e.path().to_string(),
        source: access_http::DecodeError::new(e.inner(), &[]),
    })
}

/// Decodes one document (e.g. a webhook body or a saved answer) with the
/// JSON path of the first bad value in the error, and the decoder's
/// message without the values it quoted.
pub(crate) fn decode_value<T: DeserializeOwned>(
    value: serde_json::Value,
) -> std::result::Result<T, (String, access_http::DecodeError)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        (
            e.path().to_string(),
            access_http::DecodeError::new(e.inner(), &[]),
        )
    })
}

/// A record of a listing that could not be decoded, left out of the
/// results and reported here.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedRecord {
    /// The record's `_id`, when it had a readable one.
    pub id: Option<String>,
    /// JSON path of the bad value within the record.
    pub path: String,
    /// What was wrong.
    pub reason: String,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The records that decoded.
    pub items: Vec<T>,
    /// The records that did not.
    pub skipped: Vec<SkippedRecord>,
    /// Records dropped because an earlier page had the same `_id`.
    pub duplicates: usize,
    /// `rangeStart` (1-based; 0 when empty).
    pub range_start: Option<i64>,
    /// `rangeEnd`.
    pub range_end: Option<i64>,
    /// `cursorNext`; `None` on the last page.
    pub cursor_next: Option<String>,
}

impl<T: DeserializeOwned> Page<T> {
    /// Decodes one list answer (e.g. a saved response), skipping and
    /// reporting records that do not decode.
    ///
    /// ```
    /// use officernd_client::{Page, models::Location};
    ///
    /// let page: Page<Location> = Page::from_slice(br#"{
    ///   "rangeStart": 1, "rangeEnd": 2,
    ///   "results": [
    ///     {"_id": "603dfbc260f4054084125d39", "name": "Lisbon", "timezone": "Europe/Lisbon"},
    ///     {"_id": "603dfbc260f4054084125d3a", "name": "Nowhere", "timezone": "Mars/Base"}
    ///   ]
    /// }"#).unwrap();
    /// assert_eq!(page.items.len(), 1);
    /// assert_eq!(page.skipped[0].id.as_deref(), Some("603dfbc260f4054084125d3a"));
    /// assert_eq!(page.skipped[0].path, "timezone");
    /// assert!(page.cursor_next.is_none()); // the last page
    /// ```
    pub fn from_slice(body: &[u8]) -> Result<Self> {
        decode_page("decode_page", body, &mut HashSet::new())
    }
}

/// A whole listing, collected.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Listing<T> {
    /// The records that decoded, in server order, without duplicates.
    pub items: Vec<T>,
    /// The records that did not decode.
    pub skipped: Vec<SkippedRecord>,
    /// Pages fetched.
    pub pages: usize,
}

/// The answer of [`Client::booking_occurrences`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Occurrences {
    /// Occurrences overlapping the window, by start.
    pub occurrences: Vec<BookingOccurrence>,
    /// Bookings that could not be decoded or expanded.
    pub skipped: Vec<SkippedRecord>,
}

/// A list call, not yet sent: choose how to consume it.
///
/// - [`pages`](Self::pages): a lazy `Stream` of pages (with skipped records).
/// - [`items`](Self::items): a lazy `Stream` of records.
/// - [`collect_all`](Self::collect_all): everything, with skipped records.
///
/// Pages are fetched with `$limit` (default and maximum 50) and
/// `$cursorNext`, until OfficeRnD omits `cursorNext` or returns an empty
/// page. A cursor the server already handed out ends the stream with
/// [`Error::PaginationLoop`]; records repeated across pages are dropped.
/// The stream ends after its first error.
#[must_use = "a ListRequest does nothing until consumed"]
pub struct ListRequest<T> {
    client: Client,
    op: Op,
    path: &'static str,
    query: Vec<(String, String)>,
    page_size: u8,
    _item: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ListRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListRequest")
            .field("method", &self.op.name)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("page_size", &self.page_size)
            .finish()
    }
}

enum Next {
    Start,
    Cursor(String),
    Loop,
    Done,
}

struct PageState<T> {
    req: ListRequest<T>,
    next: Next,
    cursors: HashSet<String>,
    ids: HashSet<String>,
    pages: usize,
}

impl<T: DeserializeOwned + Send + 'static> ListRequest<T> {
    /// Records per page, clamped to `1..=50`.
    pub fn page_size(mut self, size: u8) -> Self {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// A lazy stream of pages.
    pub fn pages(self) -> BoxStream<'static, Result<Page<T>>> {
        let state = PageState {
            req: self,
            next: Next::Start,
            cursors: HashSet::new(),
            ids: HashSet::new(),
            pages: 0,
        };
        stream::unfold(state, |mut st| async move {
            let cursor = match std::mem::replace(&mut st.next, Next::Done) {
                Next::Done => return None,
                Next::Loop => {
                    return Some((
                        Err(Error::PaginationLoop {
                            method: st.req.op.name,
                            pages: st.pages,
                        }),
                        st,
                    ));
                }
                Next::Start => None,
                Next::Cursor(c) => Some(c),
            };
            match st.req.fetch_page(cursor.as_deref(), &mut st.ids).await {
                Err(e) => Some((Err(e), st)),
                Ok(page) => {
                    st.pages += 1;
                    let raw_empty =
                        page.items.is_empty() && page.skipped.is_empty() && page.duplicates == 0;
                    st.next = match &page.cursor_next {
                        None => Next::Done,
                        Some(_) if raw_empty => Next::Done,
                        Some(c) if !st.cursors.insert(c.clone()) => Next::Loop,
                        Some(c) => Next::Cursor(c.clone()),
                    };
                    Some((Ok(page), st))
                }
            }
        })
        .boxed()
    }

    /// A lazy stream of records. Records that do not decode are left out
    /// and logged (`WARN`); use [`pages`](Self::pages) or
    /// [`collect_all`](Self::collect_all) to get them as data.
    pub fn items(self) -> BoxStream<'static, Result<T>> {
        let method = self.op.name;
        self.pages()
            .map_ok(move |page| {
                for s in &page.skipped {
                    tracing::warn!(method, id = ?s.id, path = %s.path, reason = %s.reason, "skipped a malformed record");
                }
                stream::iter(page.items.into_iter().map(Ok))
            })
            .try_flatten()
            .boxed()
    }

    /// Fetches every page.
    pub async fn collect_all(self) -> Result<Listing<T>> {
        let mut pages = self.pages();
        let mut out = Listing {
            items: Vec::new(),
            skipped: Vec::new(),
            pages: 0,
        };
        while let Some(page) = pages.try_next().await? {
            out.pages += 1;
            out.items.extend(page.items);
            out.skipped.extend(page.skipped);
        }
        Ok(out)
    }

    async fn fetch_page(&self, cursor: Option<&str>, ids: &mut HashSet<String>) -> Result<Page<T>> {
        let mut query = self.query.clone();
        query.push(("$limit".into(), self.page_size.to_string()));
        if let Some(c) = cursor {
            query.push(("$cursorNext".into(), c.to_string()));
        }
        let body = self.client.get_bytes(self.op, &[self.path], &query).await?;
        decode_page(self.op.name, &body, ids)
    }
}

/// Splits a list answer into records; tolerates a bare array and `{data:[…]}`.
pub(crate) fn decode_page<T: DeserializeOwned>(
    method: &'static str,
    body: &[u8],
    ids: &mut HashSet<String>,
) -> Result<Page<T>> {
    let doc: serde_json::Value = decode(method, body)?;
    let bad = |path: &str, what: &str| Error::Decode {
        method,
        path: path.to_string(),
        source: access_http::DecodeError::new(&what, &[]),
    };
    let (records, obj) = match doc {
        serde_json::Value::Array(a) => (a, None),
        serde_json::Value::Object(mut o) => {
            let key = if o.contains_key("results") {
                "results"
            } else {
                "data"
            };
            match o.remove(key) {
                Some(serde_json::Value::Array(a)) => (a, Some(o)),
                Some(serde_json::Value::Null) | None => (Vec::new(), Some(o)),
                Some(_) => return Err(bad(key, "expected an array of records")),
            }
        }
        _ => return Err(bad(".", "expected a page object or an array")),
    };
    let num = |k: &str| {
        obj.as_ref()
            .and_then(|o| o.get(k))
            .and_then(serde_json::Value::as_i64)
    };
    let cursor_next = obj
        .as_ref()
        .and_then(|o| o.get("cursorNext"))
        .and_then(|v| match v {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    let mut page = Page {
        items: Vec::with_capacity(records.len()),
        skipped: Vec::new(),
        duplicates: 0,
        range_start: num("rangeStart"),
        range_end: num("rangeEnd"),
        cursor_next,
    };
    for (index, record) in records.into_iter().enumerate() {
        let id = record
            .get("_id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
        if let Some(id) = &id
            && !ids.insert(id.clone())
        {
            page.duplicates += 1;
            continue;
        }
        match decode_value::<T>(record) {
            Ok(item) => page.items.push(item),
            Err((path, e)) => {
                tracing::debug!(method, index, ?id, %path, error = %e, "record skipped");
                page.skipped.push(SkippedRecord {
                    id,
                    path,
                    reason: e.message().to_owned(),
                });
            }
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn the_client_and_its_streams_can_cross_tasks() {
        assert_send_sync::<Client>();
        assert_send_sync::<ListRequest<Member>>();
        fn is_send<T: Send>(_: &T) {}
        let client = Client::builder("acme", "id", SecretString::from("s"))
            .build()
            .unwrap();
        is_send(&client.list_members(MembersQuery::new()).items());
        // the listing streams of all three clients are the same kind
        fn boxed<T>(_: &BoxStream<'static, Result<T>>) {}
        boxed(&client.list_members(MembersQuery::new()).items());
        boxed(&client.list_members(MembersQuery::new()).pages());
        is_send(&client.get_member(&MemberId::new("x")));
        is_send(&client.booking_occurrences(Utc::now(), Utc::now(), BookingsQuery::new()));
    }
}
