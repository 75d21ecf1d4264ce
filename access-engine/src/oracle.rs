//! A small, obviously-correct reference implementation of the access rules,
//! written separately from the engine for tests and benches. **Not part of
//! the public API** (hidden from docs; may change at any time).
//!
//! It favours plainness over speed: owned `String` keys, `BTreeMap`s, one
//! pass per rule, no memoisation, no indexes. It shares only the fact model
//! and [`crate::time`]'s resolution functions (tested on their own).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::coworking::{MembershipStatus, PassHolder};
use crate::directory::DirectoryState;
use crate::facts::Facts;
use crate::leases::LeaseStatus;
use crate::mapping::{GroupId, Mappings};
use crate::policy::{NoAccessPolicy, Policy};
use crate::time::{Edge, end_of_inclusive_date, resolve, start_of_day};

/// A membership window and its people.
type MsWindow = (Option<DateTime<Utc>>, Option<DateTime<Utc>>, Vec<String>);

/// One grant: external id, group, `[start, end)` (`None` = unbounded).
pub type OracleGrant = (
    String,
    GroupId,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// The desired state of one identity at an instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OracleState {
    /// Groups held.
    pub groups: BTreeSet<GroupId>,
    /// Some grant is current or upcoming.
    pub has_future: bool,
    /// Directory state, if a directory user.
    pub directory: Option<DirectoryState>,
    /// Must be suspended.
    pub suspended: bool,
    /// Must be deleted.
    pub deleted: bool,
}

fn zone_table(items: &[(String, String)]) -> BTreeMap<String, Option<Tz>> {
    let mut seen: BTreeMap<String, Vec<Option<Tz>>> = BTreeMap::new();
    for (id, zone) in items {
        seen.entry(id.clone())
            .or_default()
            .push(zone.parse::<Tz>().ok());
    }
    seen.into_iter()
        .map(|(id, zones)| {
            let first = zones[0];
            let ok = first.is_some() && zones.iter().all(|z| *z == first);
            (id, if ok { first } else { None })
        })
        .collect()
}

fn groups_of(
    table: &BTreeMap<String, Vec<GroupId>>,
    key: Option<&str>,
    existing: &BTreeSet<GroupId>,
) -> Option<Vec<GroupId>> {
    let key = key?;
    let groups = table.get(key)?;
    Some(
        groups
            .iter()
            .copied()
            .filter(|g| existing.contains(g))
            .collect(),
    )
}

fn add_minutes(t: DateTime<Utc>, m: i64) -> DateTime<Utc> {
    t.checked_add_signed(TimeDelta::minutes(m)).unwrap_or(t)
}

/// Every grant the facts make, and every directory identity's state.
pub fn grants(
    facts: &Facts,
    mappings: &Mappings,
    policy: &Policy,
    existing: &BTreeSet<GroupId>,
) -> (Vec<OracleGrant>, BTreeMap<String, DirectoryState>) {
    let p = &policy.ownership_prefix;
    let mut out: Vec<OracleGrant> = Vec::new();
    let prop_zones = zone_table(
        &facts
            .properties
            .iter()
            .map(|x| (x.id.clone(), x.zone.clone()))
            .collect::<Vec<_>>(),
    );
    let loc_zones = zone_table(
        &facts
            .locations
            .iter()
            .map(|x| (x.id.clone(), x.zone.clone()))
            .collect::<Vec<_>>(),
    );

    // Leases: the lease can refuse everyone; each resident is then admitted
    // by their own status (or the lease's), over the later move-in and the
    // earlier move-out of the two.
    let refuses = |s: &LeaseStatus| {
        matches!(
            s,
            LeaseStatus::Applicant | LeaseStatus::Cancelled | LeaseStatus::Denied
        )
    };
    let known = |s: &LeaseStatus| {
        matches!(
            s,
            LeaseStatus::Future | LeaseStatus::Current | LeaseStatus::Notice | LeaseStatus::Past
        )
    };
    for lease in &facts.leases {
        if lease.id.trim().is_empty() || lease.property_id.trim().is_empty() {
            continue;
        }
        let Some(Some(tz)) = prop_zones.get(&lease.property_id) else {
            continue;
        };
        if !known(&lease.status) || lease.property_id.contains(':') {
            continue;
        }
        if let (Some(i), Some(o)) = (lease.move_in, lease.move_out)
            && o < i
        {
            continue;
        }
        if lease.status == LeaseStatus::Past && lease.move_out.is_none() {
            continue;
        }
        let mut groups: BTreeSet<GroupId> = BTreeSet::new();
        for g in [
            groups_of(&mappings.properties, Some(&lease.property_id), existing),
            groups_of(&mappings.buildings, lease.building_id.as_deref(), existing),
            groups_of(&mappings.units, lease.unit_id.as_deref(), existing),
        ]
        .into_iter()
        .flatten()
        {
            groups.extend(g);
        }
        let start_of = |d: chrono::NaiveDate| {
            add_minutes(
                resolve(*tz, d.and_time(policy.start_time), Edge::Start),
                -i64::from(policy.early_access_minutes),
            )
        };
        let end_of = |d: chrono::NaiveDate| {
            add_minutes(
                resolve(*tz, d.and_time(policy.end_time), Edge::End),
                i64::from(policy.grace_minutes),
            )
        };
        for c in &lease.customers {
            if !policy.admitted_customer_types.contains(&c.customer_type) || c.id.trim().is_empty()
            {
                continue;
            }
            let status = c.status.clone().unwrap_or_else(|| lease.status.clone());
            if refuses(&status) || !known(&status) {
                continue;
            }
            if let (Some(i), Some(o)) = (c.move_in, c.move_out)
                && o < i
            {
                continue;
            }
            let move_in = [lease.move_in, c.move_in].into_iter().flatten().max();
            let move_out = [lease.move_out, c.move_out].into_iter().flatten().min();
            let Some(move_in) = move_in else { continue };
            if status == LeaseStatus::Past && move_out.is_none() {
                continue;
            }
            let start = start_of(move_in);
            let end = move_out.map(end_of);
            if end.is_some_and(|e| e <= start) {
                continue;
            }
            let ext = format!("{p}:entrata:{}", c.id);
            for g in &groups {
                out.push((ext.clone(), *g, Some(start), end));
            }
        }
    }

    // Memberships (and their windows for assignments).
    let member_exists = |id: &str| facts.members.iter().any(|m| m.id == id);
    let company_members = |company: &str| -> Vec<String> {
        facts
            .members
            .iter()
            .filter(|m| m.company_id.as_deref() == Some(company))
            .map(|m| m.id.clone())
            .collect()
    };
    // An id given twice with different contents: no record of it is
    // trusted (the engine holds what they could grant).
    let mut by_id: BTreeMap<&str, Vec<&crate::coworking::Membership>> = BTreeMap::new();
    for ms in &facts.memberships {
        by_id.entry(ms.id.as_str()).or_default().push(ms);
    }
    let conflicting = |id: &str| {
        by_id
            .get(id)
            .is_some_and(|all| all.iter().any(|m| *m != all[0]))
    };
    let mut ms_windows: BTreeMap<String, MsWindow> = BTreeMap::new();
    for ms in &facts.memberships {
        if conflicting(&ms.id) {
            continue;
        }
        let Some(Some(tz)) = loc_zones.get(&ms.location_id) else {
            continue;
        };
        if !matches!(
            ms.status,
            MembershipStatus::Active | MembershipStatus::NotStarted | MembershipStatus::Expired
        ) {
            continue;
        }
        let Some(start_date) = ms.start else { continue };
        if ms.end.is_some_and(|e| e < start_date) {
            continue;
        }
        let people: Vec<String> = match (&ms.member_id, &ms.company_id) {
            (Some(m), _) if member_exists(m) => vec![m.clone()],
            (Some(_), _) => vec![],
            (None, Some(c)) => company_members(c),
            (None, None) => continue,
        };
        let start = Some(start_of_day(*tz, start_date));
        let end = ms.end.and_then(|e| end_of_inclusive_date(*tz, e));
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            continue;
        }
        if let Some(groups) = groups_of(&mappings.plans, Some(&ms.plan_id), existing) {
            for person in &people {
                for g in &groups {
                    out.push((format!("{p}:officernd:{person}"), *g, start, end));
                }
            }
        }
        ms_windows.insert(ms.id.clone(), (start, end, people));
    }
    for a in &facts.assignments {
        let Some((start, end, people)) = ms_windows.get(&a.membership_id) else {
            continue;
        };
        let mut groups: BTreeSet<GroupId> = BTreeSet::new();
        for g in [
            groups_of(&mappings.resources, Some(&a.resource_id), existing),
            groups_of(&mappings.floors, a.floor_id.as_deref(), existing),
            groups_of(&mappings.locations, Some(&a.location_id), existing),
        ]
        .into_iter()
        .flatten()
        {
            groups.extend(g);
        }
        for person in people {
            for g in &groups {
                out.push((format!("{p}:officernd:{person}"), *g, *start, *end));
            }
        }
    }

    // Bookings.
    for b in &facts.bookings {
        if b.cancelled || b.end < b.start {
            continue;
        }
        let Some(Some(_)) = loc_zones.get(&b.location_id) else {
            continue;
        };
        let Some(groups) = groups_of(&mappings.resources, Some(&b.resource_id), existing) else {
            continue;
        };
        let start = Some(add_minutes(
            b.start,
            -i64::from(policy.booking_lead_minutes),
        ));
        let end = Some(add_minutes(b.end, i64::from(policy.booking_lag_minutes)));
        let mut people: BTreeSet<String> = b.member_ids.iter().cloned().collect();
        if let Some(booker) = &b.booker_id {
            people.insert(booker.clone());
        }
        for person in people.into_iter().filter(|m| member_exists(m)) {
            for g in &groups {
                out.push((format!("{p}:officernd:{person}"), *g, start, end));
            }
        }
        if policy.visitors_admitted {
            for v in &b.visitors {
                for g in &groups {
                    out.push((format!("{p}:officernd-visitor:{}", v.id), *g, start, end));
                }
            }
        }
    }

    // Day passes.
    for pass in &facts.day_passes {
        let Some(Some(tz)) = loc_zones.get(&pass.location_id) else {
            continue;
        };
        if pass.valid_to < pass.valid_from || pass.used >= pass.count {
            continue;
        }
        let Some(groups) = groups_of(
            &mappings.day_pass_locations,
            Some(&pass.location_id),
            existing,
        ) else {
            continue;
        };
        let start = Some(start_of_day(*tz, pass.valid_from));
        let end = end_of_inclusive_date(*tz, pass.valid_to);
        let people = match &pass.holder {
            PassHolder::Member(m) if member_exists(m) => vec![m.clone()],
            PassHolder::Member(_) => vec![],
            PassHolder::Company(c) => company_members(c),
        };
        for person in people {
            for g in &groups {
                out.push((format!("{p}:officernd:{person}"), *g, start, end));
            }
        }
    }

    // Directory users.
    let mut states: BTreeMap<String, DirectoryState> = BTreeMap::new();
    for u in &facts.directory_users {
        if u.directory_id.contains(':') {
            continue;
        }
        let ext = format!("{p}:directory:{}:{}", u.directory_id, u.user_id);
        let s = states.entry(ext.clone()).or_insert(u.state);
        if u.state > *s {
            *s = u.state;
        }
        if matches!(u.state, DirectoryState::Active | DirectoryState::Suspended)
            && let Some(groups) = groups_of(&mappings.directories, Some(&u.directory_id), existing)
        {
            for g in groups {
                out.push((ext.clone(), g, None, None));
            }
        }
    }
    (out, states)
}

/// The desired state of every identity at `t`. `existing`: the managed groups
/// that exist in Brivo (`None`: all mapped groups).
pub fn desired_at(
    facts: &Facts,
    mappings: &Mappings,
    policy: &Policy,
    existing: Option<&BTreeSet<GroupId>>,
    t: DateTime<Utc>,
) -> BTreeMap<String, OracleState> {
    let all = mappings.managed_groups();
    let existing: BTreeSet<GroupId> = match existing {
        Some(e) => all.intersection(e).copied().collect(),
        None => all,
    };
    let (grants, states) = grants(facts, mappings, policy, &existing);
    state_at(&grants, &states, policy, t)
}

/// [`desired_at`] from precomputed grants.
pub fn state_at(
    grants: &[OracleGrant],
    states: &BTreeMap<String, DirectoryState>,
    policy: &Policy,
    t: DateTime<Utc>,
) -> BTreeMap<String, OracleState> {
    let mut out: BTreeMap<String, OracleState> = BTreeMap::new();
    for (ext, g, start, end) in grants {
        let e = out.entry(ext.clone()).or_default();
        let started = start.is_none_or(|s| s <= t);
        let not_ended = end.is_none_or(|x| t < x);
        if started && not_ended {
            e.groups.insert(*g);
        }
        if not_ended {
            e.has_future = true;
        }
    }
    for (ext, s) in states {
        out.entry(ext.clone()).or_default().directory = Some(*s);
    }
    for st in out.values_mut() {
        if matches!(
            st.directory,
            Some(DirectoryState::Disabled | DirectoryState::Deleted)
        ) {
            st.groups.clear();
            st.has_future = false;
        }
        let none_left = !st.has_future;
        st.deleted = st.directory == Some(DirectoryState::Deleted)
            || (policy.no_access == NoAccessPolicy::Delete && none_left);
        st.suspended = st.directory == Some(DirectoryState::Suspended)
            || (policy.no_access == NoAccessPolicy::Suspend && none_left);
    }
    out
}

/// The first instant after `t` at which [`desired_at`] changes, found by
/// trying every window boundary in order.
pub fn next_change(
    facts: &Facts,
    mappings: &Mappings,
    policy: &Policy,
    existing: Option<&BTreeSet<GroupId>>,
    t: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let all = mappings.managed_groups();
    let existing: BTreeSet<GroupId> = match existing {
        Some(e) => all.intersection(e).copied().collect(),
        None => all,
    };
    let (grants, states) = grants(facts, mappings, policy, &existing);
    let now = state_at(&grants, &states, policy, t);
    let boundaries: BTreeSet<DateTime<Utc>> = grants
        .iter()
        .flat_map(|(_, _, s, e)| [*s, *e])
        .flatten()
        .filter(|b| *b > t)
        .collect();
    boundaries
        .into_iter()
        .find(|b| state_at(&grants, &states, policy, *b) != now)
}
