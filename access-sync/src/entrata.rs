//! The Entrata adapter: a [`FactSource`] over [`entrata_client::Client`],
//! turning leases and their customers into engine facts, each property with
//! its IANA time zone.

use std::collections::BTreeMap;

use access_engine::{Customer, CustomerType, Lease, LeaseStatus, Profile, Property, Scope, Source};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entrata_client::{Client, LeasesRequest, PropertiesRequest, PropertyId, zone_in_state};
use futures::future::join_all;
use tracing::warn;

use crate::sources::{FactSource, SourceBatch, SourceError};

/// Reads Entrata: the properties (every one the credentials see, or a chosen
/// list), each property's time zone (`getMitsPropertyUnits`, corrected for
/// Arizona by the listed property's state, unless given with
/// [`EntrataSource::zone`]: do so for Arizona properties of a chosen list),
/// and every lease of each property
/// (`getLeases`, all pages) with its customers.
///
/// Failure is per property: a property whose leases or zone cannot be read,
/// or whose listing skipped a record, is marked incomplete
/// ([`Scope::Property`]), so the engine holds every revocation it feeds;
/// the other properties go on. Only a failure to list the properties fails
/// the whole source.
///
/// Mapping keys: property ids, building ids and unit ids as Entrata's
/// numbers in decimal (`"100"`, `"101"`).
#[derive(Debug, Clone)]
pub struct EntrataSource {
    client: Client,
    properties: Option<Vec<PropertyId>>,
    zones: BTreeMap<PropertyId, Tz>,
}

impl EntrataSource {
    /// A source reading every property the credentials can see.
    pub fn new(client: Client) -> Self {
        EntrataSource {
            client,
            properties: None,
            zones: BTreeMap::new(),
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
    /// and sometimes not at all).
    #[must_use]
    pub fn zone(mut self, property: u64, zone: Tz) -> Self {
        self.zones.insert(PropertyId(property), zone);
        self
    }
}

fn status(s: &entrata_client::LeaseStatus) -> LeaseStatus {
    use entrata_client::LeaseStatus as E;
    match s {
        E::Applicant => LeaseStatus::Applicant,
        E::Cancelled => LeaseStatus::Cancelled,
        E::Future => LeaseStatus::Future,
        E::Current => LeaseStatus::Current,
        E::Notice => LeaseStatus::Notice,
        E::Past => LeaseStatus::Past,
        other => LeaseStatus::Other(other.as_str().to_owned()),
    }
}

fn customer_type(c: &entrata_client::Customer) -> CustomerType {
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

fn customer(c: &entrata_client::Customer) -> Customer {
    let (first, last) = match (&c.first_name, &c.last_name) {
        (Some(f), Some(l)) => (f.clone(), l.clone()),
        _ => crate::officernd::split_name(&c.display_name()),
    };
    let mut profile = Profile::new(first.trim(), last.trim());
    profile.email = c.email_address.clone().filter(|e| !e.trim().is_empty());
    profile.phone = c.phone().map(str::to_owned);
    Customer::new(c.id.to_string(), customer_type(c), profile).with_move_out(c.move_out_date)
}

fn lease(property: PropertyId, l: &entrata_client::Lease) -> Lease {
    let mut lease = Lease::new(
        l.id.to_string(),
        l.property_id.unwrap_or(property).to_string(),
        status(&l.status()),
    )
    .with_move_in(l.move_in_date)
    .with_move_out(l.move_out_date);
    lease.building_id = l.building_id.map(|b| b.to_string());
    lease.unit_id = l.unit_id.map(|u| u.to_string());
    lease.customers = l.customers.iter().map(customer).collect();
    lease
}

/// What one property yielded.
struct PropertyRead {
    id: PropertyId,
    zone: Result<Option<Tz>, String>,
    leases: Result<entrata_client::Leases, String>,
}

#[async_trait]
impl FactSource for EntrataSource {
    fn name(&self) -> &str {
        "entrata"
    }

    fn scope(&self) -> Scope {
        Scope::Source(Source::Entrata)
    }

    async fn fetch(&self, _now: DateTime<Utc>) -> Result<SourceBatch, SourceError> {
        let c = &self.client;
        let before = c.call_stats().calls;
        let mut batch = SourceBatch::default();
        // Each listed property's state: Entrata's "Mountain" is Denver or,
        // in Arizona, Phoenix (see `entrata_client::zone_in_state`).
        let mut states: BTreeMap<PropertyId, String> = BTreeMap::new();
        let ids: Vec<PropertyId> = match &self.properties {
            Some(ids) => ids.clone(),
            None => {
                let props = c
                    .get_properties(&PropertiesRequest::new())
                    .await
                    .map_err(|e| SourceError::new("entrata", e))?;
                if !props.skipped.is_empty() {
                    // An unreadable property may own residents: hold every Entrata revocation.
                    batch.mark_incomplete(
                        Scope::Source(Source::Entrata),
                        format!(
                            "{} property record(s) could not be read",
                            props.skipped.len()
                        ),
                    );
                }
                for p in &props.properties {
                    if let Some(state) = p.address.as_ref().and_then(|a| a.state.clone()) {
                        states.insert(p.id, state);
                    }
                }
                props.properties.iter().map(|p| p.id).collect()
            }
        };
        let states = &states;
        let reads = ids.iter().map(|&id| async move {
            let zone = match self.zones.get(&id) {
                Some(z) => Ok(Some(*z)),
                None => c
                    .property_time_zone(id)
                    .await
                    .map(|z| z.map(|z| zone_in_state(z, states.get(&id).map(String::as_str))))
                    .map_err(|e| e.to_string()),
            };
            let leases = c
                .all_leases(&LeasesRequest::new(id))
                .await
                .map_err(|e| e.to_string());
            PropertyRead { id, zone, leases }
        });
        for r in join_all(reads).await {
            let scope = Scope::Property(r.id.to_string());
            let zone = match r.zone {
                Ok(Some(z)) => z,
                Ok(None) => {
                    batch.mark_incomplete(
                        scope,
                        "Entrata names no time zone we know; configure one. Its leases are skipped",
                    );
                    continue;
                }
                Err(e) => {
                    batch.mark_incomplete(scope, format!("time zone: {e}"));
                    continue;
                }
            };
            let leases = match r.leases {
                Ok(l) => l,
                Err(e) => {
                    warn!(property = %r.id, error = %e, "getLeases failed; its revocations are held");
                    batch.mark_incomplete(scope, format!("getLeases: {e}"));
                    continue;
                }
            };
            for s in &leases.skipped {
                batch.mark_incomplete(
                    scope.clone(),
                    format!("{} {:?} skipped at {}: {}", s.kind, s.id, s.path, s.reason),
                );
            }
            batch
                .facts
                .properties
                .push(Property::new(r.id.to_string(), zone.name()));
            batch
                .facts
                .leases
                .extend(leases.leases.iter().map(|l| lease(r.id, l)));
        }
        batch.calls = c.call_stats().calls.saturating_sub(before);
        Ok(batch)
    }
}
