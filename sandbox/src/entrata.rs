//! The fake Entrata API: JSON-RPC-style POSTs to `/api/v1/{service}` (Basic auth) and
//! `/ext/orgs/{org}/v1/{service}` (`X-Api-Key`). Shapes follow
//! `/work/shared/api/entrata.md` (cited by section below).
//!
//! In-body error codes the sandbox uses (all with HTTP 200, `entrata.md` §3.3 and §8.1):
//! 113 bad credentials, 301 property not accessible (unknown or failing), 400 malformed
//! request (bad JSON, unknown method, missing or malformed parameter).

use std::collections::{BTreeSet, HashMap, HashSet};
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

/// The fake Entrata service (read-only data).
#[derive(Debug)]
pub(crate) struct Entrata {
    pub(crate) common: Arc<Common>,
    creds: SandboxCredentials,
    seed: Mutex<Arc<EntrataSeed>>,
    failing: Mutex<HashSet<String>>,
    windows: Mutex<Windows>,
}

type RpcResult = Result<Value, (u64, String)>;

fn rpc_err(code: u64, msg: impl Into<String>) -> (u64, String) {
    (code, msg.into())
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
            None => Err(rpc_err(400, "Invalid JSON request body.")),
            Some(b) => dispatch(e, service, q, b),
        }
    };
    let mut inner = Map::new();
    if let Some(id) = request_id {
        inner.insert("requestId".into(), json!(id));
    }
    match outcome {
        Ok(result) => {
            inner.insert("code".into(), json!(200));
            inner.insert("result".into(), result);
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
    e.rate_headers(service, h);
    resp
}

// ---------------------------------------------------------------------------------------
// params

/// A param as text: params arrive as strings or numbers (entrata.md §2.2).
fn param(params: &Value, key: &str) -> Option<String> {
    match params.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        _ => None,
    }
}

fn required(params: &Value, key: &str) -> Result<String, (u64, String)> {
    param(params, key).ok_or_else(|| rpc_err(400, format!("{key} is required.")))
}

fn id_list(params: &Value, key: &str) -> Option<BTreeSet<String>> {
    param(params, key).map(|s| {
        s.split(',')
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect()
    })
}

/// `MM/DD/YYYY` (entrata.md §2.2, quirk 8).
fn mdy(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%m/%d/%Y").ok()
}

fn date_param(params: &Value, key: &str) -> Result<Option<NaiveDate>, (u64, String)> {
    match param(params, key) {
        None => Ok(None),
        Some(s) => mdy(&s).map(Some).ok_or_else(|| {
            rpc_err(
                400,
                format!("{key} must be a valid date in MM/DD/YYYY format."),
            )
        }),
    }
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

/// `page_no` / `per_page` from the query string (entrata.md §3.4).
fn paginate(items: Vec<Value>, q: &HashMap<String, String>) -> Result<Vec<Value>, (u64, String)> {
    let per_page = match q.get("per_page") {
        None => return Ok(items),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| rpc_err(400, "per_page must be a positive integer."))?,
    };
    let page_no = match q.get("page_no") {
        None => 1,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| rpc_err(400, "page_no must be a positive integer."))?,
    };
    Ok(items
        .into_iter()
        .skip((page_no - 1) * per_page)
        .take(per_page)
        .collect())
}

// ---------------------------------------------------------------------------------------
// dispatch

fn dispatch(e: &Entrata, service: &str, q: &HashMap<String, String>, body: &Value) -> RpcResult {
    let Some(method) = body
        .get("method")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
    else {
        return Err(rpc_err(400, "Method name is required."));
    };
    let version = body
        .get("method")
        .and_then(|m| m.get("version"))
        .and_then(Value::as_str)
        .unwrap_or("r1");
    let empty = json!({});
    let params = body
        .get("method")
        .and_then(|m| m.get("params"))
        .unwrap_or(&empty);
    match (service, method) {
        ("status", "getStatus") => Ok(json!({
            "status": "Success", "message": "API service is available and running."})),
        ("properties", "getProperties") => get_properties(e, params),
        ("properties", "getFloorPlans") => get_floor_plans(e, params),
        ("propertyunits", "getPropertyUnits") => get_property_units(e, params),
        ("propertyunits", "getMitsPropertyUnits") => get_mits(e, params),
        ("leases", "getLeasePickList") => Ok(lease_pick_list()),
        ("leases", "getLeases") => get_leases(e, params, version, q),
        ("leases", "getLeaseDetails") => get_lease_details(e, params, version, q),
        ("leases", "getExpiringLeases") => get_expiring(e, params),
        ("customers", "getCustomers") => get_customers(e, params),
        _ => Err(rpc_err(
            400,
            format!("Method '{method}' is not supported by the '{service}' web service."),
        )),
    }
}

fn property_known(e: &Entrata, pid: &str) -> bool {
    e.seed()
        .properties
        .iter()
        .any(|p| str_of(p, "PropertyID").as_deref() == Some(pid))
}

/// A property the credentials can read, and that is not failing by fault.
fn check_property(e: &Entrata, pid: &str, data_fetch: bool) -> Result<(), (u64, String)> {
    let failing = data_fetch && lock(&e.failing).contains(pid);
    if failing || !property_known(e, pid) {
        return Err(rpc_err(
            301,
            "User doesn't have permission to the property or property is disabled.",
        ));
    }
    Ok(())
}

fn get_properties(e: &Entrata, params: &Value) -> RpcResult {
    let ids = id_list(params, "propertyIds");
    let items: Vec<Value> = e
        .seed()
        .properties
        .iter()
        .filter(|p| {
            ids.as_ref()
                .is_none_or(|ids| str_of(p, "PropertyID").is_some_and(|id| ids.contains(&id)))
        })
        .cloned()
        .collect();
    if items.is_empty() {
        return Ok(no_records());
    }
    Ok(json!({"PhysicalProperty": {"Property": items}}))
}

fn get_floor_plans(e: &Entrata, params: &Value) -> RpcResult {
    let pid = required(params, "propertyId")?;
    check_property(e, &pid, false)?;
    let items: Vec<Value> = e
        .seed()
        .floor_plans
        .iter()
        .filter(|f| str_of(f, "PropertyId").as_deref() == Some(pid.as_str()))
        .cloned()
        .collect();
    if items.is_empty() {
        return Ok(no_records());
    }
    Ok(json!({"FloorPlans": {"FloorPlan": items}}))
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

fn get_property_units(e: &Entrata, params: &Value) -> RpcResult {
    let ids =
        id_list(params, "propertyIds").ok_or_else(|| rpc_err(400, "propertyIds is required."))?;
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
        return Ok(no_records());
    }
    Ok(json!({"properties": {"property": collapse(items)}}))
}

fn get_mits(e: &Entrata, params: &Value) -> RpcResult {
    let ids =
        id_list(params, "propertyIds").ok_or_else(|| rpc_err(400, "propertyIds is required."))?;
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
        return Ok(no_records());
    }
    Ok(json!({"PhysicalProperty": {"Property": items}}))
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

/// Leases of one property matching getLeases filters (entrata.md §4.7).
fn select_leases(e: &Entrata, params: &Value) -> Result<Vec<Value>, (u64, String)> {
    let pid = required(params, "propertyId")?;
    check_property(e, &pid, true)?;
    let statuses = id_list(params, "leaseStatusTypeIds");
    let lease_ids = id_list(params, "leaseIds");
    let customer_id = param(params, "customerId");
    let unit_number = param(params, "unitNumber");
    let (mi_from, mi_to) = (
        date_param(params, "moveInDateFrom")?,
        date_param(params, "moveInDateTo")?,
    );
    let (mo_from, mo_to) = (
        date_param(params, "moveOutDateFrom")?,
        date_param(params, "moveOutDateTo")?,
    );
    let (ex_from, ex_to) = (
        date_param(params, "leaseExpiringDateFrom")?,
        date_param(params, "leaseExpiringDateTo")?,
    );
    Ok(e.seed()
        .leases
        .iter()
        .filter(|l| str_of(l, "propertyId").as_deref() == Some(pid.as_str()))
        .filter(|l| {
            statuses
                .as_ref()
                .is_none_or(|s| str_of(l, "leaseStatusTypeId").is_some_and(|x| s.contains(&x)))
        })
        .filter(|l| {
            lease_ids
                .as_ref()
                .is_none_or(|s| str_of(l, "id").is_some_and(|x| s.contains(&x)))
        })
        .filter(|l| {
            customer_id.as_ref().is_none_or(|c| {
                customers(l)
                    .iter()
                    .any(|cu| str_of(cu, "id").as_deref() == Some(c.as_str()))
            })
        })
        .filter(|l| {
            unit_number.as_ref().is_none_or(|u| {
                many(l.pointer("/unitSpaces/unitSpace"))
                    .iter()
                    .any(|s| str_of(s, "unitSpace").as_deref() == Some(u.as_str()))
            })
        })
        .filter(|l| {
            in_range(
                l.get("moveInDate").and_then(Value::as_str).and_then(mdy),
                mi_from,
                mi_to,
            )
        })
        .filter(|l| {
            in_range(
                l.get("moveOutDate").and_then(Value::as_str).and_then(mdy),
                mo_from,
                mo_to,
            )
        })
        .filter(|l| in_range(lease_end(l), ex_from, ex_to))
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

fn get_leases(
    e: &Entrata,
    params: &Value,
    version: &str,
    q: &HashMap<String, String>,
) -> RpcResult {
    if !matches!(version, "r1" | "r2") {
        return Err(rpc_err(
            400,
            format!("Version '{version}' is not supported for getLeases."),
        ));
    }
    let leases = paginate(select_leases(e, params)?, q)?;
    if leases.is_empty() {
        return Ok(no_records());
    }
    if version == "r2" {
        Ok(json!({"currencyCode": "USD", "leases": {"lease": leases}}))
    } else {
        let items: Vec<Value> = leases.iter().map(|l| to_r1(e, l)).collect();
        Ok(json!({"leases": {"lease": items}}))
    }
}

fn get_lease_details(
    e: &Entrata,
    params: &Value,
    version: &str,
    q: &HashMap<String, String>,
) -> RpcResult {
    let lease_id = param(params, "leaseId");
    if version == "r1" && lease_id.is_none() {
        return Err(rpc_err(400, "leaseId is required."));
    }
    let mut p = params.clone();
    if let (Some(id), Some(m)) = (lease_id, p.as_object_mut()) {
        m.insert("leaseIds".into(), json!(id));
    }
    let leases = paginate(select_leases(e, &p)?, q)?;
    if leases.is_empty() {
        return Ok(no_records());
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
    Ok(json!({"leases": {"lease": items}}))
}

/// getExpiringLeases (entrata.md §4.9): PascalCase with `@attributes` ids.
fn get_expiring(e: &Entrata, params: &Value) -> RpcResult {
    let pid = required(params, "propertyId")?;
    let to = date_param(params, "toDate")?.ok_or_else(|| rpc_err(400, "toDate is required."))?;
    let from = date_param(params, "fromDate")?;
    let notice_only = param(params, "showNoticeLeasesOnly").as_deref() == Some("1");
    let mut p =
        json!({"propertyId": pid, "leaseStatusTypeIds": if notice_only { "5" } else { "4,5" }});
    if let (Some(m), Some(f)) = (p.as_object_mut(), from) {
        m.insert(
            "leaseExpiringDateFrom".into(),
            json!(f.format("%m/%d/%Y").to_string()),
        );
    }
    if let Some(m) = p.as_object_mut() {
        m.insert(
            "leaseExpiringDateTo".into(),
            json!(to.format("%m/%d/%Y").to_string()),
        );
    }
    let leases = select_leases(e, &p)?;
    if leases.is_empty() {
        return Ok(no_records());
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
    Ok(json!({"Leases": {"Lease": items}}))
}

/// getCustomers (entrata.md §4.14): MITS-style PascalCase, one entry per customer with a
/// `LeaseId` list. By default only Current and Notice leases.
fn get_customers(e: &Entrata, params: &Value) -> RpcResult {
    let pid = required(params, "propertyId")?;
    let wanted = id_list(params, "customerIds");
    let statuses = param(params, "leaseStatusTypeIds").unwrap_or_else(|| "4,5".to_owned());
    let p = json!({"propertyId": pid, "leaseStatusTypeIds": statuses});
    let leases = select_leases(e, &p)?;
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
        return Ok(no_records());
    }
    let items: Vec<Value> = order.iter().filter_map(|c| out.remove(c)).collect();
    Ok(json!({"Customers": {"Customer": items}}))
}

/// Test-side access to the fake Entrata portfolio: change leases between syncs, read
/// counters. Cheap to clone; get one with [`Sandbox::entrata`](crate::Sandbox::entrata).
#[derive(Debug, Clone)]
pub struct EntrataHandle {
    pub(crate) inner: Arc<Entrata>,
}

impl EntrataHandle {
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
    /// Call counters.
    pub fn stats(&self) -> crate::CallStats {
        self.inner.common.stats()
    }
}
