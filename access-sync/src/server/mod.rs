//! The runner's HTTP surface (feature `server`): mount [`Routes`] in your
//! own axum server, or serve them as they are (the `sync` example's
//! `--listen`).
//!
//! | route | what it does |
//! |---|---|
//! | `POST /webhooks/officernd` | an OfficeRnD webhook: verified over the raw body (one MAC); a replay within the tolerance is answered `200` and does nothing; a new event names its member, membership, booking or day pass to the source ([`SourceChanges::changed`]), which reads that record by id, and wakes a run at once; a removal or another object's event (a company) reads all of OfficeRnD; billing, tickets and occupancy slots are ignored |
//! | `/scim/v2/Users` | a SCIM 2.0 User endpoint ([`ScimDirectory`]) a Connect-style platform or identity provider pushes users into; every change wakes a run |
//! | `GET /healthz` | [`Health`] as JSON: 200 while the last successful run is recent, 503 before the first one or once it is too old |
//! | `GET /metrics` | Prometheus text: runs, actions by kind and result, API calls and throttles per service, held items, boundary lag, requests to these routes |
//!
//! ```no_run
//! use access_sync::server::{Monitor, Routes, ScimDirectory};
//! use access_sync::{DirectorySource, OfficeRndSource, Syncer};
//! use officernd_client::webhook::{WebhookReceiver, WebhookVerifier};
//! use officernd_client::SecretString;
//!
//! # async fn run(builder: access_sync::SyncerBuilder, officernd: officernd_client::Client) -> std::io::Result<()> {
//! let scim = ScimDirectory::open("connect-hq", "/var/lib/access-sync/scim.json")?;
//! let syncer = builder
//!     .source(OfficeRndSource::new(officernd))
//!     .source(DirectorySource::new(scim.clone()))
//!     .build();
//! let monitor = Monitor::new();
//! let receiver = WebhookReceiver::new(WebhookVerifier::new(SecretString::from(
//!     std::env::var("OFFICERND_WEBHOOK_SECRET").unwrap_or_default(),
//! )));
//! let app = Routes::new(monitor.clone())
//!     .officernd_webhooks(receiver, syncer.changes_for("officernd").expect("an OfficeRnD source"))
//!     .scim(scim, std::env::var("SCIM_BEARER_TOKEN").unwrap_or_default(),
//!         syncer.waker_for("directory:connect-hq").expect("the SCIM directory source"))
//!     .into_router();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! tokio::spawn(async move { axum::serve(listener, app).await });
//! syncer.run_with(std::future::pending(), |event| monitor.observe(&event)).await;
//! # Ok(()) }
//! ```

mod monitor;
mod scim;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use officernd_client::webhook::{SIGNATURE_HEADER, WebhookError, WebhookReceiver};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Notify;

use crate::SourceChanges;

pub use monitor::{Budget, Health, LastRun, Monitor};
use scim::ScimError;
pub use scim::{MAX_PAGE, ScimDirectory, TOMBSTONE_DAYS};

/// Where SCIM is served; `meta.location` of each user is under it.
pub const SCIM_BASE: &str = "/scim/v2";

/// A SCIM user is a few hundred bytes; this leaves room for identity
/// providers' extension attributes and refuses anything larger unread.
const SCIM_MAX_BODY: usize = 64 * 1024;

/// The runner's routes. See the [module docs](self).
#[derive(Debug)]
pub struct Routes {
    monitor: Monitor,
    officernd: Option<Arc<Webhooks>>,
    scim: Option<Scim>,
    public_url: Option<String>,
}

#[derive(Debug)]
struct Webhooks {
    receiver: WebhookReceiver,
    changes: SourceChanges,
    monitor: Monitor,
}

struct Scim {
    directory: ScimDirectory,
    token: SecretString,
    waker: Arc<Notify>,
    monitor: Monitor,
    /// What `meta.location` and `Location` start with.
    base: String,
}

impl std::fmt::Debug for Scim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scim")
            .field("directory", &self.directory)
            .field("token", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Routes {
    /// `/healthz` and `/metrics` from `monitor`.
    pub fn new(monitor: Monitor) -> Self {
        Routes {
            monitor,
            officernd: None,
            scim: None,
            public_url: None,
        }
    }

    /// The URL these routes are reached at from outside, when it is not
    /// the server's root: e.g. `https://sync.example.com/access` for routes
    /// nested under `/access` behind a proxy. SCIM's `meta.location` and
    /// `Location` are made from it (by default they are paths under
    /// [`SCIM_BASE`], right for routes served at the root).
    ///
    /// ```
    /// use access_sync::server::{Monitor, Routes};
    /// let app = axum::Router::new().nest(
    ///     "/access",
    ///     Routes::new(Monitor::new()).public_url("https://sync.example.com/access").into_router(),
    /// );
    /// # let _ = app;
    /// ```
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Adds `POST /webhooks/officernd`: each verified, new event names its
    /// record to the OfficeRnD source and wakes a run through `changes`
    /// ([`Syncer::changes_for`](crate::Syncer::changes_for)`("officernd")`).
    pub fn officernd_webhooks(mut self, receiver: WebhookReceiver, changes: SourceChanges) -> Self {
        self.officernd = Some(Arc::new(Webhooks {
            receiver,
            changes,
            monitor: self.monitor.clone(),
        }));
        self
    }

    /// Adds the SCIM 2.0 User endpoint under [`SCIM_BASE`], authenticated
    /// by `Authorization: Bearer <token>`; each change wakes a run.
    ///
    /// An empty token refuses every request (a forgotten variable must not
    /// open the directory to anyone).
    pub fn scim(
        mut self,
        directory: ScimDirectory,
        token: impl Into<SecretString>,
        waker: Arc<Notify>,
    ) -> Self {
        self.scim = Some(Scim {
            directory,
            token: token.into(),
            waker,
            monitor: self.monitor.clone(),
            base: SCIM_BASE.to_owned(),
        });
        self
    }

    /// The axum router: serve it, or `merge`/`nest` it into yours.
    pub fn into_router(self) -> Router {
        let mut router = Router::new()
            .route("/healthz", get(healthz))
            .route("/metrics", get(metrics))
            .with_state(self.monitor);
        if let Some(w) = self.officernd {
            router = router.merge(
                Router::new()
                    .route("/webhooks/officernd", post(officernd_webhook))
                    .with_state(w),
            );
        }
        if let Some(mut s) = self.scim {
            s.base = format!("{}{SCIM_BASE}", self.public_url.as_deref().unwrap_or(""));
            let base = s.base.clone();
            let s = Arc::new(s);
            router = router.merge(
                Router::new()
                    .route(
                        &format!("{SCIM_BASE}/Users"),
                        get(scim_list).post(scim_create),
                    )
                    .route(
                        &format!("{SCIM_BASE}/Users/{{id}}"),
                        get(scim_get)
                            .put(scim_replace)
                            .patch(scim_patch)
                            .delete(scim_delete),
                    )
                    .layer(DefaultBodyLimit::max(SCIM_MAX_BODY))
                    .with_state(s),
            );
            // discovery (RFC 7644 section 4): what this endpoint supports, for
            // identity providers that ask before provisioning; no user data
            router = router
                .route(
                    &format!("{SCIM_BASE}/ServiceProviderConfig"),
                    get({
                        let base = base.clone();
                        || async move {
                            scim_json(StatusCode::OK, &scim::service_provider_config(&base))
                        }
                    }),
                )
                .route(
                    &format!("{SCIM_BASE}/ResourceTypes"),
                    get({
                        let base = base.clone();
                        || async move { scim_json(StatusCode::OK, &scim::resource_types(&base)) }
                    }),
                )
                .route(
                    &format!("{SCIM_BASE}/Schemas"),
                    get(|| async move { scim_json(StatusCode::OK, &scim::schemas(&base)) }),
                );
        }
        router
    }
}

async fn healthz(State(monitor): State<Monitor>) -> Response {
    let health = monitor.health();
    let status = if health.status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(health)).into_response()
}

async fn metrics(State(monitor): State<Monitor>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        monitor.metrics_text(),
    )
        .into_response()
}

async fn officernd_webhook(
    State(w): State<Arc<Webhooks>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(signature) = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()) else {
        w.monitor.request("officernd_webhook", "unsigned");
        return (
            StatusCode::UNAUTHORIZED,
            "missing officernd-signature header",
        )
            .into_response();
    };
    match w.receiver.receive(signature, &body) {
        Ok(event) => {
            let event_type = event.event_type.as_str();
            match officernd_change(event_type) {
                Change::Ignored => {
                    tracing::debug!(event = %event.id, event_type, "OfficeRnD webhook: no bearing on access");
                    w.monitor.request("officernd_webhook", "ignored");
                }
                Change::Record(kind) => {
                    tracing::info!(event = %event.id, event_type, "OfficeRnD webhook: reading its record");
                    w.monitor.request("officernd_webhook", "accepted");
                    w.changes.changed(kind, event.object_id());
                }
                Change::Everything(kind) => {
                    tracing::info!(event = %event.id, event_type, "OfficeRnD webhook: reading OfficeRnD");
                    w.monitor.request("officernd_webhook", "accepted");
                    w.changes.changed(kind, None);
                }
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e @ WebhookError::Replayed { .. }) => {
            // a delivery OfficeRnD sends again is already handled: 200 stops
            // its retries; nothing is done with it
            tracing::info!(error = %e, "OfficeRnD webhook replayed: ignored");
            w.monitor.request("officernd_webhook", "replayed");
            (StatusCode::OK, e.to_string()).into_response()
        }
        Err(e) => {
            let (status, result) = match &e {
                WebhookError::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
                WebhookError::GuardFull { .. } => (StatusCode::SERVICE_UNAVAILABLE, "guard_full"),
                WebhookError::Verify(_) => (StatusCode::UNAUTHORIZED, "forged"),
                _ => (StatusCode::BAD_REQUEST, "invalid"),
            };
            tracing::warn!(error = %e, result, "OfficeRnD webhook refused");
            w.monitor.request("officernd_webhook", result);
            (status, e.to_string()).into_response()
        }
    }
}

/// What an OfficeRnD event asks of the source.
#[derive(Debug, PartialEq, Eq)]
enum Change<'a> {
    /// Read the record `data.object` names (its `_id`).
    Record(&'a str),
    /// Read everything: a removal (only a full listing tells a record gone
    /// from one hidden), or a change the source cannot read by id.
    Everything(&'a str),
    /// No bearing on access (billing, tickets, a booking's occurrence
    /// slots, which come with the booking's own event).
    Ignored,
}

/// The change an event type (`booking.updated`, `member.paymentdetails.created`)
/// stands for (the event types OfficeRnD documents for webhooks).
fn officernd_change(event_type: &str) -> Change<'_> {
    let (object, action) = event_type.rsplit_once('.').unwrap_or((event_type, ""));
    let ignored = ["occupancyslot", "fee", "contract", "ticket", "integration"];
    if object.ends_with(".paymentdetails")
        || object == "invoice"
        || object.starts_with("invoice.")
        || ignored.contains(&object)
    {
        return Change::Ignored;
    }
    match (object, action) {
        ("member" | "membership" | "booking" | "pass", "removed") => Change::Everything(object),
        ("member" | "membership" | "booking" | "pass", _) => Change::Record(object),
        _ => Change::Everything(object),
    }
}

#[cfg(test)]
mod tests {
    use super::{Change, officernd_change};

    #[test]
    fn officernd_events_name_a_record_or_ask_for_everything() {
        for (event, change) in [
            ("booking.created", Change::Record("booking")),
            ("membership.updated", Change::Record("membership")),
            ("pass.updated", Change::Record("pass")),
            ("member.removed", Change::Everything("member")),
            ("company.updated", Change::Everything("company")),
            ("something.new", Change::Everything("something")),
            ("member.paymentdetails.created", Change::Ignored),
            ("company.paymentdetails.removed", Change::Ignored),
            ("occupancyslot.created", Change::Ignored),
            ("invoice.charge.updated", Change::Ignored),
            ("ticket.created", Change::Ignored),
        ] {
            assert_eq!(officernd_change(event), change, "{event}");
        }
    }
}

/// The answer to a SCIM request, as `application/scim+json`.
fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    r
}

fn scim_error(e: &ScimError) -> Response {
    scim_json(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &e.body(),
    )
}

impl Scim {
    /// Checks the bearer token in time independent of where it differs.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let expected = self.token.expose_secret().as_bytes();
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // the scheme is case-insensitive (RFC 7235 2.1)
            .and_then(|v| v.trim_start().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .unwrap_or("")
            .as_bytes();
        if expected.is_empty() || given.len() != expected.len() {
            return false;
        }
        let diff = given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }

    /// Runs `f` for an authorized request, counts it, and wakes a run
    /// after a successful change.
    ///
    /// The directory's work (a whole-file write and fsync per change) runs
    /// on tokio's blocking pool, never on an async worker.
    async fn handle(
        &self,
        headers: &HeaderMap,
        op: &'static str,
        changes: bool,
        f: impl FnOnce(&ScimDirectory) -> Result<(StatusCode, Option<Value>), ScimError>
        + Send
        + 'static,
    ) -> Response {
        if !self.authorized(headers) {
            self.monitor.request("scim", "unauthorized");
            let mut r = scim_error(&ScimError {
                status: 401,
                scim_type: None,
                detail: "a valid bearer token is required".into(),
            });
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\""),
            );
            return r;
        }
        let directory = self.directory.clone();
        let result = match tokio::task::spawn_blocking(move || f(&directory)).await {
            Ok(result) => result,
            Err(e) => {
                tracing::error!(error = %e, "a SCIM request failed inside the directory");
                Err(ScimError {
                    status: 500,
                    scim_type: None,
                    detail: "the directory failed; nothing was changed".into(),
                })
            }
        };
        match result {
            Ok((status, body)) => {
                self.monitor.request("scim", op);
                if changes {
                    self.waker.notify_one();
                }
                match body {
                    Some(body) => {
                        let location = (status == StatusCode::CREATED)
                            .then(|| body["meta"]["location"].as_str())
                            .flatten()
                            .and_then(|l| HeaderValue::from_str(l).ok());
                        let mut r = scim_json(status, &body);
                        // RFC 7644 3.3: a created resource's URI
                        if let Some(l) = location {
                            r.headers_mut().insert(header::LOCATION, l);
                        }
                        r
                    }
                    None => status.into_response(),
                }
            }
            Err(e) => {
                self.monitor.request("scim", "refused");
                scim_error(&e)
            }
        }
    }
}

/// The body as JSON; a body over [`SCIM_MAX_BODY`] or unreadable is a
/// SCIM error too, not axum's plain text.
fn parse(body: Result<Bytes, BytesRejection>) -> Result<Value, ScimError> {
    let body = body.map_err(|e| ScimError {
        status: e.status().as_u16(),
        scim_type: None,
        detail: format!("the body could not be read (at most {SCIM_MAX_BODY} bytes): {e}"),
    })?;
    serde_json::from_slice(&body).map_err(|e| ScimError {
        status: 400,
        scim_type: Some("invalidSyntax"),
        detail: format!("the body is not JSON: {e}"),
    })
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    filter: Option<String>,
    #[serde(rename = "startIndex")]
    start_index: Option<usize>,
    count: Option<usize>,
}

async fn scim_list(
    State(s): State<Arc<Scim>>,
    headers: HeaderMap,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let base = s.base.clone();
    s.handle(&headers, "list", false, move |d| {
        let Query(q) = q.map_err(|e| ScimError {
            status: 400,
            scim_type: Some("invalidValue"),
            detail: format!("filter, startIndex or count: {}", e.body_text()),
        })?;
        Ok((
            StatusCode::OK,
            Some(d.list(q.filter.as_deref(), q.start_index, q.count, &base)?),
        ))
    })
    .await
}

async fn scim_create(
    State(s): State<Arc<Scim>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let base = s.base.clone();
    s.handle(&headers, "create", true, move |d| {
        Ok((StatusCode::CREATED, Some(d.create(&parse(body)?, &base)?)))
    })
    .await
}

async fn scim_get(
    State(s): State<Arc<Scim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let base = s.base.clone();
    s.handle(&headers, "get", false, move |d| {
        Ok((StatusCode::OK, Some(d.get(&id, &base)?)))
    })
    .await
}

async fn scim_replace(
    State(s): State<Arc<Scim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let base = s.base.clone();
    s.handle(&headers, "replace", true, move |d| {
        Ok((StatusCode::OK, Some(d.replace(&id, &parse(body)?, &base)?)))
    })
    .await
}

async fn scim_patch(
    State(s): State<Arc<Scim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let base = s.base.clone();
    s.handle(&headers, "patch", true, move |d| {
        Ok((StatusCode::OK, Some(d.patch(&id, &parse(body)?, &base)?)))
    })
    .await
}

async fn scim_delete(
    State(s): State<Arc<Scim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    s.handle(&headers, "delete", true, move |d| {
        d.delete(&id)?;
        Ok((StatusCode::NO_CONTENT, None))
    })
    .await
}
