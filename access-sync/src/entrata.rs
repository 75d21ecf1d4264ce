//! The Entrata adapter: a [`FactSource`] over [`entrata_client::Client`],
//! turning leases and their residents into engine facts, each property with
//! its IANA time zone and where that zone came from.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use access_engine::{
    Customer, CustomerType, Lease, LeaseStatus, Profile, Property, Scope, Source, ZoneSource,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use entrata_client::{
    Client, LeaseId, LeaseStatus as EntrataStatus, Leases, LeasesRequest, Properties,
    PropertiesRequest, PropertyAddress, PropertyId, zone_in_state,
};
use futures::future::join_all;
use tracing::{debug, warn};

use crate::sources::{FactSource, SourceBatch, SourceError};
use crate::syncer::MAX_INTERVAL;

/// Reads Entrata: the properties, each property's time zone, and every
/// lease a door decision needs, with its residents.
///
/// **What it asks for.** `getProperties` (every property the API user sees,
/// or the chosen list: a chosen property it no longer lists is left out of
/// the batch, which the engine holds as absent); then per property
/// `getLeases` r2 with explicit `leaseStatusTypeIds` — a bare request
/// answers with Current leases only — once for Future, Current and Notice
/// (3, 4, 5), and once for Past (6) leases whose move-out is within
/// [`past_window_days`](EntrataSource::past_window_days) (default 30), so a
/// move-out closes with its own date and reason. Every page is read (see
/// `entrata_client::Client::leases` for the paging rules).
///
/// **Residents.** Each customer carries their own `leaseCustomerStatus`,
/// `moveInDate` and `moveOutDate` into the engine, which admits them by
/// their own status within the later move-in and the earlier move-out.
///
/// **Time zones**, a chain, each step reported in the plan's scope report:
/// 1. a zone you configure ([`EntrataSource::zone`]);
/// 2. `getMitsPropertyUnits` (a web service the API user must be granted;
///    Arizona's "Mountain" corrected by the property's state), cached for
///    [`zone_cache_ttl`](EntrataSource::zone_cache_ttl) (default 24 h), and
///    a refusal remembered as long, so it is not asked every run;
/// 3. the property's state and city from `getProperties`
///    (`entrata_client::zone_for_address`).
///
/// A property none of these can place is marked incomplete with the reason
/// (a warning in the plan; its revocations are held) and its leases are not
/// read.
///
/// **Failure is per property**: a property whose leases cannot be read, or
/// whose listing skipped a lease, is marked incomplete, so the engine holds
/// every revocation it feeds; the other properties go on. A resident whose
/// record could not be decoded is reported in the batch's notes (it cannot
/// be told apart from anyone, so nothing else is held for it). Only a
/// failure to list the properties fails the whole source.
///
/// **What it reads again, and when** (Entrata allows about 2,500 calls a
/// day): every fetch reads each property's Future, Current and Notice
/// leases. The property list and the Past leases change slowly and are read
/// in full every [`slow_refresh`](EntrataSource::slow_refresh) (default 6
/// h); in between, a lease that left the Future/Current/Notice list since
/// the last fetch (a move-out processed, a cancellation) is looked up among
/// the Past leases by id, in one call for the property, so a move-out still
/// closes with its own date and reason. Twenty properties polled every 30
/// minutes cost about 1,000 calls a day this way, against 2,000 re-reading
/// everything.
///
/// Mapping keys: property ids, building ids and unit ids as Entrata's
/// numbers in decimal (`"100"`, `"101"`).
#[derive(Debug, Clone)]
pub struct EntrataSource {
    client: Client,
    properties: Option<Vec<PropertyId>>,
    zones: BTreeMap<PropertyId, Tz>,
    past_window_days: u32,
    zone_cache_ttl: TimeDelta,
    cache: Arc<Mutex<ZoneCache>>,
    store: Option<ZoneStore>,
    slow_refresh: TimeDelta,
    reads: Arc<Mutex<ReadCache>>,
}

/// What the slow reads returned, and each property's open leases at the
/// last fetch (to notice those that leave the list). Its `Debug` shows
/// sizes only: the leases hold personal data.
#[derive(Default)]
struct ReadCache {
    properties: Option<(Properties, DateTime<Utc>)>,
    /// Past leases within the window, per property, and when read in full.
    past: BTreeMap<PropertyId, (Leases, DateTime<Utc>)>,
    /// Future, Current and Notice lease ids at the last fetch.
    open: BTreeMap<PropertyId, BTreeSet<LeaseId>>,
}

/// The run-state store zones are kept in, and the namespace.
#[derive(Clone)]
struct ZoneStore(Arc<dyn access_state::RunState>, String);

impl std::fmt::Debug for ZoneStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ZoneStore({:?}, {:?})", self.0.kind(), self.1)
    }
}

/// Zones named by `getMitsPropertyUnits`, and whether it refused us.
#[derive(Debug, Default)]
struct ZoneCache {
    zones: BTreeMap<PropertyId, (Tz, DateTime<Utc>)>,
    refused: Option<(String, DateTime<Utc>)>,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field(
                "properties",
                &self.properties.as_ref().map(|(p, _)| p.properties.len()),
            )
            .field(
                "past_leases",
                &self
                    .past
                    .values()
                    .map(|(l, _)| l.leases.len())
                    .sum::<usize>(),
            )
            .field(
                "open_leases",
                &self.open.values().map(BTreeSet::len).sum::<usize>(),
            )
            .finish()
    }
}

impl EntrataSource {
    /// A source reading every property the credentials can see.
    pub fn new(client: Client) -> Self {
        EntrataSource {
            client,
            properties: None,
            zones: BTreeMap::new(),
            past_window_days: 30,
            zone_cache_ttl: TimeDelta::hours(24),
            cache: Arc::default(),
            store: None,
            slow_refresh: TimeDelta::hours(6),
            reads: Arc::default(),
        }
    }

    /// How often the property list and the Past leases are read in full
    /// (default 6 h, at most [`MAX_INTERVAL`]; zero reads them on every
    /// fetch). In between, leases that leave the Future/Current/Notice list
    /// are looked up by id.
    #[must_use]
    pub fn slow_refresh(mut self, every: std::time::Duration) -> Self {
        self.slow_refresh = clamped(every);
        self
    }

    fn reads(&self) -> std::sync::MutexGuard<'_, ReadCache> {
        self.reads.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The property list, from the cache while it is young enough.
    async fn properties_listed(
        &self,
        request: &PropertiesRequest,
        now: DateTime<Utc>,
    ) -> Result<Properties, entrata_client::Error> {
        if let Some((p, at)) = &self.reads().properties
            && now - *at < self.slow_refresh
            && now >= *at
        {
            return Ok(p.clone());
        }
        let p = self.client.get_properties(request).await?;
        self.reads().properties = Some((p.clone(), now));
        Ok(p)
    }

    /// A property's leases: the open ones read now; the Past ones from the
    /// cache or, when it is old, read in full. A lease that left the open
    /// list since the last fetch is looked up by id, whatever its status: a
    /// Past one within the window joins the Past list (as a full read would
    /// show it); a Cancelled, older or deleted one is gone (as from a full
    /// read); one still Future, Current or Notice means the open list was
    /// cut short or changed while read: it is kept and the property is
    /// returned as doubtful (its revocations are held this time).
    async fn property_leases(
        &self,
        id: PropertyId,
        now: DateTime<Utc>,
    ) -> Result<LeaseLists, entrata_client::Error> {
        let first = self.property_leases_once(id, now).await?;
        if first.doubt.is_none() {
            return Ok(first);
        }
        // The server may have lowered its page cap: read again, confirming
        // every short page. Still doubtful: the property is held.
        self.client.forget_page_floors();
        self.property_leases_once(id, now).await
    }

    async fn property_leases_once(
        &self,
        id: PropertyId,
        now: DateTime<Utc>,
    ) -> Result<LeaseLists, entrata_client::Error> {
        let c = &self.client;
        let mut requests = self.requests(id, now).into_iter();
        let open_request = requests.next().expect("the open leases are always asked");
        let open = c.all_leases(&open_request).await?;
        let Some(past_request) = requests.next() else {
            return Ok(LeaseLists {
                lists: vec![open],
                doubt: None,
            });
        };
        let open_ids: BTreeSet<LeaseId> = open.leases.iter().map(|l| l.id).collect();
        let (cached, before) = {
            let r = self.reads();
            (
                r.past
                    .get(&id)
                    .filter(|(_, at)| now - *at < self.slow_refresh && now >= *at)
                    .cloned(),
                r.open.get(&id).cloned(),
            )
        };
        let mut doubt = None;
        let mut looked_up = Leases::default();
        let past = match (cached, before) {
            (Some((mut past, at)), Some(before)) => {
                // a lease back in the open list is no longer Past
                past.leases.retain(|l| !open_ids.contains(&l.id));
                let known: BTreeSet<LeaseId> = past.leases.iter().map(|l| l.id).collect();
                let left: Vec<LeaseId> = before
                    .difference(&open_ids)
                    .filter(|l| !known.contains(l))
                    .copied()
                    .collect();
                let from = (now - TimeDelta::days(i64::from(self.past_window_days))).date_naive();
                if !left.is_empty() {
                    debug!(property = %id, leases = left.len(), "leases left the open list; looking them up");
                    let every = LeasesRequest::new(id)
                        .statuses([
                            EntrataStatus::Applicant,
                            EntrataStatus::Cancelled,
                            EntrataStatus::Future,
                            EntrataStatus::Current,
                            EntrataStatus::Notice,
                            EntrataStatus::Past,
                        ])
                        .lease_ids(left);
                    let found = c.all_leases(&every).await?;
                    looked_up.skipped = found.skipped;
                    for l in found.leases {
                        match l.status() {
                            EntrataStatus::Past if l.move_out_date.is_some_and(|d| d >= from) => {
                                past.leases.push(l);
                            }
                            EntrataStatus::Future
                            | EntrataStatus::Current
                            | EntrataStatus::Notice => {
                                doubt = Some(format!(
                                    "lease {} is {:?} but was missing from the open leases \
                                     (a listing cut short, or changed while read); held this time",
                                    l.id,
                                    l.status()
                                ));
                                looked_up.leases.push(l);
                            }
                            // Cancelled, Applicant: a full read leaves them out
                            _ => {}
                        }
                    }
                }
                // Out of the window now: as a full read would leave them out.
                past.leases
                    .retain(|l| l.move_out_date.is_some_and(|d| d >= from));
                self.reads().past.insert(id, (past.clone(), at));
                past
            }
            _ => {
                let past = c.all_leases(&past_request).await?;
                self.reads().past.insert(id, (past.clone(), now));
                past
            }
        };
        // While the open list is in doubt nothing is forgotten: a lease
        // missing from it is looked up again next time.
        let mut remembered = open_ids;
        if doubt.is_some()
            && let Some(before) = self.reads().open.get(&id)
        {
            remembered.extend(before.iter().copied());
        }
        self.reads().open.insert(id, remembered);
        Ok(LeaseLists {
            lists: vec![open, past, looked_up],
            doubt,
        })
    }

    /// Keeps the zones `getMitsPropertyUnits` names (and its refusal) in a
    /// run-state store as well as in memory, so a restarted runner (a cron
    /// job) does not ask again within [`zone_cache_ttl`](Self::zone_cache_ttl).
    #[must_use]
    pub fn zone_store(
        mut self,
        store: Arc<dyn access_state::RunState>,
        namespace: impl Into<String>,
    ) -> Self {
        self.store = Some(ZoneStore(store, namespace.into()));
        self
    }

    /// A cached value from the store, if it is fresh enough.
    async fn stored(&self, key: &str, now: DateTime<Utc>) -> Option<serde_json::Value> {
        let ZoneStore(store, ns) = self.store.as_ref()?;
        match store.cache_get(ns, "entrata-zone", key).await {
            Ok(Some((v, at))) if at <= now && now - at < self.zone_cache_ttl => Some(v),
            Ok(_) => None,
            Err(e) => {
                warn!(error = %e, "could not read the zone cache");
                None
            }
        }
    }

    async fn store(&self, key: &str, value: serde_json::Value, now: DateTime<Utc>) {
        if let Some(ZoneStore(store, ns)) = &self.store
            && let Err(e) = store.cache_put(ns, "entrata-zone", key, &value, now).await
        {
            warn!(error = %e, "could not write the zone cache");
        }
    }

    /// Reads only these properties.
    #[must_use]
    pub fn properties(mut self, ids: impl IntoIterator<Item = u64>) -> Self {
        self.properties = Some(ids.into_iter().map(PropertyId).collect());
        self
    }

    /// Uses `zone` for a property instead of asking Entrata (which names
    /// zones in Windows style, e.g. "Eastern Standard Time (GMT -0500)",
    /// only through a web service many API users are not granted).
    #[must_use]
    pub fn zone(mut self, property: u64, zone: Tz) -> Self {
        self.zones.insert(PropertyId(property), zone);
        self
    }

    /// How many days back Past leases are read by move-out date (default
    /// 30; 0 reads no Past leases, and a move-out is then seen only as the
    /// resident's absence from the Current list).
    #[must_use]
    pub fn past_window_days(mut self, days: u32) -> Self {
        self.past_window_days = days.min(3650);
        self
    }

    /// How long a zone named by `getMitsPropertyUnits` (or its refusal) is
    /// kept before asking again (default 24 h, at most [`MAX_INTERVAL`]).
    #[must_use]
    pub fn zone_cache_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.zone_cache_ttl = clamped(ttl);
        self
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, ZoneCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The zone chain for one property: configured, then the cached or
    /// fresh `getMitsPropertyUnits`, then the address.
    async fn zone_of(
        &self,
        id: PropertyId,
        address: Option<&PropertyAddress>,
        now: DateTime<Utc>,
    ) -> Result<(Tz, ZoneSource), String> {
        if let Some(z) = self.zones.get(&id) {
            return Ok((*z, ZoneSource::Configured));
        }
        let state = address.and_then(|a| a.state.as_deref());
        let mits = ZoneSource::Service("getMitsPropertyUnits".into());
        let fresh = |at: DateTime<Utc>| now - at < self.zone_cache_ttl && at <= now;
        let (cached, refused) = {
            let c = self.cache();
            (
                c.zones
                    .get(&id)
                    .filter(|(_, at)| fresh(*at))
                    .map(|(z, _)| *z),
                c.refused
                    .as_ref()
                    .filter(|(_, at)| fresh(*at))
                    .map(|(why, _)| why.clone()),
            )
        };
        let mut tried = Vec::new();
        if let Some(z) = cached {
            return Ok((z, mits));
        }
        // The durable cache, for a runner that restarted since.
        if let Some(z) = self
            .stored(&id.to_string(), now)
            .await
            .and_then(|v| v.as_str().and_then(|s| s.parse::<Tz>().ok()))
        {
            self.cache().zones.insert(id, (z, now));
            return Ok((z, mits));
        }
        let refused = match refused {
            Some(why) => Some(why),
            None => self
                .stored("getMitsPropertyUnits-refused", now)
                .await
                .and_then(|v| v.as_str().map(str::to_owned)),
        };
        match refused {
            Some(why) => tried.push(format!("getMitsPropertyUnits refused earlier ({why})")),
            None => match self.client.property_time_zone(id).await {
                Ok(Some(z)) => {
                    let z = zone_in_state(z, state);
                    self.cache().zones.insert(id, (z, now));
                    self.store(&id.to_string(), z.name().into(), now).await;
                    return Ok((z, mits));
                }
                Ok(None) => tried.push("getMitsPropertyUnits names no zone we know".to_owned()),
                Err(e) => {
                    // a refusal of this service, not of the credentials
                    // (nor a breaker they opened), is kept for a day
                    let credentials = matches!(
                        e,
                        entrata_client::Error::Authentication { .. }
                            | entrata_client::Error::AuthBlocked { .. }
                    );
                    if !e.is_retryable() && !credentials {
                        // Not granted to this API user, most likely: do not
                        // ask again every run.
                        self.cache().refused = Some((e.to_string(), now));
                        self.store("getMitsPropertyUnits-refused", e.to_string().into(), now)
                            .await;
                    }
                    tried.push(format!("getMitsPropertyUnits: {e}"));
                }
            },
        }
        match address {
            Some(a) => match a.time_zone() {
                Some(z) => {
                    let place = [
                        a.state.as_deref().map(|s| format!("state {s}")),
                        a.city.as_deref().map(|c| format!("city {c}")),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                    return Ok((z, ZoneSource::Address(place)));
                }
                None => tried.push(format!(
                    "the address ({}, {}) does not decide a zone",
                    a.state.as_deref().unwrap_or("no state"),
                    a.city.as_deref().unwrap_or("no city")
                )),
            },
            None => tried.push("getProperties gave no address".to_owned()),
        }
        Err(format!(
            "no time zone: {}; configure one (EntrataSource::zone). Its leases are not read",
            tried.join("; ")
        ))
    }

    /// Future, Current and Notice leases, then Past ones within the window.
    fn requests(&self, id: PropertyId, now: DateTime<Utc>) -> Vec<LeasesRequest> {
        let mut out = vec![LeasesRequest::new(id).statuses([
            EntrataStatus::Future,
            EntrataStatus::Current,
            EntrataStatus::Notice,
        ])];
        if self.past_window_days > 0 {
            let from = (now - TimeDelta::days(i64::from(self.past_window_days))).date_naive();
            out.push(
                LeasesRequest::new(id)
                    .statuses([EntrataStatus::Past])
                    .move_out_between(Some(from), None),
            );
        }
        out
    }
}

/// A caller's interval as a `TimeDelta`, at most [`MAX_INTERVAL`] (a huge
/// one is clamped rather than replaced by the default).
fn clamped(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d.min(MAX_INTERVAL)).unwrap_or(TimeDelta::MAX)
}

/// The engine's lease (or resident) status for Entrata's: the six known
/// statuses, `Denied` (any case), and anything else kept as
/// [`LeaseStatus::Other`] (which grants nothing and is reported).
///
/// ```
/// use access_sync::entrata::lease_status;
/// assert_eq!(lease_status(&entrata_client::LeaseStatus::Notice), access_engine::LeaseStatus::Notice);
/// ```
pub fn lease_status(s: &entrata_client::LeaseStatus) -> LeaseStatus {
    use entrata_client::LeaseStatus as E;
    match s {
        E::Applicant => LeaseStatus::Applicant,
        E::Cancelled => LeaseStatus::Cancelled,
        E::Future => LeaseStatus::Future,
        E::Current => LeaseStatus::Current,
        E::Notice => LeaseStatus::Notice,
        E::Past => LeaseStatus::Past,
        other if other.as_str().eq_ignore_ascii_case("denied") => LeaseStatus::Denied,
        other => LeaseStatus::Other(other.as_str().to_owned()),
    }
}

/// The engine's customer type for an Entrata customer: its
/// `customerType`, or, when Entrata sends none, its relationship name kept
/// as [`CustomerType::Other`] (admitted only if the policy names it).
pub fn customer_type(c: &entrata_client::Customer) -> CustomerType {
    use entrata_client::CustomerType as E;
    match &c.customer_type {
        Some(E::Primary) => CustomerType::Primary,
        Some(E::CoApplicant) => CustomerType::CoApplicant,
        Some(E::Occupant) => CustomerType::Occupant,
        Some(E::Guarantor) => CustomerType::Guarantor,
        Some(other) => CustomerType::Other(other.as_str().to_owned()),
        None => CustomerType::Other(c.relationship_name.clone().unwrap_or_default()),
    }
}

/// The engine's fact for one resident of a lease (as [`lease_fact`] makes
/// it): id in decimal, type, own status, own move-in and move-out, and a
/// profile (first and last name, or the display name split at its last
/// space; e-mail and phone when Entrata has them).
///
/// ```
/// use entrata_client::GetLeases;
/// let page = GetLeases::decode(br#"{"response":{"code":200,"result":{"leases":{"lease":[
///   {"id":"1","leaseStatusTypeId":"4","customers":{"customer":[
///     {"id":5,"customerType":"Primary","firstName":"Ada","lastName":"Lovelace",
///      "emailAddress":"ada@example.com","moveInDate":"08/16/2024"}]}}]}}}}"#)?;
/// let resident = access_sync::entrata::customer_fact(&page.leases[0].customers[0]);
/// assert_eq!(resident.id, "5");
/// assert_eq!(resident.customer_type, access_engine::CustomerType::Primary);
/// assert_eq!(resident.profile.email.as_deref(), Some("ada@example.com"));
/// # Ok::<(), entrata_client::Error>(())
/// ```
pub fn customer_fact(c: &entrata_client::Customer) -> Customer {
    let (first, last) = match (&c.first_name, &c.last_name) {
        (Some(f), Some(l)) => (f.clone(), l.clone()),
        _ => crate::officernd::split_name(&c.display_name()),
    };
    let mut profile = Profile::new(first.trim(), last.trim());
    profile.email = c.email_address.clone().filter(|e| !e.trim().is_empty());
    profile.phone = c.phone().map(str::to_owned);
    let mut customer = Customer::new(c.id.to_string(), customer_type(c), profile)
        .with_move_in(c.move_in_date)
        .with_move_out(c.move_out_date);
    customer.status = c.lease_customer_status.as_ref().map(lease_status);
    customer
}

/// The engine's fact for one Entrata lease (as [`EntrataSource`] makes
/// it): ids in decimal, the lease's status and dates, and each resident
/// with their own status, move-in and move-out. `property` is used when the
/// lease does not name its own.
///
/// ```
/// use entrata_client::{GetLeases, PropertyId};
/// let page = GetLeases::decode(br#"{"response":{"code":200,"result":{"leases":{"lease":[
///   {"id":"1","leaseStatusTypeId":"4","moveInDate":"08/16/2024","customers":{"customer":[
///     {"id":5,"customerType":"Occupant","leaseCustomerStatus":"Cancelled"}]}}]}}}}"#)?;
/// let lease = access_sync::entrata::lease_fact(PropertyId(739084), &page.leases[0]);
/// assert_eq!(lease.property_id, "739084");
/// assert_eq!(lease.customers[0].status, Some(access_engine::LeaseStatus::Cancelled));
/// # Ok::<(), entrata_client::Error>(())
/// ```
pub fn lease_fact(property: PropertyId, l: &entrata_client::Lease) -> Lease {
    let mut lease = Lease::new(
        l.id.to_string(),
        l.property_id.unwrap_or(property).to_string(),
        lease_status(&l.status()),
    )
    .with_move_in(l.move_in_date)
    .with_move_out(l.move_out_date);
    lease.building_id = l.building_id.map(|b| b.to_string());
    lease.unit_id = l.unit_id.map(|u| u.to_string());
    lease.customers = l.customers.iter().map(customer_fact).collect();
    lease
}

/// The engine's fact for one Entrata property read in `zone` (as
/// [`EntrataSource`] makes it: the id in decimal, which is the key of
/// [`Mappings::properties`](access_engine::Mappings::properties), and
/// where the zone came from, for the plan's scope report).
///
/// ```
/// use access_engine::ZoneSource;
/// let p = access_sync::entrata::property_fact(
///     entrata_client::PropertyId(100), chrono_tz::America::New_York, ZoneSource::Configured);
/// assert_eq!((p.id.as_str(), p.zone.as_str()), ("100", "America/New_York"));
/// ```
pub fn property_fact(id: PropertyId, zone: Tz, source: ZoneSource) -> Property {
    Property::new(id.to_string(), zone.name()).with_zone_source(source)
}

/// What one property yielded.
struct PropertyRead {
    id: PropertyId,
    zone: Result<(Tz, ZoneSource), String>,
    leases: Result<LeaseLists, entrata_client::Error>,
}

/// A property's lease listings, and why they may be incomplete.
struct LeaseLists {
    lists: Vec<Leases>,
    doubt: Option<String>,
}

#[async_trait]
impl FactSource for EntrataSource {
    fn name(&self) -> &str {
        "entrata"
    }

    fn scope(&self) -> Scope {
        Scope::Source(Source::Entrata)
    }

    /// Forgets the property list, the Past leases and the open lease ids
    /// (the zones stay: they have their own TTL).
    fn invalidate(&self) {
        *self.reads() = ReadCache::default();
    }

    async fn fetch(&self, now: DateTime<Utc>) -> Result<SourceBatch, SourceError> {
        let c = &self.client;
        let before = c.call_stats().calls;
        let mut batch = SourceBatch::default();
        let mut request = PropertiesRequest::new();
        if let Some(ids) = &self.properties {
            request = request.property_ids(ids.iter().copied());
        }
        let listed = match self.properties_listed(&request, now).await {
            Ok(props) => Some(props),
            // A chosen list can still be read without the listing (its
            // zones then come from the configuration or getMitsPropertyUnits).
            Err(e) if self.properties.is_some() => {
                warn!(error = %e, "getProperties failed; reading the chosen properties anyway");
                batch.notes.push(e.to_string());
                batch.errors.push(SourceError::from_error("entrata", e));
                None
            }
            Err(e) => return Err(SourceError::from_error("entrata", e)),
        };
        let mut addresses: BTreeMap<PropertyId, PropertyAddress> = BTreeMap::new();
        let ids: Vec<PropertyId> = match (&listed, &self.properties) {
            (Some(props), chosen) => {
                if !props.skipped.is_empty() {
                    // An unreadable property may own residents: hold every Entrata revocation.
                    batch.mark_incomplete(
                        Scope::Source(Source::Entrata),
                        format!(
                            "{} property record(s) of getProperties could not be read",
                            props.skipped.len()
                        ),
                    );
                }
                for p in &props.properties {
                    if let Some(a) = &p.address {
                        addresses.insert(p.id, a.clone());
                    }
                }
                let seen: BTreeSet<PropertyId> = props.properties.iter().map(|p| p.id).collect();
                if let Some(chosen) = chosen {
                    for id in chosen.iter().filter(|id| !seen.contains(id)) {
                        batch.notes.push(format!(
                            "property {id} is not listed by getProperties (a permission change?); left out"
                        ));
                    }
                }
                seen.into_iter()
                    .filter(|id| chosen.as_ref().is_none_or(|c| c.contains(id)))
                    .collect()
            }
            (None, Some(chosen)) => chosen.clone(),
            (None, None) => Vec::new(),
        };
        let addresses = &addresses;
        let reads = ids.iter().map(|&id| async move {
            let zone = self.zone_of(id, addresses.get(&id), now).await;
            if zone.is_err() {
                return PropertyRead {
                    id,
                    zone,
                    leases: Ok(LeaseLists {
                        lists: Vec::new(),
                        doubt: None,
                    }),
                };
            }
            PropertyRead {
                id,
                zone,
                leases: self.property_leases(id, now).await,
            }
        });
        for r in join_all(reads).await {
            let scope = Scope::Property(r.id.to_string());
            let (zone, source) = match r.zone {
                Ok(z) => z,
                Err(why) => {
                    warn!(property = %r.id, "{why}");
                    batch.mark_incomplete(scope, why);
                    continue;
                }
            };
            let lists = match r.leases {
                Ok(LeaseLists { lists, doubt }) => {
                    if let Some(why) = doubt {
                        warn!(property = %r.id, "{why}");
                        batch.mark_incomplete(scope.clone(), why);
                    }
                    lists
                }
                Err(e) => {
                    warn!(property = %r.id, error = %e, "getLeases failed; its revocations are held");
                    batch.part_failed(scope, SourceError::from_error("entrata", e));
                    continue;
                }
            };
            debug!(property = %r.id, %zone, %source, "property read");
            batch
                .facts
                .properties
                .push(property_fact(r.id, zone, source));
            let mut seen = BTreeSet::new();
            for list in lists {
                for s in &list.skipped {
                    let what = format!("{} {:?} skipped at {}: {}", s.kind, s.id, s.path, s.reason);
                    if s.parent.is_some() {
                        // A resident whose record is unreadable cannot be
                        // told apart from anyone: reported, nothing held.
                        batch.notes.push(format!(
                            "{scope}: {what} (in {})",
                            s.parent.as_deref().unwrap_or("")
                        ));
                    } else {
                        // A lease we could not read may be anyone's: hold the property.
                        batch.mark_incomplete(scope.clone(), what);
                    }
                }
                for l in &list.leases {
                    // A lease that changed status between the two calls is read once.
                    if seen.insert(l.id) {
                        batch.facts.leases.push(lease_fact(r.id, l));
                    }
                }
            }
        }
        batch.calls = c.call_stats().calls.saturating_sub(before);
        Ok(batch)
    }
}
