//! The OfficeRnD Flex adapter: a [`FactSource`] over
//! [`officernd_client::Client`], turning its models into engine facts.

use std::collections::{BTreeMap, BTreeSet};

use access_engine::{
    Assignment, Booking, DayPassSet, Location, Member, Membership, MembershipStatus, PassHolder,
    Profile, Scope, Source, Visitor,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use officernd_client::models::{self as ornd, MembershipCalculatedStatus, PassOwner};
use officernd_client::query::{
    AssignmentsQuery, BookingsQuery, LocationsQuery, MembersQuery, MembershipsQuery, PassesQuery,
    ResourcesQuery, VisitorsQuery,
};
use officernd_client::{Client, SkippedRecord};

use crate::sources::{FactSource, SourceBatch, SourceError};

/// How far around `now` bookings are read and expanded: a past day (for
/// the lag of a booking that just ended) and the coming `horizon`. A booking
/// beyond the horizon is picked up by a later run, well before it starts.
const BOOKING_LOOKBACK: Duration = Duration::days(1);

/// Reads an OfficeRnD organization: locations (with their zones), members,
/// memberships, desk and office assignments (fanned out per assignable
/// resource: OfficeRnD has no bulk list), booking occurrences around `now`
/// (recurring series expanded in their own zone), visitors of those
/// bookings, and day-pass sets.
///
/// A record the client could not read marks its location incomplete (or
/// the whole source, when its location is unknown), so the engine holds
/// revocations that might depend on it. A day-pass set with no location
/// takes its member's home location (or the one its company's members
/// share, or the organization's only location). A set without an end date
/// is treated as valid for a year from its start (the engine needs a last
/// day); a set without a start date is skipped.
#[derive(Debug, Clone)]
pub struct OfficeRndSource {
    client: Client,
    horizon: Duration,
}

impl OfficeRndSource {
    /// A source over this client, reading bookings 35 days ahead.
    pub fn new(client: Client) -> Self {
        OfficeRndSource {
            client,
            horizon: Duration::days(35),
        }
    }

    /// How far ahead bookings are read (default 35 days).
    #[must_use]
    pub fn booking_horizon(mut self, horizon: Duration) -> Self {
        self.horizon = horizon;
        self
    }
}

fn err(e: officernd_client::Error) -> SourceError {
    SourceError::from_error("officernd", e)
}

/// Splits "First Last" (or "Prince") into a first and last name.
pub(crate) fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.rsplit_once(' ') {
        Some((first, last)) => (first.trim().to_owned(), last.to_owned()),
        None => (name.to_owned(), String::new()),
    }
}

/// The engine's membership status for OfficeRnD's computed status
/// (`calculatedStatus`, the one to use for access); an unknown or missing
/// one is kept as [`MembershipStatus::Other`] (held and reported).
///
/// ```
/// use officernd_client::models::MembershipCalculatedStatus;
/// use access_sync::officernd::membership_status;
/// assert_eq!(membership_status(Some(&MembershipCalculatedStatus::Active)),
///     access_engine::MembershipStatus::Active);
/// ```
pub fn membership_status(s: Option<&MembershipCalculatedStatus>) -> MembershipStatus {
    match s {
        Some(MembershipCalculatedStatus::Active) => MembershipStatus::Active,
        Some(MembershipCalculatedStatus::NotStarted) => MembershipStatus::NotStarted,
        Some(MembershipCalculatedStatus::Expired) => MembershipStatus::Expired,
        Some(MembershipCalculatedStatus::NotApproved) => MembershipStatus::NotApproved,
        Some(other) => MembershipStatus::Other(other.as_str().to_owned()),
        None => MembershipStatus::Other(String::new()),
    }
}

/// The engine's fact for an OfficeRnD location, in its IANA zone; `None`
/// for a location without one (its facts cannot be placed in time:
/// [`OfficeRndSource`] marks it incomplete).
///
/// ```
/// let l: officernd_client::models::Location = serde_json::from_str(
///     r#"{"_id": "loc1", "name": "Denver", "timezone": "America/Denver"}"#).unwrap();
/// let fact = access_sync::officernd::location_fact(&l).unwrap();
/// assert_eq!((fact.id.as_str(), fact.zone.as_str()), ("loc1", "America/Denver"));
/// ```
pub fn location_fact(l: &ornd::Location) -> Option<Location> {
    l.timezone
        .map(|tz| Location::new(l.id.to_string(), tz.name()))
}

/// The engine's fact for an OfficeRnD member: its id (the key of its
/// external id, `{prefix}:officernd:{id}`), its company, and a profile
/// (the name split at its last space; e-mail and phone when set).
///
/// ```
/// let m: officernd_client::models::Member = serde_json::from_str(
///     r#"{"_id": "m1", "name": "Maya Lopez", "email": "maya@example.com", "company": "c1"}"#).unwrap();
/// let fact = access_sync::officernd::member_fact(&m);
/// assert_eq!((fact.profile.first_name.as_str(), fact.profile.last_name.as_str()), ("Maya", "Lopez"));
/// assert_eq!(fact.company_id.as_deref(), Some("c1"));
/// ```
pub fn member_fact(m: &ornd::Member) -> Member {
    let (first, last) = split_name(m.name.as_deref().unwrap_or_default());
    let mut profile = Profile::new(first, last);
    profile.email = m.email.clone().filter(|e| !e.trim().is_empty());
    profile.phone = m.phone.clone().filter(|p| !p.trim().is_empty());
    let mut member = Member::new(m.id.to_string(), profile);
    member.company_id = m.company.as_ref().map(ToString::to_string);
    member
}

/// The engine's fact for an OfficeRnD membership: plan, location, computed
/// status, local start and inclusive end dates, member and company.
/// `None` for a membership that names no plan or no location (it cannot be
/// mapped: [`OfficeRndSource`] marks its scope incomplete).
///
/// ```
/// let m: officernd_client::models::Membership = serde_json::from_str(r#"{
///     "_id": "ms1", "plan": "p1", "location": "loc1", "member": "m1",
///     "calculatedStatus": "active", "startDate": "2026-03-01", "endDate": "2026-03-31"
/// }"#).unwrap();
/// let fact = access_sync::officernd::membership_fact(&m).unwrap();
/// assert_eq!((fact.plan_id.as_str(), fact.location_id.as_str()), ("p1", "loc1"));
/// assert_eq!(fact.member_id.as_deref(), Some("m1"));
/// assert_eq!(fact.status, access_engine::MembershipStatus::Active);
/// ```
pub fn membership_fact(m: &ornd::Membership) -> Option<Membership> {
    let (plan, location) = (m.plan.as_ref()?, m.location.as_ref()?);
    let mut membership = Membership::new(
        m.id.to_string(),
        plan.to_string(),
        location.to_string(),
        membership_status(m.calculated_status.as_ref()),
    )
    .with_start(m.start_date)
    .with_end(m.end_date);
    membership.company_id = m.company.as_ref().map(ToString::to_string);
    membership.member_id = m.member.as_ref().map(ToString::to_string);
    Some(membership)
}

/// The engine's fact for an assignment of a membership to a desk or office
/// in `location`, on `floor` if the resource has one (OfficeRnD's
/// assignment names neither: they come from its resource, or from its
/// membership).
///
/// ```
/// let a: officernd_client::models::Assignment = serde_json::from_str(
///     r#"{"_id": "as1", "resource": "desk7", "membership": "ms1"}"#).unwrap();
/// let fact = access_sync::officernd::assignment_fact(&a, "loc1", Some("floor2"));
/// assert_eq!((fact.resource_id.as_str(), fact.membership_id.as_str()), ("desk7", "ms1"));
/// assert_eq!(fact.floor_id.as_deref(), Some("floor2"));
/// ```
pub fn assignment_fact(a: &ornd::Assignment, location: &str, floor: Option<&str>) -> Assignment {
    let mut assignment = Assignment::new(
        a.id.to_string(),
        a.membership.to_string(),
        a.resource.to_string(),
        location,
    );
    assignment.floor_id = floor.map(str::to_owned);
    assignment
}

/// The engine's fact for one booking occurrence in `location`: its id is
/// the booking's and the occurrence's start (`{booking}@{start}`), so each
/// occurrence of a recurring booking is its own fact; the booker, the
/// teammates and the visitors, each visitor's name and e-mail taken from
/// `visitors` (by visitor id) when it is there.
pub fn booking_fact(
    o: &ornd::BookingOccurrence,
    location: &str,
    visitors: &BTreeMap<String, ornd::Visitor>,
) -> Booking {
    let mut booking = Booking::new(
        format!("{}@{}", o.booking, o.start.format("%Y-%m-%dT%H:%MZ")),
        o.resource.to_string(),
        location,
        o.start,
        o.end,
    )
    .with_cancelled(o.is_cancelled);
    booking.booker_id = o.member.as_ref().map(ToString::to_string);
    booking.member_ids = o.members.iter().map(ToString::to_string).collect();
    booking.visitors = o
        .visitors
        .iter()
        .map(|id| {
            let v = visitors.get(id.as_str());
            let mut visitor = Visitor::new(
                id.to_string(),
                v.and_then(|v| v.name.clone()).unwrap_or_default(),
            );
            visitor.email = v.and_then(|v| v.email.clone());
            visitor
        })
        .collect();
    booking
}

/// The engine's fact for a set of day passes valid at `location`: its
/// holder (a member, or every member of a company for a shared set), its
/// valid local days (`validFrom`/`validTo`, else the period's
/// `startDate`/`endDate`; with no end, a year from the start, since the
/// engine needs a last day), and how many passes are granted and used.
/// `None` for a set with no holder or no start date.
///
/// ```
/// let p: officernd_client::models::Pass = serde_json::from_str(r#"{
///     "_id": "pass1", "member": "m1", "isPersonal": true, "count": 5, "usedCount": 2,
///     "validFrom": "2026-03-01", "validTo": "2026-03-31"
/// }"#).unwrap();
/// let fact = access_sync::officernd::day_pass_fact(&p, "loc1").unwrap();
/// assert_eq!(fact.holder, access_engine::PassHolder::Member("m1".into()));
/// assert_eq!((fact.count, fact.used), (5, 2));
/// ```
pub fn day_pass_fact(p: &ornd::Pass, location: &str) -> Option<DayPassSet> {
    let holder = match p.owner() {
        PassOwner::Member(m) => PassHolder::Member(m.to_string()),
        PassOwner::Company(co) => PassHolder::Company(co.to_string()),
        _ => return None,
    };
    let from = p.valid_from.or(p.start_date)?;
    let to = p
        .valid_to
        .or(p.end_date)
        .unwrap_or(from + chrono::Days::new(365));
    let count = |x: Option<f64>| x.unwrap_or(0.0).max(0.0).min(f64::from(u32::MAX)) as u32;
    Some(
        DayPassSet::new(p.id.to_string(), holder, location, from, to, count(p.count))
            .with_used(count(p.used_count)),
    )
}

struct Batch {
    out: SourceBatch,
}

impl Batch {
    fn skipped(&mut self, what: &str, location: Option<&str>, records: &[SkippedRecord]) {
        for r in records {
            let scope = match location {
                Some(l) => Scope::Location(l.to_owned()),
                None => Scope::Source(Source::OfficeRnd),
            };
            self.out
                .mark_incomplete(scope, format!("{what} {:?} skipped: {}", r.id, r.reason));
        }
    }
}

#[async_trait]
impl FactSource for OfficeRndSource {
    fn name(&self) -> &str {
        "officernd"
    }

    fn scope(&self) -> Scope {
        Scope::Source(Source::OfficeRnd)
    }

    async fn fetch(&self, now: DateTime<Utc>) -> Result<SourceBatch, SourceError> {
        let c = &self.client;
        let calls_before = c.call_stats().calls;
        let mut b = Batch {
            out: SourceBatch::default(),
        };

        let locations = c
            .list_locations(LocationsQuery::new())
            .collect_all()
            .await
            .map_err(err)?;
        b.skipped("location", None, &locations.skipped);
        for l in &locations.items {
            match location_fact(l) {
                Some(location) => b.out.facts.locations.push(location),
                None => b.out.mark_incomplete(
                    Scope::Location(l.id.to_string()),
                    "the location has no time zone; its facts are skipped",
                ),
            }
        }

        let members = c
            .list_members(MembersQuery::new())
            .collect_all()
            .await
            .map_err(err)?;
        b.skipped("member", None, &members.skipped);
        b.out
            .facts
            .members
            .extend(members.items.iter().map(member_fact));

        let memberships = c
            .list_memberships(MembershipsQuery::new())
            .collect_all()
            .await
            .map_err(err)?;
        b.skipped("membership", None, &memberships.skipped);
        let mut membership_location: BTreeMap<String, String> = BTreeMap::new();
        for m in &memberships.items {
            let Some(membership) = membership_fact(m) else {
                let scope = m
                    .location
                    .as_ref()
                    .map_or(Scope::Source(Source::OfficeRnd), |l| {
                        Scope::Location(l.to_string())
                    });
                b.out.mark_incomplete(
                    scope,
                    format!("membership {} has no plan or no location; skipped", m.id),
                );
                continue;
            };
            membership_location.insert(membership.id.clone(), membership.location_id.clone());
            b.out.facts.memberships.push(membership);
        }

        // Assignments: one listing per assignable resource.
        let types = c.list_resource_types().collect_all().await.map_err(err)?;
        let resources = c
            .list_resources(ResourcesQuery::new())
            .collect_all()
            .await
            .map_err(err)?;
        b.skipped("resource", None, &resources.skipped);
        let resource_of: BTreeMap<String, &ornd::Resource> = resources
            .items
            .iter()
            .map(|r| (r.id.to_string(), r))
            .collect();
        for r in resources
            .items
            .iter()
            .filter(|r| r.capabilities(&types.items).assignable)
        {
            let listing = c
                .list_assignments(AssignmentsQuery::new().resource(r.id.clone()))
                .collect_all()
                .await
                .map_err(err)?;
            let loc = r.location.as_ref().map(ToString::to_string);
            b.skipped("assignment", loc.as_deref(), &listing.skipped);
            for a in &listing.items {
                let Some(location) = loc
                    .clone()
                    .or_else(|| membership_location.get(a.membership.as_str()).cloned())
                else {
                    b.out.mark_incomplete(
                        Scope::Source(Source::OfficeRnd),
                        format!("assignment {} has no location; skipped", a.id),
                    );
                    continue;
                };
                let floor = r.floor.as_ref().map(ToString::to_string);
                b.out
                    .facts
                    .assignments
                    .push(assignment_fact(a, &location, floor.as_deref()));
            }
        }

        // Bookings around now, expanded occurrence by occurrence.
        let occurrences = c
            .booking_occurrences(
                now - BOOKING_LOOKBACK,
                now + self.horizon,
                BookingsQuery::new(),
            )
            .await
            .map_err(err)?;
        b.skipped("booking", None, &occurrences.skipped);
        let mut visitor_ids: BTreeSet<String> = BTreeSet::new();
        for o in &occurrences.occurrences {
            visitor_ids.extend(o.visitors.iter().map(ToString::to_string));
        }
        let visitors: BTreeMap<String, ornd::Visitor> = if visitor_ids.is_empty() {
            BTreeMap::new()
        } else {
            let listing = c
                .list_visitors(VisitorsQuery::new())
                .collect_all()
                .await
                .map_err(err)?;
            b.skipped("visitor", None, &listing.skipped);
            listing
                .items
                .into_iter()
                .map(|v| (v.id.to_string(), v))
                .collect()
        };
        for o in &occurrences.occurrences {
            let location = o.location.as_ref().map(ToString::to_string).or_else(|| {
                resource_of
                    .get(o.resource.as_str())
                    .and_then(|r| r.location.as_ref().map(ToString::to_string))
            });
            let Some(location) = location else {
                b.out.mark_incomplete(
                    Scope::Source(Source::OfficeRnd),
                    format!("booking {} has no location; skipped", o.booking),
                );
                continue;
            };
            let booking = booking_fact(o, &location, &visitors);
            b.out.facts.bookings.push(booking);
        }

        let passes = c
            .list_passes(PassesQuery::new())
            .collect_all()
            .await
            .map_err(err)?;
        b.skipped("day pass", None, &passes.skipped);
        // A pass names its location rarely: fall back to its member's home
        // location, to the home location its company's members share, or to
        // the organization's only location.
        let member_location: BTreeMap<String, String> = members
            .items
            .iter()
            .filter_map(|m| Some((m.id.to_string(), m.location.as_ref()?.to_string())))
            .collect();
        let company_location = |company: &str| -> Option<String> {
            let homes: BTreeSet<&String> = members
                .items
                .iter()
                .filter(|m| m.company.as_ref().is_some_and(|c| c.as_str() == company))
                .filter_map(|m| member_location.get(m.id.as_str()))
                .collect();
            (homes.len() == 1)
                .then(|| homes.into_iter().next().cloned())
                .flatten()
        };
        let only_location =
            (b.out.facts.locations.len() == 1).then(|| b.out.facts.locations[0].id.clone());
        for p in &passes.items {
            let location = p
                .location
                .as_ref()
                .map(ToString::to_string)
                .or_else(|| match p.owner() {
                    PassOwner::Member(m) => member_location.get(m.as_str()).cloned(),
                    PassOwner::Company(c) => company_location(c.as_str()),
                    _ => None,
                })
                .or_else(|| only_location.clone());
            let scope = location
                .clone()
                .map_or(Scope::Source(Source::OfficeRnd), Scope::Location);
            let problem = if !matches!(p.owner(), PassOwner::Member(_) | PassOwner::Company(_)) {
                "has no holder"
            } else if location.is_none() {
                "has no location"
            } else {
                "has no start date"
            };
            match location.and_then(|l| day_pass_fact(p, &l)) {
                Some(set) => b.out.facts.day_passes.push(set),
                None => b
                    .out
                    .mark_incomplete(scope, format!("day pass {} {problem}; skipped", p.id)),
            }
        }

        b.out.calls = c.call_stats().calls.saturating_sub(calls_before);
        Ok(b.out)
    }
}

#[cfg(test)]
mod tests {
    use super::split_name;

    #[test]
    fn names_split_on_the_last_space() {
        assert_eq!(split_name("Maya Lopez"), ("Maya".into(), "Lopez".into()));
        assert_eq!(
            split_name(" Ana María  de Souza "),
            ("Ana María  de".into(), "Souza".into())
        );
        assert_eq!(split_name("Prince"), ("Prince".into(), String::new()));
    }
}
