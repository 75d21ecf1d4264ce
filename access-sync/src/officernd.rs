//! The OfficeRnD Flex adapter: a [`FactSource`] over
//! [`officernd_client::Client`], turning its models into engine facts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

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

use crate::clock::add_saturating;
use crate::sources::{FactSource, SourceBatch, SourceError};

/// How far around `now` bookings are read and expanded: a past day (for
/// the lag of a booking that just ended) and the coming `horizon`. A booking
/// beyond the horizon is picked up by a later run, well before it starts.
const BOOKING_LOOKBACK: Duration = Duration::days(1);

/// The longest booking horizon [`OfficeRndSource::booking_horizon`] keeps:
/// ten years.
pub const MAX_BOOKING_HORIZON: Duration = Duration::days(3650);

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
///
/// A read costs about one call per 50 records plus one per assignable
/// resource (OfficeRnD lists assignments per resource): hundreds of calls
/// for a large organization. After a webhook
/// ([`FactSource::changed`], e.g. through
/// [`Syncer::changes_for`](crate::Syncer::changes_for)) the next read
/// fetches only the records it named, by id, and puts them into the last
/// full read, as long as that read is younger than
/// [`targeted_within`](Self::targeted_within) (default 15 minutes, the
/// default polling interval) and the change is one it can read that way.
/// A record that cannot be read by id (gone, or a failed call), a booking
/// that does not expand, or more than 100 records at once make it read
/// everything instead.
#[derive(Debug, Clone)]
pub struct OfficeRndSource {
    client: Client,
    horizon: Duration,
    targeted_within: Duration,
    kept: Arc<Kept>,
}

/// More announced records than this are read faster by listing everything.
const MAX_TARGETED: usize = 100;

impl OfficeRndSource {
    /// A source over this client, reading bookings 35 days ahead.
    pub fn new(client: Client) -> Self {
        OfficeRndSource {
            client,
            horizon: Duration::days(35),
            targeted_within: Duration::minutes(15),
            kept: Arc::default(),
        }
    }

    /// How far ahead bookings are read (default 35 days; at most
    /// [`MAX_BOOKING_HORIZON`], at least none).
    #[must_use]
    pub fn booking_horizon(mut self, horizon: Duration) -> Self {
        self.horizon = horizon.clamp(Duration::zero(), MAX_BOOKING_HORIZON);
        self
    }

    /// How old the last full read may be for a read after a webhook to
    /// fetch only the records it named (default 15 minutes, at most an
    /// hour: the rest of the facts are that old). Zero reads everything
    /// every time.
    #[must_use]
    pub fn targeted_within(mut self, age: Duration) -> Self {
        self.targeted_within = age.clamp(Duration::zero(), Duration::hours(1));
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

/// What the last full read returned, as OfficeRnD sent it: a webhook's
/// record is read again by id and put in its place, and the facts are made
/// again from the whole.
#[derive(Clone)]
struct Raw {
    read_at: DateTime<Utc>,
    /// The bookings window `[from, to)` the occurrences were expanded in.
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    locations: Vec<ornd::Location>,
    members: Vec<ornd::Member>,
    memberships: Vec<ornd::Membership>,
    resources: Vec<ornd::Resource>,
    /// Each assignable resource's assignments, by its index in `resources`.
    assignments: Vec<(usize, Vec<ornd::Assignment>)>,
    occurrences: Vec<ornd::BookingOccurrence>,
    visitors: BTreeMap<String, ornd::Visitor>,
    passes: Vec<ornd::Pass>,
    /// Records the client could not read: their scope and why.
    skipped: Vec<(Scope, String)>,
}

/// A record a webhook named.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Record {
    Member(String),
    Membership(String),
    Booking(String),
    Pass(String),
}

/// The changes webhooks announced since the last read.
#[derive(Debug, Default)]
struct Announced {
    records: BTreeSet<Record>,
    /// A change the source cannot read by itself (an unknown kind, no id).
    everything: bool,
}

/// What the source keeps between fetches, shared with its clones.
#[derive(Default)]
struct Kept {
    last: Mutex<Option<Raw>>,
    announced: Mutex<Announced>,
}

impl std::fmt::Debug for Kept {
    // counts only: the records hold members' names and e-mails
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last = lock(&self.last);
        let announced = lock(&self.announced);
        f.debug_struct("Kept")
            .field("last_read_at", &last.as_ref().map(|r| r.read_at))
            .field("announced", &announced.records.len())
            .field("everything", &announced.everything)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // the data is replaced whole, never left half-written by a panic
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Raw {
    fn skipped(&mut self, what: &str, location: Option<&str>, records: &[SkippedRecord]) {
        for r in records {
            let scope = match location {
                Some(l) => Scope::Location(l.to_owned()),
                None => Scope::Source(Source::OfficeRnd),
            };
            self.skipped
                .push((scope, format!("{what} {:?} skipped: {}", r.id, r.reason)));
        }
    }
}

/// Why a targeted read gave way to a full one.
type FullRead = String;

impl OfficeRndSource {
    /// Reads everything (about one call per 50 records, plus one listing
    /// per assignable resource).
    async fn read_all(&self, now: DateTime<Utc>) -> Result<Raw, SourceError> {
        let c = &self.client;
        let (from, to) = (
            add_saturating(now, -BOOKING_LOOKBACK),
            add_saturating(now, self.horizon),
        );
        let mut raw = Raw {
            read_at: now,
            from,
            to,
            locations: Vec::new(),
            members: Vec::new(),
            memberships: Vec::new(),
            resources: Vec::new(),
            assignments: Vec::new(),
            occurrences: Vec::new(),
            visitors: BTreeMap::new(),
            passes: Vec::new(),
            skipped: Vec::new(),
        };
        let locations = c
            .list_locations(LocationsQuery::new())
            .collect_all()
            .await
            .map_err(err)?;
        raw.skipped("location", None, &locations.skipped);
        raw.locations = locations.items;

        let members = c
            .list_members(MembersQuery::new())
            .collect_all()
            .await
            .map_err(err)?;
        raw.skipped("member", None, &members.skipped);
        raw.members = members.items;

        let memberships = c
            .list_memberships(MembershipsQuery::new())
            .collect_all()
            .await
            .map_err(err)?;
        raw.skipped("membership", None, &memberships.skipped);
        raw.memberships = memberships.items;

        // Assignments: one listing per assignable resource.
        let types = c.list_resource_types().collect_all().await.map_err(err)?;
        let resources = c
            .list_resources(ResourcesQuery::new())
            .collect_all()
            .await
            .map_err(err)?;
        raw.skipped("resource", None, &resources.skipped);
        for (i, r) in resources
            .items
            .iter()
            .enumerate()
            .filter(|(_, r)| r.capabilities(&types.items).assignable)
        {
            let listing = c
                .list_assignments(AssignmentsQuery::new().resource(r.id.clone()))
                .collect_all()
                .await
                .map_err(err)?;
            let loc = r.location.as_ref().map(ToString::to_string);
            raw.skipped("assignment", loc.as_deref(), &listing.skipped);
            raw.assignments.push((i, listing.items));
        }
        raw.resources = resources.items;

        // Bookings around now, expanded occurrence by occurrence.
        let occurrences = c
            .booking_occurrences(from, to, BookingsQuery::new())
            .await
            .map_err(err)?;
        raw.skipped("booking", None, &occurrences.skipped);
        raw.occurrences = occurrences.occurrences;
        if raw.occurrences.iter().any(|o| !o.visitors.is_empty()) {
            let listing = c
                .list_visitors(VisitorsQuery::new())
                .collect_all()
                .await
                .map_err(err)?;
            raw.skipped("visitor", None, &listing.skipped);
            raw.visitors = listing
                .items
                .into_iter()
                .map(|v| (v.id.to_string(), v))
                .collect();
        }

        let passes = c
            .list_passes(PassesQuery::new())
            .collect_all()
            .await
            .map_err(err)?;
        raw.skipped("day pass", None, &passes.skipped);
        raw.passes = passes.items;
        Ok(raw)
    }

    /// Reads each announced record by id and puts it in `raw`. Anything it
    /// cannot settle this way (a record gone, a failed call, a booking that
    /// does not expand) is a reason to read everything instead: a record
    /// missing from a full listing is gone for sure, a 404 on one path may
    /// not be.
    async fn patch(&self, raw: &mut Raw, records: &BTreeSet<Record>) -> Result<(), FullRead> {
        let c = &self.client;
        let why = |what: &str, id: &str, e: officernd_client::Error| format!("{what} {id}: {e}");
        for record in records {
            match record {
                Record::Member(id) => {
                    let m = c
                        .get_member(&ornd::MemberId::new(id.as_str()))
                        .await
                        .map_err(|e| why("member", id, e))?;
                    put(&mut raw.members, m, |x| x.id.as_str() == id);
                }
                Record::Membership(id) => {
                    let m = c
                        .get_membership(&ornd::MembershipId::new(id.as_str()))
                        .await
                        .map_err(|e| why("membership", id, e))?;
                    put(&mut raw.memberships, m, |x| x.id.as_str() == id);
                }
                Record::Pass(id) => {
                    let p = c
                        .get_pass(&ornd::PassId::new(id.as_str()))
                        .await
                        .map_err(|e| why("pass", id, e))?;
                    put(&mut raw.passes, p, |x| x.id.as_str() == id);
                }
                Record::Booking(id) => {
                    let b = c
                        .get_booking(&ornd::BookingId::new(id.as_str()))
                        .await
                        .map_err(|e| why("booking", id, e))?;
                    let occurrences = officernd_client::recurrence::expand(&b, raw.from, raw.to)
                        .map_err(|e| format!("booking {id} does not expand: {e}"))?;
                    for v in occurrences.iter().flat_map(|o| &o.visitors) {
                        if !raw.visitors.contains_key(v.as_str()) {
                            let visitor = c
                                .get_visitor(v)
                                .await
                                .map_err(|e| why("visitor", v.as_str(), e))?;
                            raw.visitors.insert(v.to_string(), visitor);
                        }
                    }
                    raw.occurrences.retain(|o| o.booking.as_str() != id);
                    raw.occurrences.extend(occurrences);
                }
            }
        }
        // in the order a full read lists them
        raw.occurrences
            .sort_by(|a, b| (a.start, &a.booking).cmp(&(b.start, &b.booking)));
        Ok(())
    }
}

/// Replaces the record `is` finds with `new`, or adds it.
fn put<T>(records: &mut Vec<T>, new: T, is: impl Fn(&T) -> bool) {
    match records.iter_mut().find(|r| is(r)) {
        Some(r) => *r = new,
        None => records.push(new),
    }
}

/// The facts of a read: pure, so that a patched read and a full one make
/// their facts the same way.
fn assemble(raw: &Raw) -> SourceBatch {
    let mut out = SourceBatch::default();
    for (scope, note) in &raw.skipped {
        out.mark_incomplete(scope.clone(), note.clone());
    }
    for l in &raw.locations {
        match location_fact(l) {
            Some(location) => out.facts.locations.push(location),
            None => out.mark_incomplete(
                Scope::Location(l.id.to_string()),
                "the location has no time zone; its facts are skipped",
            ),
        }
    }
    out.facts
        .members
        .extend(raw.members.iter().map(member_fact));

    let mut membership_location: BTreeMap<String, String> = BTreeMap::new();
    for m in &raw.memberships {
        let Some(membership) = membership_fact(m) else {
            let scope = m
                .location
                .as_ref()
                .map_or(Scope::Source(Source::OfficeRnd), |l| {
                    Scope::Location(l.to_string())
                });
            out.mark_incomplete(
                scope,
                format!("membership {} has no plan or no location; skipped", m.id),
            );
            continue;
        };
        membership_location.insert(membership.id.clone(), membership.location_id.clone());
        out.facts.memberships.push(membership);
    }

    for (i, assignments) in &raw.assignments {
        let r = &raw.resources[*i];
        let loc = r.location.as_ref().map(ToString::to_string);
        let floor = r.floor.as_ref().map(ToString::to_string);
        for a in assignments {
            let Some(location) = loc
                .clone()
                .or_else(|| membership_location.get(a.membership.as_str()).cloned())
            else {
                out.mark_incomplete(
                    Scope::Source(Source::OfficeRnd),
                    format!("assignment {} has no location; skipped", a.id),
                );
                continue;
            };
            out.facts
                .assignments
                .push(assignment_fact(a, &location, floor.as_deref()));
        }
    }

    let resource_of: BTreeMap<&str, &ornd::Resource> =
        raw.resources.iter().map(|r| (r.id.as_str(), r)).collect();
    for o in &raw.occurrences {
        let location = o.location.as_ref().map(ToString::to_string).or_else(|| {
            resource_of
                .get(o.resource.as_str())
                .and_then(|r| r.location.as_ref().map(ToString::to_string))
        });
        let Some(location) = location else {
            out.mark_incomplete(
                Scope::Source(Source::OfficeRnd),
                format!("booking {} has no location; skipped", o.booking),
            );
            continue;
        };
        out.facts
            .bookings
            .push(booking_fact(o, &location, &raw.visitors));
    }

    // A pass names its location rarely: fall back to its member's home
    // location, to the home location its company's members share, or to
    // the organization's only location.
    let member_location: BTreeMap<&str, String> = raw
        .members
        .iter()
        .filter_map(|m| Some((m.id.as_str(), m.location.as_ref()?.to_string())))
        .collect();
    let company_location = |company: &str| -> Option<String> {
        let homes: BTreeSet<&String> = raw
            .members
            .iter()
            .filter(|m| m.company.as_ref().is_some_and(|c| c.as_str() == company))
            .filter_map(|m| member_location.get(m.id.as_str()))
            .collect();
        (homes.len() == 1)
            .then(|| homes.into_iter().next().cloned())
            .flatten()
    };
    let only_location = (out.facts.locations.len() == 1).then(|| out.facts.locations[0].id.clone());
    for p in &raw.passes {
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
            Some(set) => out.facts.day_passes.push(set),
            None => out.mark_incomplete(scope, format!("day pass {} {problem}; skipped", p.id)),
        }
    }
    out
}

#[async_trait]
impl FactSource for OfficeRndSource {
    fn name(&self) -> &str {
        "officernd"
    }

    fn scope(&self) -> Scope {
        Scope::Source(Source::OfficeRnd)
    }

    /// Remembers a record a webhook named (`kind` is the event's object:
    /// `member`, `membership`, `booking` or `pass`), to be read by id at the
    /// next fetch; any other kind, or no id, makes the next fetch read
    /// everything.
    fn changed(&self, kind: &str, id: Option<&str>) {
        let record = id.filter(|id| !id.trim().is_empty()).and_then(|id| {
            let id = id.to_owned();
            match kind {
                "member" => Some(Record::Member(id)),
                "membership" => Some(Record::Membership(id)),
                "booking" => Some(Record::Booking(id)),
                "pass" => Some(Record::Pass(id)),
                _ => None,
            }
        });
        let mut announced = lock(&self.kept.announced);
        match record {
            Some(r) if !announced.everything && announced.records.len() < MAX_TARGETED => {
                announced.records.insert(r);
            }
            // no record it can read by id, or past the cap (a full read is
            // cheaper): everything, and the set stops growing
            _ => {
                announced.everything = true;
                announced.records.clear();
            }
        }
    }

    /// Forgets the last read and the records announced since.
    fn invalidate(&self) {
        *lock(&self.kept.last) = None;
        *lock(&self.kept.announced) = Announced::default();
    }

    async fn fetch(&self, now: DateTime<Utc>) -> Result<SourceBatch, SourceError> {
        let calls_before = self.client.call_stats().calls;
        // taken now: what is announced while this read runs waits for the next
        let announced = std::mem::take(&mut *lock(&self.kept.announced));
        let last = lock(&self.kept.last).take();
        let targeted = match last {
            Some(raw)
                if !announced.everything
                    && !announced.records.is_empty()
                    && raw.read_at <= now
                    && now - raw.read_at < self.targeted_within =>
            {
                Some(raw)
            }
            _ => None,
        };
        let (raw, partial) = match targeted {
            Some(mut raw) => match self.patch(&mut raw, &announced.records).await {
                Ok(()) => {
                    tracing::info!(
                        records = announced.records.len(),
                        "OfficeRnD: read the records webhooks announced"
                    );
                    (raw, true)
                }
                Err(why) => {
                    tracing::info!(%why, "OfficeRnD: reading everything instead");
                    (self.read_all(now).await?, false)
                }
            },
            None => (self.read_all(now).await?, false),
        };
        let mut batch = assemble(&raw);
        // the rest of the facts are as old as the last full read
        batch.read_at = partial.then_some(raw.read_at);
        *lock(&self.kept.last) = Some(raw);
        batch.calls = self.client.call_stats().calls.saturating_sub(calls_before);
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a panic is a failure

    use chrono::Duration;
    use secrecy::SecretString;

    use super::{MAX_BOOKING_HORIZON, OfficeRndSource, split_name};

    /// Horizons from code are clamped: `TimeDelta::MAX` keeps ten years,
    /// `TimeDelta::MIN` none (a read with each is in
    /// `tests/officernd_webhooks.rs`, against the sandbox).
    #[test]
    fn extreme_booking_horizons_are_clamped() {
        let client = officernd_client::Client::builder(
            "org",
            "client-id",
            SecretString::from("client-secret".to_owned()),
        )
        .build()
        .unwrap();
        for (horizon, kept) in [
            (Duration::MAX, MAX_BOOKING_HORIZON),
            (Duration::MIN, Duration::zero()),
        ] {
            let source = OfficeRndSource::new(client.clone()).booking_horizon(horizon);
            assert_eq!(source.horizon, kept);
        }
    }

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
