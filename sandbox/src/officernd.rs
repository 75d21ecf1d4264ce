//! The fake OfficeRnD Flex API v2: client-credentials token at `/oauth/token` (identity
//! host), read-only collections under `/api/v2/organizations/{org}`. Shapes follow
//! `/work/shared/api/officernd.md` (cited by section below).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::SandboxCredentials;
use crate::common::{self, Common, Style, lock};
use crate::seed::OfficeRndSeed;

/// (collection URL segment, scope needed, filterable fields besides `_id`).
/// `createdAt`/`modifiedAt` comparisons are accepted where the notes document them
/// (members, floors, …) and rejected on memberships, as observed (officernd.md §1.5).
const COLLECTIONS: &[(&str, &str, &[&str])] = &[
    (
        "members",
        "flex.community.members.read",
        &[
            "name",
            "email",
            "location",
            "company",
            "status",
            "createdAt",
            "modifiedAt",
        ],
    ),
    (
        "companies",
        "flex.community.companies.read",
        &["name", "location", "status", "createdAt", "modifiedAt"],
    ),
    (
        "memberships",
        "flex.community.memberships.read",
        &[
            "member",
            "company",
            "location",
            "plan",
            "status",
            "calculatedStatus",
        ],
    ),
    (
        "plans",
        "flex.billing.plans.read",
        &["name", "type", "createdAt", "modifiedAt"],
    ),
    (
        "locations",
        "flex.space.locations.read",
        &["name", "isOpen", "isPublic"],
    ),
    (
        "floors",
        "flex.space.floors.read",
        &["name", "location", "createdAt", "modifiedAt"],
    ),
    ("resource-types", "flex.space.resourceTypes.read", &["type"]),
    (
        "resources",
        "flex.space.resources.read",
        &[
            "name",
            "type",
            "location",
            "floor",
            "createdAt",
            "modifiedAt",
        ],
    ),
    (
        "assignments",
        "flex.space.assignments.read",
        &["resource", "membership"],
    ),
    // Bookings filter by series bounds only, not occurrence start/end (officernd.md §1.5).
    (
        "bookings",
        "flex.space.bookings.read",
        &[
            "location",
            "member",
            "company",
            "resource",
            "seriesStart",
            "seriesEnd",
            "createdAt",
            "modifiedAt",
        ],
    ),
    (
        "passes",
        "flex.space.passes.read",
        &["member", "company", "membership", "status"],
    ),
    (
        "checkins",
        "flex.community.checkins.read",
        &[
            "member",
            "company",
            "location",
            "source",
            "start",
            "end",
            "createdAt",
        ],
    ),
    // No documented filter (visitorscontroller_getitems): strict, like every list.
    ("visitors", "flex.community.visitors.read", &[]),
];

/// Every read scope, one per collection.
pub(crate) const READ_SCOPES: &[&str] = &[
    "flex.community.members.read",
    "flex.community.companies.read",
    "flex.community.memberships.read",
    "flex.billing.plans.read",
    "flex.space.locations.read",
    "flex.space.floors.read",
    "flex.space.resourceTypes.read",
    "flex.space.resources.read",
    "flex.space.assignments.read",
    "flex.space.bookings.read",
    "flex.space.passes.read",
    "flex.community.checkins.read",
    "flex.community.visitors.read",
];

/// Read limits reported in `x-ratelimit-*-read-{minute,day}` (third-party figure ≈400
/// reads/min, officernd.md §1.6; the daily figure is the sandbox's own).
const READ_PER_MINUTE: u64 = 400;
const READ_PER_DAY: u64 = 100_000;
const MAX_LIMIT: usize = 50;

#[derive(Debug)]
struct TokenInfo {
    expires: Instant,
    scopes: Vec<String>,
}

#[derive(Debug)]
struct ReadWindows {
    minute: (Instant, u64),
    day: (Instant, u64),
}

/// The fake OfficeRnD service (read-only data).
#[derive(Debug)]
pub(crate) struct OfficeRnd {
    pub(crate) common: Arc<Common>,
    creds: SandboxCredentials,
    token_ttl: Duration,
    granted: Vec<String>,
    data: Mutex<Map<String, Value>>,
    tokens: Mutex<HashMap<String, TokenInfo>>,
    counter: Mutex<u64>,
    windows: Mutex<ReadWindows>,
    /// Off: no read windows counted, no `x-ratelimit-*` headers.
    rate_windows: std::sync::atomic::AtomicBool,
    webhooks: Mutex<Option<Subscription>>,
    deliveries: Arc<Mutex<Vec<WebhookDelivery>>>,
}

/// Where OfficeRnD sends webhooks, and the secret it signs them with.
#[derive(Clone)]
struct Subscription {
    url: String,
    secret: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// One webhook the sandbox's OfficeRnD sent, exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The event id (`event`).
    pub event_id: String,
    /// `booking.created`, `membership.updated`, ...
    pub event_type: String,
    /// The raw body.
    pub body: Vec<u8>,
    /// The `officernd-signature` header.
    pub signature: String,
    /// The receiver's HTTP status, or `None` if it could not be reached.
    pub status: Option<u16>,
}

impl OfficeRnd {
    pub(crate) fn new(
        seed: &OfficeRndSeed,
        creds: SandboxCredentials,
        token_ttl: Duration,
        granted: Vec<String>,
    ) -> Result<Arc<Self>, crate::Error> {
        for (k, v) in &seed.collections {
            if !COLLECTIONS.iter().any(|(c, _, _)| c == k) {
                return Err(crate::Error::Seed(format!(
                    "officernd seed: unknown collection {k}"
                )));
            }
            let ok = v.as_array().is_some_and(|a| {
                a.iter()
                    .all(|i| i.get("_id").and_then(Value::as_str).is_some())
            });
            if !ok {
                return Err(crate::Error::Seed(format!(
                    "officernd seed: every {k} item needs an _id"
                )));
            }
        }
        let now = Instant::now();
        Ok(Arc::new(Self {
            common: Common::new(Style::OfficeRnd, None),
            creds,
            token_ttl,
            granted,
            data: Mutex::new(seed.collections.clone()),
            tokens: Mutex::new(HashMap::new()),
            counter: Mutex::new(0),
            windows: Mutex::new(ReadWindows {
                minute: (now, 0),
                day: (now, 0),
            }),
            rate_windows: std::sync::atomic::AtomicBool::new(true),
            webhooks: Mutex::new(None),
            deliveries: Arc::new(Mutex::new(Vec::new())),
        }))
    }

    pub(crate) fn expire_tokens(&self) {
        let now = Instant::now();
        for t in lock(&self.tokens).values_mut() {
            t.expires = now;
        }
    }

    pub(crate) fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/oauth/token", post(token))
            .route("/api/v2/organizations/{org}/{collection}", get(list))
            .route("/api/v2/organizations/{org}/{collection}/{id}", get(one))
            .fallback(cannot)
            .method_not_allowed_fallback(cannot)
            .layer(middleware::from_fn_with_state(
                self.common.clone(),
                common::fault_middleware,
            ))
            .with_state(self.clone())
    }

    fn rate_headers(&self, h: &mut HeaderMap) {
        if !self.rate_windows.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        let mut guard = lock(&self.windows);
        let w = &mut *guard;
        let mut vals = Vec::new();
        for (name, (start, count), limit, period) in [
            ("minute", &mut w.minute, READ_PER_MINUTE, 60u64),
            ("day", &mut w.day, READ_PER_DAY, 86_400u64),
        ] {
            if now.saturating_duration_since(*start).as_secs() >= period {
                *start = now;
                *count = 0;
            }
            *count += 1;
            let elapsed = now.saturating_duration_since(*start).as_secs();
            vals.push((format!("x-ratelimit-limit-read-{name}"), limit.to_string()));
            vals.push((
                format!("x-ratelimit-remaining-read-{name}"),
                limit.saturating_sub(*count).to_string(),
            ));
            vals.push((
                format!("x-ratelimit-reset-read-{name}"),
                (period - elapsed.min(period)).to_string(),
            ));
        }
        for (k, v) in vals {
            if let (Ok(k), Ok(v)) = (
                axum::http::HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                h.insert(k, v);
            }
        }
    }

    /// Checks the org, the bearer token and its scope for a collection.
    fn authorize(&self, org: &str, headers: &HeaderMap, scope: &str) -> Result<(), Response> {
        let tok = common::bearer(headers);
        let ok = tok.as_ref().is_some_and(|t| {
            lock(&self.tokens).get(t).is_some_and(|info| {
                info.expires > Instant::now() && info.scopes.iter().any(|s| s == scope)
            })
        });
        if !ok {
            // Missing scope, expired and invalid tokens all get the same 401 (officernd.md §1.7).
            return Err(nest(StatusCode::UNAUTHORIZED, json!("Unauthorized access")));
        }
        if org != self.creds.officernd_org {
            return Err(common::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"statusCode": 500, "message": "Organization not found"}),
            ));
        }
        Ok(())
    }
}

/// NestJS error body `{statusCode, message, error}` (officernd.md §1.7).
fn nest(status: StatusCode, message: Value) -> Response {
    let error = status.canonical_reason().unwrap_or("Error");
    common::json(
        status,
        &json!({"statusCode": status.as_u16(), "message": message, "error": error}),
    )
}

fn bad_request(messages: Vec<String>) -> Response {
    nest(StatusCode::BAD_REQUEST, json!(messages))
}

/// Unknown path or verb: NestJS's 404 "Cannot GET /…".
async fn cannot(method: Method, uri: Uri) -> Response {
    nest(
        StatusCode::NOT_FOUND,
        json!(format!("Cannot {method} {}", uri.path())),
    )
}

/// `POST /oauth/token`, form body `client_id`, `client_secret`, `grant_type`, `scope`
/// (officernd.md §1.1). One ungranted scope fails the whole request.
async fn token(
    State(o): State<Arc<OfficeRnd>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut p = common::parse_form(query.as_deref().unwrap_or(""));
    p.extend(common::parse_form(&String::from_utf8_lossy(&body)));
    let oauth_err = |status: StatusCode, error: &str, desc: &str| {
        common::json(status, &json!({"error": error, "error_description": desc}))
    };
    if p.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_err(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only client_credentials is supported",
        );
    }
    let (id, secret) = match (p.get("client_id"), p.get("client_secret")) {
        (Some(i), Some(s)) => (i.clone(), s.clone()),
        _ => common::basic_auth(&headers).unwrap_or_default(),
    };
    if id != o.creds.officernd_client_id || secret != o.creds.officernd_client_secret {
        return oauth_err(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let requested: Vec<String> = match p.get("scope") {
        Some(s) if !s.trim().is_empty() => s.split_whitespace().map(str::to_owned).collect(),
        // No scope asked: the application's granted scopes.
        _ => o.granted.clone(),
    };
    if let Some(bad) = requested.iter().find(|s| !o.granted.contains(s)) {
        return oauth_err(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("The application is not allowed to request scope {bad}"),
        );
    }
    let n = {
        let mut c = lock(&o.counter);
        *c += 1;
        *c
    };
    let access = common::new_token("sbx-ornd-", n);
    lock(&o.tokens).insert(
        access.clone(),
        TokenInfo {
            expires: Instant::now() + o.token_ttl,
            scopes: requested.clone(),
        },
    );
    common::json(
        StatusCode::OK,
        &json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": o.token_ttl.as_secs(),
            "scope": requested.join(" "),
        }),
    )
}

fn collection(
    name: &str,
) -> Option<&'static (&'static str, &'static str, &'static [&'static str])> {
    COLLECTIONS.iter().find(|(c, _, _)| *c == name)
}

fn items(o: &OfficeRnd, name: &str) -> Vec<Value> {
    lock(&o.data)
        .get(name)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Text form of a field for equality: strings as-is, others as JSON text.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compare(field: &Value, op: &str, want: &str) -> bool {
    let ord = match (
        field
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()),
        chrono::DateTime::parse_from_rfc3339(want).ok(),
    ) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => match (field.as_f64(), want.parse::<f64>().ok()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
            _ => text(field).as_str().cmp(want),
        },
    };
    match op {
        "$gt" => ord.is_gt(),
        "$gte" => ord.is_ge(),
        "$lt" => ord.is_lt(),
        "$lte" => ord.is_le(),
        _ => false,
    }
}

fn matches(item: &Value, field: &str, op: Option<&str>, want: &str) -> bool {
    let v = item.get(field).unwrap_or(&Value::Null);
    match op {
        None => match v {
            Value::Array(a) => a.iter().any(|x| text(x) == want),
            other => text(other) == want,
        },
        Some("$in") => want.split(',').any(|w| text(v) == w),
        Some("$ne") => text(v) != want,
        Some(op) => !v.is_null() && compare(v, op, want),
    }
}

fn nesty_cursor(offset: usize, id: &str) -> String {
    common::b64(&format!("{{\"id\":\"{id}\",\"offset\":\"{offset}\"}}"))
}

fn parse_cursor(c: &str) -> Result<usize, Response> {
    let fail = || {
        common::json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"statusCode": 500, "message": "Unexpected token in JSON at position 0"}),
        )
    };
    let text = common::unb64(c).ok_or_else(fail)?;
    let v: Value = serde_json::from_str(&text).map_err(|_| fail())?;
    v.get("offset")
        .and_then(|o| {
            o.as_str()
                .and_then(|s| s.parse().ok())
                .or(o.as_u64().map(|n| n as usize))
        })
        .ok_or_else(fail)
}

/// `GET /{collection}`: `$limit` ≤ 50, `$cursorNext`/`$cursorPrev`, `$select`, equality
/// and bracketed operator filters; unknown params are 400 (officernd.md §1.4, §1.5).
async fn list(
    State(o): State<Arc<OfficeRnd>>,
    Path((org, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Some(&(_, scope, fields)) = collection(&name) else {
        return nest(
            StatusCode::NOT_FOUND,
            json!(format!("Cannot GET {}", uri.path())),
        );
    };
    if let Err(r) = o.authorize(&org, &headers, scope) {
        return r;
    }
    let mut resp = list_inner(&o, &name, fields, &q);
    o.rate_headers(resp.headers_mut());
    resp
}

fn list_inner(o: &OfficeRnd, name: &str, fields: &[&str], q: &HashMap<String, String>) -> Response {
    let mut errors = Vec::new();
    let mut filters: Vec<(String, Option<String>, String)> = Vec::new();
    let mut keys: Vec<&String> = q.keys().collect();
    keys.sort();
    for k in keys {
        if matches!(
            k.as_str(),
            "$limit" | "$cursorNext" | "$cursorPrev" | "$select"
        ) {
            continue;
        }
        // `$sort` is documented for members only (officernd.md §1.5); accepted, not applied.
        if k == "$sort" && name == "members" {
            continue;
        }
        let (field, op) = match k.split_once('[') {
            Some((f, rest)) => (f, Some(rest.trim_end_matches(']'))),
            None => (k.as_str(), None),
        };
        let op_ok = op.is_none_or(|op| ["$in", "$ne", "$gt", "$gte", "$lt", "$lte"].contains(&op));
        if (field == "_id" || fields.contains(&field)) && op_ok {
            filters.push((field.to_owned(), op.map(str::to_owned), q[k].clone()));
        } else {
            errors.push(format!("property {k} should not exist"));
        }
    }
    let limit = match q.get("$limit").map(|s| s.parse::<i64>()) {
        None => MAX_LIMIT,
        Some(Err(_)) => {
            errors.push("$limit must be a number conforming to the specified constraints".into());
            0
        }
        Some(Ok(n)) if n > MAX_LIMIT as i64 => {
            errors.push(format!("$limit must not be greater than {MAX_LIMIT}"));
            0
        }
        Some(Ok(n)) if n < 0 => {
            errors.push("$limit must not be less than 0".into());
            0
        }
        // Observed: $limit=0 answers 20 items.
        Some(Ok(0)) => 20,
        Some(Ok(n)) => usize::try_from(n).unwrap_or(MAX_LIMIT),
    };
    // Third parties report no bulk assignment list: callers fan out per resource or per
    // membership (officernd.md §2.8). The sandbox enforces it so clients do the same.
    if name == "assignments"
        && !filters
            .iter()
            .any(|(f, _, _)| f == "resource" || f == "membership")
    {
        errors.push("resource or membership should not be empty".into());
    }
    if q.get("$select").is_some_and(|s| s.is_empty()) {
        errors.push("$select should not be empty".into());
    }
    if !errors.is_empty() {
        return bad_request(errors);
    }
    let select: Option<Vec<&str>> = q.get("$select").map(|s| s.split(',').collect());
    // filtered in place and only the page cloned: copying the collection
    // for each page would make a listing quadratic in its size
    let data = lock(&o.data);
    let none = Vec::new();
    let everything = data.get(name).and_then(Value::as_array).unwrap_or(&none);
    let all: Vec<&Value> = everything
        .iter()
        .filter(|it| {
            filters
                .iter()
                .all(|(f, op, want)| matches(it, f, op.as_deref(), want))
        })
        .collect();
    let start = match (q.get("$cursorNext"), q.get("$cursorPrev")) {
        (Some(c), None) => match parse_cursor(c) {
            Ok(n) => n,
            Err(r) => return r,
        },
        (None, Some(c)) => match parse_cursor(c) {
            Ok(n) => n,
            Err(r) => return r,
        },
        (Some(_), Some(_)) => {
            return nest(StatusCode::GATEWAY_TIMEOUT, json!("Gateway Timeout"));
        }
        (None, None) => 0,
    };
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|it| project(it, select.as_deref()))
        .collect();
    let mut body = Map::new();
    let n = page.len();
    body.insert(
        "rangeStart".into(),
        json!(if n == 0 { 0 } else { start + 1 }),
    );
    body.insert("rangeEnd".into(), json!(if n == 0 { 0 } else { start + n }));
    let end = start + n;
    if end < all.len() {
        let last = page
            .last()
            .and_then(|v| v.get("_id"))
            .map(text)
            .unwrap_or_default();
        body.insert("cursorNext".into(), json!(nesty_cursor(end, &last)));
    }
    if start > 0 {
        let prev = start.saturating_sub(limit);
        body.insert("cursorPrev".into(), json!(nesty_cursor(prev, "")));
    }
    body.insert("results".into(), Value::Array(page));
    common::json(StatusCode::OK, &Value::Object(body))
}

fn project(item: &Value, select: Option<&[&str]>) -> Value {
    match (select, item.as_object()) {
        (Some(sel), Some(m)) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() == "_id" || sel.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => item.clone(),
    }
}

/// `GET /{collection}/{id}` and `GET /{collection}/count` (`{"total": n}`, filters ignored
/// as observed). A single item omits an empty `properties` (officernd.md §2).
async fn one(
    State(o): State<Arc<OfficeRnd>>,
    Path((org, name, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Some(&(_, scope, _)) = collection(&name) else {
        return nest(
            StatusCode::NOT_FOUND,
            json!(format!("Cannot GET {}", uri.path())),
        );
    };
    if let Err(r) = o.authorize(&org, &headers, scope) {
        return r;
    }
    let mut resp = if id == "count" {
        common::json(StatusCode::OK, &json!({"total": items(&o, &name).len()}))
    } else {
        match items(&o, &name)
            .into_iter()
            .find(|it| it.get("_id").and_then(Value::as_str) == Some(id.as_str()))
        {
            Some(mut it) => {
                if let Some(m) = it.as_object_mut()
                    && m.get("properties")
                        .and_then(Value::as_object)
                        .is_some_and(Map::is_empty)
                {
                    m.remove("properties");
                }
                common::json(StatusCode::OK, &it)
            }
            None => nest(StatusCode::NOT_FOUND, json!(format!("Item with Id ({id})"))),
        }
    };
    o.rate_headers(resp.headers_mut());
    resp
}

/// Test-side access to the fake OfficeRnD organization: change records between syncs,
/// read counters. Cheap to clone; get one with [`Sandbox::officernd`](crate::Sandbox::officernd).
#[derive(Debug, Clone)]
pub struct OfficeRndHandle {
    pub(crate) inner: Arc<OfficeRnd>,
}

impl OfficeRndHandle {
    /// Turns the read windows and their `x-ratelimit-*` headers off (or on
    /// again): they count real time, which a month simulated in minutes on a
    /// virtual clock would exhaust (see `EntrataHandle::set_rate_windows`).
    pub fn set_rate_windows(&self, on: bool) {
        self.inner
            .rate_windows
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Adds a record to a collection (`"memberships"`, `"bookings"`, …), or replaces the
    /// one with the same `_id`. Returns false (and changes nothing) for an unknown
    /// collection or a record without `_id`.
    pub fn upsert(&self, collection: &str, record: Value) -> bool {
        let Some(id) = record.get("_id").and_then(Value::as_str).map(str::to_owned) else {
            return false;
        };
        if self::collection(collection).is_none() {
            return false;
        }
        let mut data = lock(&self.inner.data);
        let list = data
            .entry(collection.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        let Some(list) = list.as_array_mut() else {
            return false;
        };
        let created = match list
            .iter_mut()
            .find(|r| r.get("_id").and_then(Value::as_str) == Some(id.as_str()))
        {
            Some(slot) => {
                *slot = record.clone();
                false
            }
            None => {
                list.push(record.clone());
                true
            }
        };
        drop(data);
        self.notify(
            collection,
            if created { "created" } else { "updated" },
            record,
        );
        true
    }
    /// Removes a record by `_id`; returns whether it existed.
    pub fn remove(&self, collection: &str, id: &str) -> bool {
        let mut data = lock(&self.inner.data);
        let Some(list) = data.get_mut(collection).and_then(Value::as_array_mut) else {
            return false;
        };
        let before = list.len();
        list.retain(|r| r.get("_id").and_then(Value::as_str) != Some(id));
        let removed = list.len() != before;
        drop(data);
        if removed {
            self.notify(collection, "removed", json!({"_id": id}));
        }
        removed
    }

    /// Subscribes a webhook, as an OfficeRnD admin does under Settings >
    /// Developer tools > Webhooks: from now on every [`upsert`](Self::upsert)
    /// and [`remove`](Self::remove) of a member, membership, booking or
    /// pass is POSTed to `url` as OfficeRnD documents it (`{"event",
    /// "eventType", "data": {"object"}, "createdAt"}`), signed with
    /// `secret` in the `officernd-signature` header, shortly after the
    /// change (on the calling Tokio runtime). One delivery per event; the
    /// receiver's answers are in [`deliveries`](Self::deliveries).
    pub fn send_webhooks_to(&self, url: impl Into<String>, secret: impl Into<String>) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a plain HTTP client builds");
        *lock(&self.inner.webhooks) = Some(Subscription {
            url: url.into(),
            secret: secret.into(),
            http,
        });
    }

    /// The webhooks sent so far, oldest first (a delivery in flight is
    /// listed once it is answered).
    pub fn deliveries(&self) -> Vec<WebhookDelivery> {
        lock(&self.inner.deliveries).clone()
    }

    /// Sends an earlier delivery again, byte for byte (a replay, as an
    /// attacker who captured it would, or as a retry would); returns the
    /// receiver's status.
    pub async fn redeliver(&self, delivery: &WebhookDelivery) -> Option<u16> {
        let sub = lock(&self.inner.webhooks).clone()?;
        deliver(&sub, delivery).await
    }

    fn notify(&self, collection: &str, change: &str, object: Value) {
        let kind = match collection {
            "members" => "member",
            "memberships" => "membership",
            "bookings" => "booking",
            "passes" => "pass",
            _ => return,
        };
        let Some(sub) = lock(&self.inner.webhooks).clone() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let event_id = format!("{:024x}", fastrand::u128(..) >> 32);
        let body = json!({
            "event": event_id,
            "eventType": format!("{kind}.{change}"),
            "data": {"object": object},
            "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
        .to_string()
        .into_bytes();
        let t = chrono::Utc::now().timestamp();
        let mut delivery = WebhookDelivery {
            event_id,
            event_type: format!("{kind}.{change}"),
            signature: sign(sub.secret.as_bytes(), &body, t),
            body,
            status: None,
        };
        let deliveries = self.inner.deliveries.clone();
        runtime.spawn(async move {
            delivery.status = deliver(&sub, &delivery).await;
            lock(&deliveries).push(delivery);
        });
    }
    /// The current record with this `_id`.
    pub fn get(&self, collection: &str, id: &str) -> Option<Value> {
        items(&self.inner, collection)
            .into_iter()
            .find(|r| r.get("_id").and_then(Value::as_str) == Some(id))
    }
    /// Expires every access token issued so far.
    pub fn expire_tokens(&self) {
        self.inner.expire_tokens();
    }
    /// Call counters.
    pub fn stats(&self) -> crate::CallStats {
        self.inner.common.stats()
    }
}

async fn deliver(sub: &Subscription, delivery: &WebhookDelivery) -> Option<u16> {
    let r = sub
        .http
        .post(&sub.url)
        .header("content-type", "application/json")
        .header("officernd-signature", &delivery.signature)
        .body(delivery.body.clone())
        .send()
        .await
        .ok()?;
    Some(r.status().as_u16())
}

/// OfficeRnD's signature: `t=<unix>,signature=<hex HMAC-SHA256(secret, body + "." + t)>`.
fn sign(secret: &[u8], body: &[u8], t: i64) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret)
        .expect("HMAC takes keys of any length");
    mac.update(body);
    mac.update(b".");
    mac.update(t.to_string().as_bytes());
    format!(
        "t={t},signature={}",
        hex::encode(mac.finalize().into_bytes())
    )
}
