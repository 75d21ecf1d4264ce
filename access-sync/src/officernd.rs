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

fn status(s: Option<&MembershipCalculatedStatus>) -> MembershipStatus {
    match s {
        Some(MembershipCalculatedStatus::Active) => MembershipStatus::Active,
        Some(MembershipCalculatedStatus::NotStarted) => MembershipStatus::NotStarted,
        Some(MembershipCalculatedStatus::Expired) => MembershipStatus::Expired,
        Some(MembershipCalculatedStatus::NotApproved) => MembershipStatus::NotApproved,
        Some(other) => MembershipStatus::Other(other.as_str().to_owned()),
        None => MembershipStatus::Other(String::new()),
    }
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
            match &l.timezone {
                Some(tz) => b
                    .out
                    .facts
                    .locations
                    .push(Location::new(l.id.to_string(), tz.name())),
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
        for m in &members.items {
            let (first, last) = split_name(m.name.as_deref().unwrap_or_default());
            let mut profile = Profile::new(first, last);
            profile.email = m.email.clone().filter(|e| !e.trim().is_empty());
            profile.phone = m.phone.clone().filter(|p| !p.trim().is_empty());
            let mut member = Member::new(m.id.to_string(), profile);
            member.company_id = m.company.as_ref().map(ToString::to_string);
            b.out.facts.members.push(member);
        }

        let memberships = c
            .list_memberships(MembershipsQuery::new())
            .collect_all()
            .await
            .map_err(err)?;
        b.skipped("membership", None, &memberships.skipped);
        let mut membership_location: BTreeMap<String, String> = BTreeMap::new();
        for m in &memberships.items {
            let (Some(plan), Some(location)) = (&m.plan, &m.location) else {
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
            membership_location.insert(m.id.to_string(), location.to_string());
            let mut membership = Membership::new(
                m.id.to_string(),
                plan.to_string(),
                location.to_string(),
                status(m.calculated_status.as_ref()),
            )
            .with_start(m.start_date)
            .with_end(m.end_date);
            membership.company_id = m.company.as_ref().map(ToString::to_string);
            membership.member_id = m.member.as_ref().map(ToString::to_string);
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
                let mut assignment = Assignment::new(
                    a.id.to_string(),
                    a.membership.to_string(),
                    a.resource.to_string(),
                    location,
                );
                assignment.floor_id = r.floor.as_ref().map(ToString::to_string);
                b.out.facts.assignments.push(assignment);
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
            let holder = match p.owner() {
                PassOwner::Member(m) => PassHolder::Member(m.to_string()),
                PassOwner::Company(co) => PassHolder::Company(co.to_string()),
                _ => {
                    b.out.mark_incomplete(
                        scope,
                        format!("day pass {} has no holder; skipped", p.id),
                    );
                    continue;
                }
            };
            let (Some(location), Some(from)) = (location, p.valid_from.or(p.start_date)) else {
                b.out.mark_incomplete(
                    scope,
                    format!("day pass {} has no location or start date; skipped", p.id),
                );
                continue;
            };
            let to = p
                .valid_to
                .or(p.end_date)
                .unwrap_or(from + chrono::Days::new(365));
            let count = |x: Option<f64>| x.unwrap_or(0.0).max(0.0).min(f64::from(u32::MAX)) as u32;
            b.out.facts.day_passes.push(
                DayPassSet::new(p.id.to_string(), holder, location, from, to, count(p.count))
                    .with_used(count(p.used_count)),
            );
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
