//! The fake Entrata API: JSON-RPC-style POSTs to `/api/v1/{service}` (Basic auth) and
//! `/ext/orgs/{org}/v1/{service}` (`X-Api-Key`). Shapes follow
//! `/work/shared/api/entrata.md` (cited by section below).
//!
//! It models the real service, not a client's hopes: where entrata.md records a behaviour
//! the sandbox follows it; where the real behaviour is unknown it answers the strict or
//! pessimistic way (marked "unverified, pessimistic" next to the code):
//!
//! - a getLeases without `leaseStatusTypeIds` returns Current leases only (§0.1);
//! - each method accepts only its documented params (§4.x tables), with typed values
//!   (ids, comma lists, `MM/DD/YYYY` dates, `0`/`1` flags; §2.2);
//! - `per_page` is silently cut to a server-side cap, while the page offset still uses the
//!   requested size (§0.1 "Paging", §8.3); `X-Total-Count` only when a test turns it on;
//! - the API user is granted web services one by one, and getMitsPropertyUnits is not
//!   granted by default (§0.1 "Permissions").
//!
//! In-body error codes the sandbox uses (all with HTTP 200, `entrata.md` §3.3 and §8.1):
//! 113 bad credentials, 301 property not accessible (unknown or failing), 302 web service
//! not granted to the API user (unverified: the real code and text are unknown), 400
//! malformed request (bad JSON, unknown method or version, unknown, missing or malformed
//! parameter; the message names the parameter).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::Response;
use axum::routing::post;
use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::SandboxCredentials;
use crate::common::{self, Common, Style, lock};
use crate::seed::EntrataSeed;

/// The default server-side `per_page` cap. Entrata's real cap is unknown (entrata.md §8.3:
/// users suspect 500 on getLeases r2); 100 is unverified, pessimistic.
pub const DEFAULT_PAGE_CAP: usize = 100;

/// The web services the sandbox's API user is NOT granted at start. Brivo's own Entrata
/// set-up asks for getStatus, getProperties, getPropertyUnits and getLeases only
/// (entrata.md §0.1 "Permissions"), so the zone source getMitsPropertyUnits (§4.15) is
/// refused until a test grants it.
const NOT_GRANTED_BY_DEFAULT: &[&str] = &["getMitsPropertyUnits"];

/// In-body code for a web service the API user was not granted. Unverified: no recorded
/// answer exists; 3xx is the permission family of the known codes (301, 311; §3.3).
const NOT_GRANTED_CODE: u64 = 302;

/// In-body code for any malformed request (bad JSON, unknown method, bad param).
const MALFORMED: u64 = 400;

/// Per-service rate-limit buckets as recorded (`entrata.md` §3.5): (limit, period seconds).
fn limits_for(service: &str) -> &'static [(u64, u64, &'static str)] {
    match service {
        "properties" => &[
            (10000, 86400, "day"),
            (1000, 3600, "hour"),
            (300, 60, "minute"),
        ],
        "propertyunits" => &[(66000, 3600, "hour"), (1100, 60, "minute")],
        "status" => &[(8640, 86400, "day"), (360, 3600, "hour"), (6, 60, "minute")],
        _ => &[
            (15000, 86400, "day"),
            (1000, 3600, "hour"),
            (150, 60, "minute"),
        ],
    }
}

#[derive(Debug, Default)]
struct Windows {
    /// service -> per bucket (window start, count)
    by_service: HashMap<String, Vec<(Instant, u64)>>,
}

/// Server behaviour a test may change at run time (see [`EntrataHandle`]).
#[derive(Debug)]
struct Settings {
    /// `per_page` cap; `None` = no cap.
    page_cap: Option<usize>,
    /// Send `X-Total-Count` on paginated answers.
    total_count_header: bool,
    /// Web services the API user is not granted.
    not_granted: BTreeSet<String>,
    /// Properties whose getLeases answers with this odd `result` (a test of
    /// how a client treats an answer that is neither data nor "no records").
    odd_leases: HashMap<String, Value>,
    /// Properties the API user lost permission to: not listed, and data
    /// calls refused with 301 (an Entrata permission change).
    revoked_properties: BTreeSet<String>,
    /// Count calls in the `X-RateLimit-*` windows (real time) and send the
    /// headers.
    rate_windows: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            page_cap: Some(DEFAULT_PAGE_CAP),
            total_count_header: false,
            not_granted: NOT_GRANTED_BY_DEFAULT
                .iter()
                .map(|m| (*m).to_owned())
                .collect(),
            odd_leases: HashMap::new(),
            revoked_properties: BTreeSet::new(),
            rate_windows: true,
        }
    }
}

/// The fake Entrata service (read-only data).
#[derive(Debug)]
pub(crate) struct Entrata {
    pub(crate) common: Arc<Common>,
    creds: SandboxCredentials,
    seed: Mutex<Arc<EntrataSeed>>,
    failing: Mutex<HashSet<String>>,
    windows: Mutex<Windows>,
    settings: Mutex<Settings>,
}

type RpcError = (u64, String);

/// A method's answer: the `result` value, and for paginated methods the number of
/// matching records before paging (for `X-Total-Count`).
struct Reply {
    result: Value,
    total: Option<usize>,
}

impl From<Value> for Reply {
    fn from(result: Value) -> Self {
        Self {
            result,
            total: None,
        }
    }
}

type RpcResult = Result<Reply, RpcError>;

fn rpc_err(code: u64, msg: impl Into<String>) -> RpcError {
    (code, msg.into())
}

fn malformed(msg: impl Into<String>) -> RpcError {
    rpc_err(MALFORMED, msg)
}

impl Entrata {
    pub(crate) fn new(
        seed: &EntrataSeed,
        creds: SandboxCredentials,
    ) -> Result<Arc<Self>, crate::Error> {
        for l in &seed.leases {
            if l.get("id").is_none() || l.get("propertyId").is_none() {
                return Err(crate::Error::Seed(
                    "entrata seed: every lease needs id and propertyId".into(),
                ));
            }
        }
        Ok(Arc::new(Self {
            common: Common::new(Style::Entrata, None),
            creds,
            seed: Mutex::new(Arc::new(seed.clone())),
            failing: Mutex::new(HashSet::new()),
            windows: Mutex::new(Windows::default()),
            settings: Mutex::new(Settings::default()),
        }))
    }

    fn seed(&self) -> Arc<EntrataSeed> {
        lock(&self.seed).clone()
    }

    pub(crate) fn fail_property(&self, property_id: String) {
        lock(&self.failing).insert(property_id);
    }

    pub(crate) fn clear_failures(&self) {
        lock(&self.failing).clear();
    }

    fn page_cap(&self) -> Option<usize> {
        lock(&self.settings).page_cap
    }

    pub(crate) fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/api/v1/{service}", post(basic_call))
            .route("/api/{service}", post(basic_call))
            .route("/ext/orgs/{org}/v1/{service}", post(gateway_call))
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(
                self.common.clone(),
                common::fault_middleware,
            ))
            .with_state(self.clone())
    }

    /// `X-RateLimit-*` headers: `N/period;…`, remaining and seconds to reset, same order.
    fn rate_headers(&self, service: &str, headers: &mut HeaderMap) {
        let limits = limits_for(service);
        let now = Instant::now();
        let mut w = lock(&self.windows);
        let buckets = w
            .by_service
            .entry(service.to_owned())
            .or_insert_with(|| limits.iter().map(|_| (now, 0)).collect());
        let mut lim = Vec::new();
        let mut rem = Vec::new();
        let mut reset = Vec::new();
        for ((limit, period, name), (start, count)) in limits.iter().zip(buckets.iter_mut()) {
            let elapsed = now.saturating_duration_since(*start).as_secs();
            if elapsed >= *period {
                *start = now;
                *count = 0;
            }
            *count += 1;
            let elapsed = now.saturating_duration_since(*start).as_secs();
            lim.push(format!("{limit}/{name}"));
            rem.push(format!("{}/{name}", limit.saturating_sub(*count)));
            reset.push((period - elapsed.min(*period)).to_string());
        }
        for (k, v) in [
            ("x-ratelimit-limit", lim.join(";")),
            ("x-ratelimit-remaining", rem.join(";")),
            ("x-ratelimit-reset", reset.join(";")),
        ] {
            if let Ok(v) = HeaderValue::from_str(&v) {
                headers.insert(k, v);
            }
        }
    }
}

async fn not_found() -> Response {
    common::json(
        StatusCode::NOT_FOUND,
        &json!({"response": {"error": {"code": 404, "message": "Requested resource not found."}}}),
    )
}

async fn basic_call(
    State(e): State<Arc<Entrata>>,
    Path(service): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authed = common::basic_auth(&headers)
        .is_some_and(|(u, p)| u == e.creds.entrata_username && p == e.creds.entrata_password);
    handle(&e, &service, &q, authed, &body)
}

async fn gateway_call(
    State(e): State<Arc<Entrata>>,
    Path((org, service)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authed = org == e.creds.entrata_org
        && headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|k| k == e.creds.entrata_api_key);
    handle(&e, &service, &q, authed, &body)
}

fn handle(
    e: &Entrata,
    service: &str,
    q: &HashMap<String, String>,
    authed: bool,
    body: &[u8],
) -> Response {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    // `requestId` is echoed as a string, and only when sent (entrata.md §2.1, quirk 14).
    let request_id = parsed
        .as_ref()
        .and_then(|b| b.get("requestId"))
        .and_then(|r| match r {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    let outcome = if !authed {
        Err(rpc_err(113, "Username and/or password is incorrect."))
    } else {
        match &parsed {
            None => Err(malformed("Invalid JSON request body.")),
            Some(b) => dispatch(e, service, q, b),
        }
    };
    let mut inner = Map::new();
    if let Some(id) = request_id {
        inner.insert("requestId".into(), json!(id));
    }
    let mut total = None;
    match outcome {
        Ok(reply) => {
            inner.insert("code".into(), json!(200));
            inner.insert("result".into(), reply.result);
            total = reply.total;
        }
        Err((code, message)) => {
            inner.insert("error".into(), json!({"code": code, "message": message}));
        }
    }
    let mut resp = common::json(StatusCode::OK, &json!({"response": inner}));
    let h = resp.headers_mut();
    h.insert("content-language", HeaderValue::from_static("en-US"));
    h.insert(
        "access-control-expose-headers",
        HeaderValue::from_static(
            "Link, X-Total-Count, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Content-Language",
        ),
    );
    // The header is exposed on recorded responses (§3.1) but never seen carrying a value:
    // off unless a test turns it on, so clients cannot depend on it.
    if let Some(n) = total.filter(|_| lock(&e.settings).total_count_header) {
        h.insert("x-total-count", HeaderValue::from(n));
    }
    if lock(&e.settings).rate_windows {
        e.rate_headers(service, h);
    }
    resp
}

// ---------------------------------------------------------------------------------------
// params

/// What a documented param's value must look like (entrata.md §2.2). Values arrive as
/// strings or numbers; anything else (bool, null, array, object) is refused, since the
/// real server's handling of them is unknown (unverified, pessimistic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One integer id.
    Id,
    /// A comma-separated list of integer ids (`"4,5,6"`).
    IdList,
    /// A comma list of lease status type ids, each 1–6 (§5.1).
    Statuses,
    /// `MM/DD/YYYY`.
    Date,
    /// `0` or `1` ([Boolean] in the docs, enum [0,1] in the spec).
    Flag,
    /// Free text; an empty string counts as absent.
    Text,
}

use Kind::{Date, Flag, Id, IdList, Statuses, Text};

type ParamSpec = &'static [(&'static str, Kind)];

/// getProperties (§4.2).
const GET_PROPERTIES: ParamSpec = &[
    ("propertyIds", IdList),
    ("propertyLookupCode", Text),
    ("showAllStatus", Flag),
];
/// getFloorPlans (§4.3).
const GET_FLOOR_PLANS: ParamSpec = &[
    ("propertyId", Id),
    ("propertyFloorPlanIds", IdList),
    ("usePropertyPreferences", Flag),
    ("includeDisabledFloorplans", Flag),
];
/// getPropertyUnits (§4.4).
const GET_PROPERTY_UNITS: ParamSpec = &[
    ("propertyIds", IdList),
    ("availableUnitsOnly", Flag),
    ("usePropertyPreferences", Flag),
    ("includeDisabledFloorplans", Flag),
    ("includeDisabledUnits", Flag),
];
/// getMitsPropertyUnits: the params seen in practice (§4.15).
const GET_MITS: ParamSpec = &[
    ("propertyIds", IdList),
    ("availableUnitsOnly", Flag),
    ("usePropertyPreferences", Flag),
    ("includeDisabledFloorplans", Flag),
    ("includeDisabledUnits", Flag),
    ("showUnitSpaces", Flag),
];
/// getLeases r1 and r2 (§4.7 table). `includeDemographics` (node client only, unverified)
/// is not in it and so is refused.
const GET_LEASES: ParamSpec = &[
    ("propertyId", Id),
    ("applicationId", Id),
    ("customerId", Id),
    ("leaseStatusTypeIds", Statuses),
    ("leaseIds", IdList),
    ("scheduledArCodeIds", IdList),
    ("unitNumber", Text),
    ("buildingName", Text),
    ("moveInDateFrom", Date),
    ("moveInDateTo", Date),
    ("leaseExpiringDateFrom", Date),
    ("leaseExpiringDateTo", Date),
    ("moveOutDateFrom", Date),
    ("moveOutDateTo", Date),
    ("includeOtherIncomeLeases", Flag),
    ("residentFriendlyMode", Flag),
    ("includeLeaseHistory", Flag),
    ("includeArTransactions", Flag),
];
/// getLeases r1 only (spec, §4.7).
const GET_LEASES_R1: ParamSpec = &[
    ("eventTypeIds", IdList),
    ("eventDateFrom", Date),
    ("eventDateTo", Date),
];
/// getLeaseDetails (§4.8).
const GET_LEASE_DETAILS: ParamSpec = &[
    ("propertyId", Id),
    ("leaseId", Id),
    ("includeAddOns", Flag),
    ("includeCharge", Flag),
];
/// getLeaseDetails r2 only.
const GET_LEASE_DETAILS_R2: ParamSpec = &[("leaseStatusTypeIds", Statuses)];
/// getExpiringLeases (§4.9); the notice-only flag under both of its documented names.
const GET_EXPIRING: ParamSpec = &[
    ("propertyId", Id),
    ("fromDate", Date),
    ("toDate", Date),
    ("isMonthToMonth", Flag),
    ("showNoticeLeasesOnly", Flag),
    ("isWaitList", Flag),
];
/// getCustomers (§4.14).
const GET_CUSTOMERS: ParamSpec = &[
    ("propertyId", Id),
    ("customerIds", IdList),
    ("leaseStatusTypeIds", Statuses),
    ("isAgreedToTermsOnly", Flag),
    ("companyIdentificationTypeIds", IdList),
];

/// The methods the sandbox serves: (service, method, versions).
const METHODS: &[(&str, &str, &[&str])] = &[
    ("status", "getStatus", &["r1"]),
    ("properties", "getProperties", &["r1"]),
    ("properties", "getFloorPlans", &["r1"]),
    ("propertyunits", "getPropertyUnits", &["r1"]),
    ("propertyunits", "getMitsPropertyUnits", &["r1"]),
    ("leases", "getLeasePickList", &["r1"]),
    ("leases", "getLeases", &["r1", "r2"]),
    ("leases", "getLeaseDetails", &["r1", "r2"]),
    ("leases", "getExpiringLeases", &["r1"]),
    ("customers", "getCustomers", &["r1"]),
];

/// The documented params of a method at a version (getStatus and getLeasePickList take
/// none).
fn param_specs(method: &str, version: &str) -> Vec<(&'static str, Kind)> {
    let parts: &[ParamSpec] = match (method, version) {
        ("getProperties", _) => &[GET_PROPERTIES],
        ("getFloorPlans", _) => &[GET_FLOOR_PLANS],
        ("getPropertyUnits", _) => &[GET_PROPERTY_UNITS],
        ("getMitsPropertyUnits", _) => &[GET_MITS],
        ("getLeases", "r1") => &[GET_LEASES, GET_LEASES_R1],
        ("getLeases", _) => &[GET_LEASES],
        ("getLeaseDetails", "r2") => &[GET_LEASE_DETAILS, GET_LEASE_DETAILS_R2],
        ("getLeaseDetails", _) => &[GET_LEASE_DETAILS],
        ("getExpiringLeases", _) => &[GET_EXPIRING],
        ("getCustomers", _) => &[GET_CUSTOMERS],
        _ => &[],
    };
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// Validated params as trimmed text, keyed by name. Absent and empty-text params are
/// missing from the map.
#[derive(Debug, Default, Clone)]
struct Params(BTreeMap<String, String>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }

    fn required(&self, key: &str) -> Result<String, RpcError> {
        self.text(key)
            .ok_or_else(|| malformed(format!("{key} is required.")))
    }

    /// A comma list as a set.
    fn ids(&self, key: &str) -> Option<BTreeSet<String>> {
        self.get(key)
            .map(|s| s.split(',').map(|x| x.trim().to_owned()).collect())
    }

    /// Lease status type ids as a set, normalised (`"04"` is `"4"`).
    fn statuses(&self, key: &str) -> Option<BTreeSet<String>> {
        self.get(key).map(|s| {
            s.split(',')
                .filter_map(|x| x.trim().parse::<u64>().ok())
                .map(|n| n.to_string())
                .collect()
        })
    }

    fn date(&self, key: &str) -> Option<NaiveDate> {
        self.get(key).and_then(mdy)
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key) == Some("1")
    }

    fn set(&mut self, key: &str, value: impl Into<String>) {
        self.0.insert(key.to_owned(), value.into());
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks a raw value against its kind; `Ok(None)` for empty text (treated as absent).
fn check_value(method: &str, key: &str, kind: Kind, v: &Value) -> Result<Option<String>, RpcError> {
    let bad = |what: &str| {
        malformed(format!(
            "Invalid value for parameter '{key}' of {method}: {what}."
        ))
    };
    let text = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => {
            return Err(bad(match kind {
                Flag => "expected 0 or 1",
                Date => "expected a date in MM/DD/YYYY format",
                _ => "expected a string or a number",
            }));
        }
    };
    let ok = match kind {
        Text => return Ok((!text.is_empty()).then_some(text)),
        Id => is_id(&text),
        IdList => text.split(',').all(|x| is_id(x.trim())),
        Statuses => text
            .split(',')
            .all(|x| is_id(x.trim()) && matches!(x.trim().parse::<u64>(), Ok(1..=6))),
        // Strictly two-digit month and day and a four-digit year (§2.2, quirk 8).
        Date => {
            let b = text.as_bytes();
            b.len() == 10
                && b[2] == b'/'
                && b[5] == b'/'
                && b.iter()
                    .enumerate()
                    .all(|(i, c)| i == 2 || i == 5 || c.is_ascii_digit())
                && mdy(&text).is_some()
        }
        Flag => text == "0" || text == "1",
    };
    if ok {
        return Ok(Some(text));
    }
    Err(bad(match kind {
        Id => "expected an integer id",
        IdList => "expected a comma-separated list of integer ids",
        Statuses => "expected a comma-separated list of lease status type ids 1-6",
        Date => "expected a date in MM/DD/YYYY format",
        Flag => "expected 0 or 1",
        Text => "expected text",
    }))
}

/// Only the method's documented params, each well-formed (unverified, pessimistic: the
/// real server may ignore unknown params, which would hide a client's misspelt filter).
fn validate(method: &str, version: &str, raw: Option<&Value>) -> Result<Params, RpcError> {
    let raw = match raw {
        None | Some(Value::Null) => return Ok(Params::default()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(malformed("Invalid value for 'params': expected an object.")),
    };
    let specs = param_specs(method, version);
    let mut out = Params::default();
    for (key, v) in raw {
        let Some((_, kind)) = specs.iter().find(|(name, _)| name == key) else {
            return Err(malformed(format!(
                "Unknown parameter '{key}' for {method} ({version})."
            )));
        };
        if let Some(text) = check_value(method, key, *kind, v)? {
            out.set(key, text);
        }
    }
    Ok(out)
}

/// `MM/DD/YYYY` (entrata.md §2.2, quirk 8).
fn mdy(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%m/%d/%Y").ok()
}

fn in_range(d: Option<NaiveDate>, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    let Some(d) = d else { return false };
    from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t)
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A one-or-many value as a list (the sandbox's own fixtures use both forms).
fn many(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.clone()],
    }
}

fn no_records() -> Value {
    json!({"success": "No Records Found."})
}

// ---------------------------------------------------------------------------------------
// paging

/// `page_no` / `per_page` from the query string (entrata.md §3.4).
#[derive(Debug, Clone, Copy)]
struct Paging {
    page_no: usize,
    per_page: Option<usize>,
}

fn positive(q: &HashMap<String, String>, key: &str) -> Result<Option<usize>, RpcError> {
    match q.get(key) {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| malformed(format!("{key} must be a positive integer."))),
    }
}

fn paging(q: &HashMap<String, String>) -> Result<Paging, RpcError> {
    Ok(Paging {
        page_no: positive(q, "page_no")?.unwrap_or(1),
        per_page: positive(q, "per_page")?,
    })
}

/// One page. Unverified, pessimistic: at most `cap` records come back (a larger
/// `per_page` is cut silently, and no `per_page` means `cap`), but the offset uses the
/// REQUESTED size, so the records between `cap` and `per_page` of each page are never
/// served at that size. A client that stops at a short page, or trusts its own
/// `per_page`, loses them without noticing; a careful one sees a short page followed by a
/// non-empty one and re-reads with `per_page` = the page size it got (§0.1 "Paging").
fn page(items: Vec<Value>, p: Paging, cap: Option<usize>) -> Vec<Value> {
    let Some(requested) = p.per_page.or(cap) else {
        return if p.page_no == 1 { items } else { Vec::new() };
    };
    let size = cap.map_or(requested, |c| requested.min(c));
    let offset = (p.page_no - 1).saturating_mul(requested);
    items.into_iter().skip(offset).take(size).collect()
}

// ---------------------------------------------------------------------------------------
// dispatch

fn dispatch(e: &Entrata, service: &str, q: &HashMap<String, String>, body: &Value) -> RpcResult {
    let Some(method) = body
        .get("method")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
    else {
        return Err(malformed("Method name is required."));
    };
    let Some((_, _, versions)) = METHODS
        .iter()
        .find(|(s, m, _)| *s == service && *m == method)
    else {
        return Err(malformed(format!(
            "Method '{method}' is not supported by the '{service}' web service."
        )));
    };
    // Web services are granted per API user (§0.1 "Permissions"); the refusal's code and
    // text are unverified.
    if lock(&e.settings).not_granted.contains(method) {
        return Err(rpc_err(
            NOT_GRANTED_CODE,
            format!("API user does not have access to the {method} web service."),
        ));
    }
    // No version means r1 (§2.1).
    let version = match body.get("method").and_then(|m| m.get("version")) {
        None | Some(Value::Null) => "r1",
        Some(Value::String(v)) if versions.contains(&v.as_str()) => v.as_str(),
        Some(v) => {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            return Err(malformed(format!(
                "Version '{v}' is not supported for {method}."
            )));
        }
    };
    let params = validate(
        method,
        version,
        body.get("method").and_then(|m| m.get("params")),
    )?;
    // Checked for every method, although only some page (§3.4).
    let paging = paging(q)?;
    match method {
        "getStatus" => Ok(json!({
            "status": "Success", "message": "API service is available and running."})
        .into()),
        "getProperties" => get_properties(e, &params),
        "getFloorPlans" => get_floor_plans(e, &params),
        "getPropertyUnits" => get_property_units(e, &params),
        "getMitsPropertyUnits" => get_mits(e, &params),
        "getLeasePickList" => Ok(lease_pick_list().into()),
        "getLeases" => get_leases(e, &params, version, paging),
        "getLeaseDetails" => get_lease_details(e, &params, version, paging),
        "getExpiringLeases" => get_expiring(e, &params),
        _ => get_customers(e, &params),
    }
}

fn property_known(e: &Entrata, pid: &str) -> bool {
    e.seed()
        .properties
        .iter()
        .any(|p| str_of(p, "PropertyID").as_deref() == Some(pid))
}

/// A property the credentials can read, and that is not failing by fault.
fn check_property(e: &Entrata, pid: &str, data_fetch: bool) -> Result<(), RpcError> {
    let failing = (data_fetch && lock(&e.failing).contains(pid))
        || lock(&e.settings).revoked_properties.contains(pid);
    if failing || !property_known(e, pid) {
        return Err(rpc_err(
            301,
            "User doesn't have permission to the property or property is disabled.",
        ));
    }
    Ok(())
}

/// `showAllStatus` is accepted; the sample has no disabled property to hide.
fn get_properties(e: &Entrata, params: &Params) -> RpcResult {
    let ids = params.ids("propertyIds");
    let code = params.get("propertyLookupCode");
    let items: Vec<Value> = e
        .seed()
        .properties
        .iter()
        .filter(|p| {
            ids.as_ref()
                .is_none_or(|ids| str_of(p, "PropertyID").is_some_and(|id| ids.contains(&id)))
        })
        .filter(|p| code.is_none_or(|c| str_of(p, "LookupCode").as_deref() == Some(c)))
        .filter(|p| {
            str_of(p, "PropertyID")
                .is_none_or(|id| !lock(&e.settings).revoked_properties.contains(&id))
        })
        .cloned()
        .collect();
    if items.is_empty() {
        return Ok(no_records().into());
    }
    Ok(json!({"PhysicalProperty": {"Property": items}}).into())
}

fn get_floor_plans(e: &Entrata, params: &Params) -> RpcResult {
    let pid = params.required("propertyId")?;
    check_property(e, &pid, false)?;
    let wanted = params.ids("propertyFloorPlanIds");
    let items: Vec<Value> = e
        .seed()
        .floor_plans
        .iter()
        .filter(|f| str_of(f, "PropertyId").as_deref() == Some(pid.as_str()))
        .filter(|f| {
            wanted.as_ref().is_none_or(|w| {
                f.get("Identification")
                    .and_then(|i| str_of(i, "IDValue"))
                    .is_some_and(|id| w.contains(&id))
            })
        })
        .cloned()
        .collect();
    if items.is_empty() {
        return Ok(no_records().into());
    }
    Ok(json!({"FloorPlans": {"FloorPlan": items}}).into())
}

/// One element collapses to an object, as Entrata's own examples show (entrata.md §4.4,
/// quirk 3): clients need one-or-many handling.
fn collapse(items: Vec<Value>) -> Value {
    if items.len() == 1 {
        items.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(items)
    }
}

/// The unit filters (`availableUnitsOnly`, …) are accepted but not applied: every sample
/// unit is listed.
fn get_property_units(e: &Entrata, params: &Params) -> RpcResult {
    let ids = params
        .ids("propertyIds")
        .ok_or_else(|| malformed("propertyIds is required."))?;
    for id in &ids {
        check_property(e, id, false)?;
    }
    let items: Vec<Value> = e
        .seed()
        .property_units
        .iter()
        .filter(|p| str_of(p, "propertyId").is_some_and(|id| ids.contains(&id)))
        .cloned()
        .collect();
    if items.is_empty() {
        return Ok(no_records().into());
    }
    Ok(json!({"properties": {"property": collapse(items)}}).into())
}

fn get_mits(e: &Entrata, params: &Params) -> RpcResult {
    let ids = params
        .ids("propertyIds")
        .ok_or_else(|| malformed("propertyIds is required."))?;
    for id in &ids {
        check_property(e, id, false)?;
    }
    let items: Vec<Value> = e
        .seed()
        .mits_properties
        .iter()
        .filter(|p| {
            p.pointer("/PropertyID/Identification/@attributes/IDValue")
                .and_then(Value::as_str)
                .is_some_and(|id| ids.contains(id))
        })
        .cloned()
        .collect();
    if items.is_empty() {
        return Ok(no_records().into());
    }
    Ok(json!({"PhysicalProperty": {"Property": items}}).into())
}

/// Real getLeasePickList (entrata.md §4.11), trimmed.
fn lease_pick_list() -> Value {
    json!({
        "leaseStatusTypes": {"leaseStatusType": [
            {"@attributes": {"id": 1, "name": "Applicant", "type": "NA"}},
            {"@attributes": {"id": 2, "name": "Cancelled", "type": "NA"}},
            {"@attributes": {"id": 3, "name": "Future", "type": "NA"}},
            {"@attributes": {"id": 4, "name": "Current", "type": "Active"}},
            {"@attributes": {"id": 5, "name": "Notice", "type": "Active"}},
            {"@attributes": {"id": 6, "name": "Past", "type": "Completed"}}]},
        "chargeTimings": {"chargeTiming": [
            {"@attributes": {"id": 302, "name": "Daily"}},
            {"@attributes": {"id": 312, "name": "Nightly"}},
            {"@attributes": {"id": 303, "name": "Weekly"}}]},
        "refundMethods": {"refundMethod": [
            {"@attributes": {"id": 2, "name": "Single Refund, Primary Resident as Payee"}},
            {"@attributes": {"id": 4, "name": "Multiple Refunds"}}]}
    })
}

fn intervals(l: &Value) -> Vec<Value> {
    many(l.pointer("/leaseIntervals/leaseInterval"))
}

/// The end date of the lease's latest interval.
fn lease_end(l: &Value) -> Option<NaiveDate> {
    intervals(l)
        .last()
        .and_then(|i| i.get("endDate"))
        .and_then(Value::as_str)
        .and_then(mdy)
}

fn customers(l: &Value) -> Vec<Value> {
    many(l.pointer("/customers/customer"))
}

/// The statuses a getLeases without `leaseStatusTypeIds` returns: Current only. The only
/// recorded answers to a request with just a `propertyId` (592 leases) held Current leases
/// only, although those properties had move-ins and move-outs around the recording dates
/// (entrata.md §0.1 "Default statuses").
const DEFAULT_LEASE_STATUSES: &[&str] = &["4"];

/// Filters of one lease selection (entrata.md §4.7). `statuses: None` means every status
/// (internal callers only; a client request always has a status set).
#[derive(Debug, Default)]
struct LeaseQuery {
    property_id: String,
    statuses: Option<BTreeSet<String>>,
    lease_ids: Option<BTreeSet<String>>,
    application_id: Option<String>,
    customer_id: Option<String>,
    scheduled_ar_code_ids: Option<BTreeSet<String>>,
    unit_number: Option<String>,
    building_name: Option<String>,
    move_in: (Option<NaiveDate>, Option<NaiveDate>),
    move_out: (Option<NaiveDate>, Option<NaiveDate>),
    expiring: (Option<NaiveDate>, Option<NaiveDate>),
}

fn default_statuses() -> BTreeSet<String> {
    DEFAULT_LEASE_STATUSES
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

impl LeaseQuery {
    /// A getLeases request. The `include*` flags, `residentFriendlyMode` and the r1 event
    /// filters are accepted but not applied (the sample has no other-income leases, AR
    /// transactions or events; every interval is always sent).
    fn from_params(params: &Params) -> Result<Self, RpcError> {
        Ok(Self {
            property_id: params.required("propertyId")?,
            statuses: Some(
                params
                    .statuses("leaseStatusTypeIds")
                    .unwrap_or_else(default_statuses),
            ),
            lease_ids: params.ids("leaseIds"),
            application_id: params.text("applicationId"),
            customer_id: params.text("customerId"),
            scheduled_ar_code_ids: params.ids("scheduledArCodeIds"),
            unit_number: params.text("unitNumber"),
            building_name: params.text("buildingName"),
            move_in: (params.date("moveInDateFrom"), params.date("moveInDateTo")),
            move_out: (params.date("moveOutDateFrom"), params.date("moveOutDateTo")),
            expiring: (
                params.date("leaseExpiringDateFrom"),
                params.date("leaseExpiringDateTo"),
            ),
        })
    }

    fn matches(&self, e: &Entrata, l: &Value) -> bool {
        let has = |set: &Option<BTreeSet<String>>, key: &str| {
            set.as_ref()
                .is_none_or(|s| str_of(l, key).is_some_and(|x| s.contains(&x)))
        };
        let date = |key: &str| l.get(key).and_then(Value::as_str).and_then(mdy);
        str_of(l, "propertyId").as_deref() == Some(self.property_id.as_str())
            && has(&self.statuses, "leaseStatusTypeId")
            && has(&self.lease_ids, "id")
            && self.application_id.as_ref().is_none_or(|a| {
                intervals(l)
                    .iter()
                    .any(|i| str_of(i, "applicationId").as_deref() == Some(a.as_str()))
            })
            && self.customer_id.as_ref().is_none_or(|c| {
                customers(l)
                    .iter()
                    .any(|cu| str_of(cu, "id").as_deref() == Some(c.as_str()))
            })
            && self.scheduled_ar_code_ids.as_ref().is_none_or(|codes| {
                many(l.pointer("/scheduledCharges/scheduledCharge"))
                    .iter()
                    .any(|ch| str_of(ch, "chargeCodeId").is_some_and(|c| codes.contains(&c)))
            })
            && self.unit_number.as_ref().is_none_or(|u| {
                many(l.pointer("/unitSpaces/unitSpace"))
                    .iter()
                    .any(|s| str_of(s, "unitSpace").as_deref() == Some(u.as_str()))
            })
            && self.building_name.as_ref().is_none_or(|b| {
                unit_of(e, l).is_some_and(|u| str_of(&u, "buildingName").as_deref() == Some(b))
            })
            && in_range(date("moveInDate"), self.move_in.0, self.move_in.1)
            && in_range(date("moveOutDate"), self.move_out.0, self.move_out.1)
            && in_range(lease_end(l), self.expiring.0, self.expiring.1)
    }
}

/// Leases of one property matching `q`.
fn select_leases(e: &Entrata, q: &LeaseQuery) -> Result<Vec<Value>, RpcError> {
    check_property(e, &q.property_id, true)?;
    Ok(e.seed()
        .leases
        .iter()
        .filter(|l| q.matches(e, l))
        .cloned()
        .collect())
}

fn unit_of(e: &Entrata, l: &Value) -> Option<Value> {
    let uid = str_of(l, "unitId")?;
    e.seed().property_units.iter().find_map(|p| {
        many(p.pointer("/units/unit"))
            .into_iter()
            .find(|u| str_of(u, "id").as_deref() == Some(uid.as_str()))
    })
}

/// r1 has no customers/unitSpaces/scheduledCharges blocks but flat unit fields
/// (entrata.md §4.7, "r1 vs r2").
fn to_r1(e: &Entrata, l: &Value) -> Value {
    let mut m = l.as_object().cloned().unwrap_or_default();
    let space = many(l.pointer("/unitSpaces/unitSpace")).into_iter().next();
    for k in ["customers", "unitSpaces", "scheduledCharges"] {
        m.remove(k);
    }
    if let Some(u) = unit_of(e, l) {
        if let Some(b) = u.get("buildingId") {
            m.insert("buildingId".into(), json!(b.to_string()));
        }
        if let Some(b) = u.get("buildingName") {
            m.insert("buildingName".into(), b.clone());
        }
    }
    if let Some(s) = space {
        if let Some(n) = s.get("unitSpace") {
            m.insert("unitNumberSpace".into(), n.clone());
        }
        if let Some(id) = s.get("unitSpaceId") {
            m.insert("unitSpaceId".into(), json!(id.to_string()));
        }
    }
    Value::Object(m)
}

fn get_leases(e: &Entrata, params: &Params, version: &str, paging: Paging) -> RpcResult {
    let query = LeaseQuery::from_params(params)?;
    let odd = lock(&e.settings)
        .odd_leases
        .get(&query.property_id)
        .cloned();
    if let Some(result) = odd {
        return Ok(Reply {
            result,
            total: None,
        });
    }
    let all = select_leases(e, &query)?;
    let total = all.len();
    let leases = page(all, paging, e.page_cap());
    let result = if leases.is_empty() {
        no_records()
    } else if version == "r2" {
        json!({"currencyCode": "USD", "leases": {"lease": leases}})
    } else {
        let items: Vec<Value> = leases.iter().map(|l| to_r1(e, l)).collect();
        json!({"leases": {"lease": items}})
    };
    Ok(Reply {
        result,
        total: Some(total),
    })
}

/// getLeaseDetails (entrata.md §4.8). r1 needs `leaseId` and has no status param, so it
/// answers that lease whatever its status; r2 without `leaseStatusTypeIds` defaults to
/// Current like getLeases (unverified, pessimistic).
fn get_lease_details(e: &Entrata, params: &Params, version: &str, paging: Paging) -> RpcResult {
    let lease_id = params.text("leaseId");
    if version == "r1" && lease_id.is_none() {
        return Err(malformed("leaseId is required."));
    }
    let mut q = LeaseQuery {
        property_id: params.required("propertyId")?,
        lease_ids: lease_id.map(|id| BTreeSet::from([id])),
        ..LeaseQuery::default()
    };
    if version == "r2" {
        q.statuses = Some(
            params
                .statuses("leaseStatusTypeIds")
                .unwrap_or_else(default_statuses),
        );
    }
    let all = select_leases(e, &q)?;
    let total = all.len();
    let leases = page(all, paging, e.page_cap());
    if leases.is_empty() {
        return Ok(Reply {
            result: no_records(),
            total: Some(total),
        });
    }
    // Spec-example shape (entrata.md §4.8), one recurringCharge per lease interval.
    let items: Vec<Value> = leases
        .iter()
        .map(|l| {
            let name = customers(l)
                .iter()
                .find(|c| c.get("customerType").and_then(Value::as_str) == Some("Primary"))
                .and_then(|c| c.get("nameFull").cloned())
                .unwrap_or(Value::Null);
            let unit = many(l.pointer("/unitSpaces/unitSpace"))
                .first()
                .and_then(|s| s.get("unitSpace").cloned())
                .unwrap_or(Value::Null);
            let charges: Vec<Value> = intervals(l)
                .iter()
                .map(|i| {
                    json!({
                        "leaseIntervalId": str_of(i, "id"),
                        "leaseIntervalStatus": i.get("leaseIntervalStatusTypeName"),
                        "leaseIntervalType": i.get("leaseIntervalTypeName"),
                        "leaseStartDate": i.get("startDate"),
                        "leaseEndDate": i.get("endDate").cloned().unwrap_or(json!("")),
                    })
                })
                .collect();
            json!({
                "leaseId": str_of(l, "id"),
                "name": name,
                "propertyUnitId": str_of(l, "unitId"),
                "unitNumber": unit,
                "scheduledCharges": {"recurringCharge": charges},
            })
        })
        .collect();
    Ok(Reply {
        result: json!({"leases": {"lease": items}}),
        total: Some(total),
    })
}

/// getExpiringLeases (entrata.md §4.9): PascalCase with `@attributes` ids. Current and
/// Notice leases ending in the window; Notice only with `showNoticeLeasesOnly` or
/// `isWaitList`; `isMonthToMonth=1` keeps month-to-month leases only.
fn get_expiring(e: &Entrata, params: &Params) -> RpcResult {
    let property_id = params.required("propertyId")?;
    let to = params
        .date("toDate")
        .ok_or_else(|| malformed("toDate is required."))?;
    let notice_only = params.flag("showNoticeLeasesOnly") || params.flag("isWaitList");
    let statuses: &[&str] = if notice_only { &["5"] } else { &["4", "5"] };
    let q = LeaseQuery {
        property_id,
        statuses: Some(statuses.iter().map(|s| (*s).to_owned()).collect()),
        expiring: (params.date("fromDate"), Some(to)),
        ..LeaseQuery::default()
    };
    let month_to_month = params.flag("isMonthToMonth");
    let leases: Vec<Value> = select_leases(e, &q)?
        .into_iter()
        .filter(|l| !month_to_month || str_of(l, "isMonthToMonth").as_deref() == Some("1"))
        .collect();
    if leases.is_empty() {
        return Ok(no_records().into());
    }
    let items: Vec<Value> = leases
        .iter()
        .map(|l| {
            let cs = customers(l);
            let primary = cs
                .iter()
                .find(|c| c.get("customerType").and_then(Value::as_str) == Some("Primary"))
                .cloned()
                .unwrap_or(Value::Null);
            let id: i64 = str_of(l, "id").and_then(|s| s.parse().ok()).unwrap_or(0);
            let start = intervals(l)
                .last()
                .and_then(|i| i.get("startDate").cloned())
                .unwrap_or(Value::Null);
            let mut m = json!({
                "@attributes": {"Id": id},
                "Resident": {
                    "@attributes": {"Id": primary.get("id")},
                    "Name": format!("{} {}",
                        primary.get("firstName").and_then(Value::as_str).unwrap_or(""),
                        primary.get("lastName").and_then(Value::as_str).unwrap_or("")),
                    "EmailAddress": primary.get("emailAddress"),
                },
                "Unit": many(l.pointer("/unitSpaces/unitSpace")).first().and_then(|s| s.get("unitSpace").cloned()),
                "LeaseStatus": l.get("leaseIntervalStatus"),
                "LeaseStarts": start,
                "LeaseExpires": lease_end(l).map(|d| d.format("%m/%d/%Y").to_string()),
            });
            if let (Some(m), Some(mo)) = (m.as_object_mut(), l.get("moveOutDate")) {
                m.insert("NoticeDate".into(), mo.clone());
            }
            m
        })
        .collect();
    Ok(json!({"Leases": {"Lease": items}}).into())
}

/// getCustomers (entrata.md §4.14): MITS-style PascalCase, one entry per customer with a
/// `LeaseId` list. By default only customers of Current and Notice leases, as documented
/// ("returns residents where their lease status is Current or Notice"). The
/// `isAgreedToTermsOnly` and `companyIdentificationTypeIds` filters are accepted but not
/// applied (the sample has neither terms dates nor identification values).
fn get_customers(e: &Entrata, params: &Params) -> RpcResult {
    let wanted = params.ids("customerIds");
    let q = LeaseQuery {
        property_id: params.required("propertyId")?,
        statuses: Some(
            params
                .statuses("leaseStatusTypeIds")
                .unwrap_or_else(|| ["4", "5"].iter().map(|s| (*s).to_owned()).collect()),
        ),
        ..LeaseQuery::default()
    };
    let leases = select_leases(e, &q)?;
    let mut order: Vec<String> = Vec::new();
    let mut out: HashMap<String, Value> = HashMap::new();
    for l in &leases {
        let unit = many(l.pointer("/unitSpaces/unitSpace"))
            .first()
            .and_then(|s| s.get("unitSpace").cloned())
            .unwrap_or(Value::Null);
        let building = unit_of(e, l)
            .and_then(|u| u.get("buildingName").cloned())
            .unwrap_or(Value::Null);
        for c in customers(l) {
            let Some(cid) = str_of(&c, "id") else {
                continue;
            };
            if wanted.as_ref().is_some_and(|w| !w.contains(&cid)) {
                continue;
            }
            let lease_ref = json!({
                "Identification": [{"IDValue": str_of(l, "id"), "@attributes": {
                    "IDType": "Lease Id", "IDRank": "primary", "IDScopeType": "sender",
                    "Status": l.get("leaseIntervalStatus")}}],
                "CustomerType": c.get("customerType"),
            });
            if let Some(existing) = out.get_mut(&cid) {
                if let Some(Value::Array(a)) = existing.get_mut("LeaseId") {
                    a.push(lease_ref);
                }
                continue;
            }
            let phone = many(c.pointer("/phones/phone"))
                .first()
                .and_then(|p| p.get("phoneNumber").cloned());
            let mut m = json!({
                "@attributes": {"Id": cid},
                "LeaseId": [lease_ref],
                "FirstName": c.get("firstName"),
                "LastName": c.get("lastName"),
                "UnitNumber": unit,
                "BuildingName": building,
            });
            if let Some(obj) = m.as_object_mut() {
                if let Some(em) = c.get("emailAddress") {
                    obj.insert("Email".into(), em.clone());
                }
                if let Some(ph) = phone {
                    obj.insert("PhoneNumber".into(), ph);
                }
            }
            order.push(cid.clone());
            out.insert(cid, m);
        }
    }
    if order.is_empty() {
        return Ok(no_records().into());
    }
    let items: Vec<Value> = order.iter().filter_map(|c| out.remove(c)).collect();
    Ok(json!({"Customers": {"Customer": items}}).into())
}

/// Test-side access to the fake Entrata portfolio: change leases between syncs, tune the
/// server (page cap, `X-Total-Count`, web-service grants), read counters. Cheap to clone;
/// get one with [`Sandbox::entrata`](crate::Sandbox::entrata).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sandbox::Error> {
/// let sb = sandbox::Sandbox::start_default().await?;
/// let entrata = sb.entrata();
/// entrata.set_page_cap(Some(2)); // per_page above 2 is cut to 2
/// entrata.set_total_count_header(true); // paginated answers carry X-Total-Count
/// entrata.grant_method("getMitsPropertyUnits"); // the zone source, refused by default
/// assert!(entrata.is_granted("getMitsPropertyUnits"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct EntrataHandle {
    pub(crate) inner: Arc<Entrata>,
}

impl EntrataHandle {
    /// Turns the `X-RateLimit-*` windows off (or on again). They count real
    /// time: a simulation that runs a month of calls in minutes on a virtual
    /// clock would be throttled by limits meant for a month; it counts the
    /// calls per virtual day itself.
    pub fn set_rate_windows(&self, on: bool) {
        lock(&self.inner.settings).rate_windows = on;
    }

    /// Adds a lease (a getLeases r2 `lease` object), or replaces the one with the same `id`.
    pub fn upsert_lease(&self, lease: Value) {
        let mut guard = lock(&self.inner.seed);
        let seed = Arc::make_mut(&mut guard);
        let id = str_of(&lease, "id");
        match seed.leases.iter_mut().find(|l| str_of(l, "id") == id) {
            Some(slot) => *slot = lease,
            None => seed.leases.push(lease),
        }
    }
    /// Removes a lease by id; returns whether it existed.
    pub fn remove_lease(&self, lease_id: &str) -> bool {
        let mut guard = lock(&self.inner.seed);
        let seed = Arc::make_mut(&mut guard);
        let before = seed.leases.len();
        seed.leases
            .retain(|l| str_of(l, "id").as_deref() != Some(lease_id));
        seed.leases.len() != before
    }
    /// The current lease object with this id.
    pub fn lease(&self, lease_id: &str) -> Option<Value> {
        self.inner
            .seed()
            .leases
            .iter()
            .find(|l| str_of(l, "id").as_deref() == Some(lease_id))
            .cloned()
    }
    /// Sets the server-side `per_page` cap of the paginated methods (getLeases,
    /// getLeaseDetails): a larger `per_page`, or none, returns at most `cap` records, while
    /// the page offset still uses the requested `per_page`. `None` removes the cap; 0 counts
    /// as 1. Default [`DEFAULT_PAGE_CAP`].
    pub fn set_page_cap(&self, cap: Option<usize>) {
        lock(&self.inner.settings).page_cap = cap.map(|c| c.max(1));
    }
    /// The current `per_page` cap.
    pub fn page_cap(&self) -> Option<usize> {
        self.inner.page_cap()
    }
    /// Takes the API user's permission to a property away (`false`) or
    /// gives it back: getProperties stops listing it and its data calls
    /// answer 301, as after a permission change in Entrata.
    pub fn set_property_permission(&self, property_id: &str, granted: bool) {
        let mut s = lock(&self.inner.settings);
        if granted {
            s.revoked_properties.remove(property_id);
        } else {
            s.revoked_properties.insert(property_id.to_owned());
        }
    }
    /// Makes getLeases for `property_id` answer with this `result` (e.g. a
    /// text that is not a "no records" sentence), or answer normally again
    /// with `None`: how does a client treat an answer it does not know?
    pub fn answer_leases_with(&self, property_id: &str, result: Option<Value>) {
        let mut s = lock(&self.inner.settings);
        match result {
            Some(r) => s.odd_leases.insert(property_id.to_owned(), r),
            None => s.odd_leases.remove(property_id),
        };
    }
    /// Sends (or stops sending) `X-Total-Count`, the number of matching records before
    /// paging, on getLeases and getLeaseDetails answers. Off by default: whether Entrata
    /// sends it is unknown.
    pub fn set_total_count_header(&self, on: bool) {
        lock(&self.inner.settings).total_count_header = on;
    }
    /// Grants the sandbox's API user a web service (method name, e.g.
    /// `"getMitsPropertyUnits"`). Every method but getMitsPropertyUnits is granted at start.
    pub fn grant_method(&self, method: &str) {
        lock(&self.inner.settings).not_granted.remove(method);
    }
    /// Revokes a web service: calls to it answer in-body error 302 "API user does not have
    /// access to the {method} web service." (HTTP 200; code and text unverified).
    pub fn revoke_method(&self, method: &str) {
        lock(&self.inner.settings)
            .not_granted
            .insert(method.to_owned());
    }
    /// Whether the API user is granted this web service.
    pub fn is_granted(&self, method: &str) -> bool {
        !lock(&self.inner.settings).not_granted.contains(method)
    }
    /// Call counters.
    pub fn stats(&self) -> crate::CallStats {
        self.inner.common.stats()
    }
}
