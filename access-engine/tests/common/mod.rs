//! Shared test helpers: a small Brivo `apply` simulator and builders.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use access_engine::*;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

fn find(users: &mut [ObservedUser], id: BrivoUserId) -> &mut ObservedUser {
    users
        .iter_mut()
        .find(|u| u.id == id)
        .expect("action names an observed user")
}

/// Applies a plan to an observed state the way Brivo would (idempotently).
pub fn apply(plan: &Plan, observed: &Observed) -> Observed {
    let mut users = observed.users.clone();
    let mut next_id = users.iter().map(|u| u.id.0).max().unwrap_or(0) + 1000;
    let mut created: BTreeMap<String, BrivoUserId> = BTreeMap::new();
    let set_profile = |u: &mut ObservedUser, p: &Profile| {
        u.first_name = p.first_name.clone();
        u.last_name = p.last_name.clone();
        u.emails = p.email.iter().cloned().collect();
        u.phones = p.phone.iter().cloned().collect();
    };
    for a in &plan.actions {
        match a {
            Action::CreateUser {
                external_id,
                profile,
                ..
            } => {
                assert!(
                    !users
                        .iter()
                        .any(|u| u.external_id.as_deref() == Some(external_id)),
                    "create of an existing external id {external_id}"
                );
                let mut u =
                    ObservedUser::new(BrivoUserId(next_id)).with_external_id(external_id.clone());
                set_profile(&mut u, profile);
                created.insert(external_id.clone(), u.id);
                next_id += 1;
                users.push(u);
            }
            Action::AdoptUser {
                user,
                external_id,
                profile,
                ..
            } => {
                let u = find(&mut users, *user);
                u.external_id = Some(external_id.clone());
                set_profile(u, profile);
            }
            Action::SetExternalId {
                user, external_id, ..
            } => {
                assert!(
                    !users
                        .iter()
                        .any(|u| u.external_id.as_deref() == Some(external_id)),
                    "rekey to an existing external id {external_id}"
                );
                find(&mut users, *user).external_id = Some(external_id.clone());
            }
            Action::UpdateProfile { user, profile, .. } => {
                set_profile(find(&mut users, *user), profile)
            }
            Action::SetCredentialWindow { user, window, .. } => {
                let id = match user {
                    UserRef::Existing(id) => *id,
                    UserRef::New(ext) => *created.get(ext).expect("created before its window"),
                };
                find(&mut users, id).credential_window = Some(*window)
            }
            Action::AssignCard { user, .. } => {
                let id = match user {
                    UserRef::Existing(id) => *id,
                    UserRef::New(ext) => *created.get(ext).expect("created before its card"),
                };
                find(&mut users, id).card_assigned = true
            }
            Action::Unsuspend { user, .. } => find(&mut users, *user).suspended = false,
            Action::Suspend { user, .. } => find(&mut users, *user).suspended = true,
            Action::ChangeGroups { user, add, remove } => {
                let id = match user {
                    UserRef::Existing(id) => *id,
                    UserRef::New(ext) => *created.get(ext).expect("created before its groups"),
                };
                let u = find(&mut users, id);
                for c in add {
                    if !u.groups.contains(&c.group) {
                        u.groups.push(c.group);
                    }
                }
                u.groups.retain(|g| !remove.iter().any(|c| c.group == *g));
            }
            Action::Delete { user, .. } => users.retain(|u| u.id != *user),
            _ => panic!("unknown action"),
        }
    }
    Observed::new(users, observed.groups.clone())
}

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

pub fn utc(y: i32, m: u32, day: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, mi, 0)
        .single()
        .expect("valid instant")
}

pub fn customer(id: &str, t: CustomerType) -> Customer {
    Customer::new(id, t, Profile::new(format!("F{id}"), format!("L{id}")))
}

pub fn lease(
    id: &str,
    property: &str,
    status: LeaseStatus,
    move_in: Option<NaiveDate>,
    move_out: Option<NaiveDate>,
    customers: Vec<Customer>,
) -> Lease {
    customers.into_iter().fold(
        Lease::new(id, property, status)
            .with_move_in(move_in)
            .with_move_out(move_out),
        Lease::with_customer,
    )
}

pub fn property(id: &str, zone: &str) -> Property {
    Property::new(id, zone)
}

pub fn groups(ids: &[i64]) -> Vec<ObservedGroup> {
    ids.iter()
        .map(|&i| ObservedGroup::new(GroupId(i), format!("g{i}")))
        .collect()
}

pub fn user(id: i64, ext: Option<&str>, first: &str, last: &str, gs: &[i64]) -> ObservedUser {
    let u = ObservedUser::new(BrivoUserId(id))
        .with_name(first, last)
        .with_groups(gs.iter().copied().map(GroupId));
    match ext {
        Some(ext) => u.with_external_id(ext),
        None => u,
    }
}

/// The default policy, changed by `f`.
pub fn policy_with(f: impl FnOnce(&mut Policy)) -> Policy {
    let mut p = Policy::default();
    f(&mut p);
    p
}

/// A mass-revocation threshold.
/// Only these limits: no floors, no per-scope drop limit.
pub fn threshold(max_count: Option<usize>, max_share: Option<f64>) -> RevocationThreshold {
    let mut t = RevocationThreshold::none();
    t.max_count = max_count;
    t.max_share = max_share;
    t
}

/// All group ids of a user's `ChangeGroups` action, as (adds, removes).
pub fn changes_of(plan: &Plan, who: &UserRef) -> (Vec<i64>, Vec<i64>) {
    for a in &plan.actions {
        if let Action::ChangeGroups { user, add, remove } = a
            && user == who
        {
            return (
                add.iter().map(|c| c.group.0).collect(),
                remove.iter().map(|c| c.group.0).collect(),
            );
        }
    }
    (vec![], vec![])
}
