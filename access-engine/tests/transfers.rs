//! One person, one Brivo user. An Entrata resident is one identity across
//! the properties of the account: a transfer (a Notice lease at one
//! property, a Future one at the next, windows overlapping) is one user
//! holding the union of both grants, with every lease in its reasons.
//! Users made by earlier versions, one per property, migrate to one: the
//! survivor is given the current external id and the person's groups
//! first; the other is retired only once the survivor holds them.

mod common;

use access_engine::*;
use common::{apply, changes_of, customer, d, lease, property, user, utc};

const NY: &str = "America/New_York";

/// Customer 5009 moves out of property 200 on 12/05 (Notice) and into
/// property 300 on 12/01 (Future, a transfer lease): the windows overlap.
fn transfer() -> Facts {
    let mut f = Facts::default();
    f.properties.push(property("200", NY));
    f.properties.push(property("300", NY));
    f.leases.push(lease(
        "2003",
        "200",
        LeaseStatus::Notice,
        Some(d(2025, 6, 1)),
        Some(d(2026, 12, 5)),
        vec![customer("5009", CustomerType::Primary)],
    ));
    f.leases.push(lease(
        "3001",
        "300",
        LeaseStatus::Future,
        Some(d(2026, 12, 1)),
        None,
        vec![customer("5009", CustomerType::Primary)],
    ));
    f
}

fn mappings() -> Mappings {
    let mut m = Mappings::default();
    m.properties.insert("200".into(), vec![GroupId(2)]);
    m.properties.insert("300".into(), vec![GroupId(3)]);
    m
}

fn brivo(users: Vec<ObservedUser>) -> Observed {
    Observed::new(users, common::groups(&[2, 3]))
}

fn new_user() -> UserRef {
    UserRef::New("sync:entrata:5009".into())
}

#[test]
fn a_transfer_is_one_user_with_both_properties_groups() {
    let now = utc(2026, 12, 3, 19, 0);
    let p = plan(
        &transfer(),
        &mappings(),
        &Policy::default(),
        &brivo(vec![]),
        now,
    );
    let creates: Vec<&str> = p
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateUser { external_id, .. } => Some(external_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(creates, ["sync:entrata:5009"], "{p}");
    assert_eq!(changes_of(&p, &new_user()), (vec![2, 3], vec![]), "{p}");
    // each group's reason names its own lease
    let text = p.to_string();
    assert!(text.contains("lease 2003"), "{text}");
    assert!(text.contains("lease 3001"), "{text}");
    // both properties count the person
    let named: Vec<(String, usize)> = p
        .scopes
        .iter()
        .map(|s| (s.scope.to_string(), s.people))
        .collect();
    assert_eq!(
        named,
        [
            ("property 200".to_owned(), 1),
            ("property 300".to_owned(), 1)
        ]
    );
    // the move-out from 200 ends group 2 and keeps the user
    let after = apply(&p, &brivo(vec![]));
    let moved = plan(
        &transfer(),
        &mappings(),
        &Policy::default(),
        &after,
        utc(2026, 12, 5, 21, 0),
    );
    let id = after.users[0].id;
    assert_eq!(
        changes_of(&moved, &UserRef::Existing(id)),
        (vec![], vec![2]),
        "{moved}"
    );
    assert_eq!(moved.actions.len(), 1, "{moved}");
}

#[test]
fn a_user_keyed_by_property_is_given_the_resident_id_and_keeps_its_access() {
    let now = utc(2026, 12, 3, 19, 0);
    let observed = brivo(vec![user(
        40,
        Some("sync:entrata:200:5009"),
        "F5009",
        "L5009",
        &[2],
    )]);
    let p = plan(&transfer(), &mappings(), &Policy::default(), &observed, now);
    let rekeyed: Vec<(i64, &str, &str)> = p
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::SetExternalId {
                user,
                from,
                external_id,
                ..
            } => Some((user.0, from.as_str(), external_id.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        rekeyed,
        [(40, "sync:entrata:200:5009", "sync:entrata:5009")],
        "{p}"
    );
    // no second user: the transfer's group goes to the same one
    assert!(
        !p.actions
            .iter()
            .any(|a| matches!(a, Action::CreateUser { .. })),
        "{p}"
    );
    assert_eq!(
        changes_of(&p, &UserRef::Existing(BrivoUserId(40))),
        (vec![3], vec![])
    );
    let after = apply(&p, &observed);
    let again = plan(&transfer(), &mappings(), &Policy::default(), &after, now);
    assert!(again.is_empty(), "{again}");
}

/// The state an earlier version left: one user per property. User 40 (the
/// lowest Brivo id) keeps the identity; user 41 holds group 3, which the
/// person needs and user 40 lacks, so 41 keeps it until 40 has it.
#[test]
fn two_users_of_one_resident_merge_without_a_lockout() {
    let now = utc(2026, 12, 3, 19, 0);
    let observed = brivo(vec![
        user(40, Some("sync:entrata:200:5009"), "F5009", "L5009", &[2]),
        user(41, Some("sync:entrata:300:5009"), "F5009", "L5009", &[3]),
    ]);
    let policy = common::policy_with(|p| p.no_access = NoAccessPolicy::Delete);
    let first = plan(&transfer(), &mappings(), &policy, &observed, now);
    assert!(
        first.actions.iter().any(|a| matches!(
            a,
            Action::SetExternalId {
                user: BrivoUserId(40),
                ..
            }
        )),
        "{first}"
    );
    assert_eq!(
        changes_of(&first, &UserRef::Existing(BrivoUserId(40))),
        (vec![3], vec![])
    );
    // nothing of 41 goes before 40 holds group 3: not its group, not the user
    assert_eq!(
        changes_of(&first, &UserRef::Existing(BrivoUserId(41))),
        (vec![], vec![])
    );
    let merging = HoldRule::Merging {
        survivor: BrivoUserId(40),
    };
    let held: Vec<(&HeldItem, &HoldRule)> = first
        .held
        .iter()
        .filter(|h| h.user == UserRef::Existing(BrivoUserId(41)))
        .map(|h| (&h.item, &h.rule))
        .collect();
    assert_eq!(held, [(&HeldItem::Delete, &merging)], "{first}");
    assert!(first.to_string().contains("is granted it first"), "{first}");

    // Run two: user 40 holds both groups, so user 41 is retired (deleted,
    // as the policy says), for its own reason.
    let after = apply(&first, &observed);
    let second = plan(&transfer(), &mappings(), &policy, &after, now);
    assert!(second.held.is_empty(), "{second}");
    let deleted: Vec<(i64, Vec<Rule>)> = second
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Delete { user, reasons } => {
                Some((user.0, reasons.iter().map(|r| r.rule).collect()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        deleted,
        [(
            41,
            vec![Rule::Superseded, Rule::NoAccessLeft(NoAccessPolicy::Delete)]
        )],
        "{second}"
    );
    let done = apply(&second, &after);
    assert!(plan(&transfer(), &mappings(), &policy, &done, now).is_empty());
    assert_eq!(done.users.len(), 1);
    assert_eq!(
        done.users[0].external_id.as_deref(),
        Some("sync:entrata:5009")
    );
}

/// A second user's groups that the person should not have at all go at
/// once; only what the survivor still lacks waits.
#[test]
fn only_what_the_survivor_lacks_is_held_on_the_other_user() {
    let now = utc(2026, 12, 3, 19, 0);
    let mut m = mappings();
    m.properties.insert("400".into(), vec![GroupId(4)]);
    let observed = Observed::new(
        vec![
            user(40, Some("sync:entrata:200:5009"), "F5009", "L5009", &[2]),
            user(41, Some("sync:entrata:300:5009"), "F5009", "L5009", &[3, 4]),
        ],
        common::groups(&[2, 3, 4]),
    );
    let mut f = transfer();
    f.properties.push(property("400", NY));
    let p = plan(&f, &m, &Policy::default(), &observed, now);
    assert_eq!(
        changes_of(&p, &UserRef::Existing(BrivoUserId(41))),
        (vec![], vec![4]),
        "{p}"
    );
    let held: Vec<&HeldItem> = p.held.iter().map(|h| &h.item).collect();
    assert_eq!(held, [&HeldItem::RemoveGroup(GroupId(3))], "{p}");
}

/// A resident's leases may be at any property: with one property's facts
/// missing, removing the user waits, but a group of a complete property
/// that no lease grants any more is removed.
#[test]
fn an_incomplete_property_holds_the_user_not_other_properties_groups() {
    let now = utc(2026, 12, 7, 12, 0);
    let mut f = transfer();
    f.leases.remove(1);
    f.completeness
        .mark_incomplete(Scope::Property("300".into()), "getLeases failed: 503");
    let observed = brivo(vec![user(
        40,
        Some("sync:entrata:5009"),
        "F5009",
        "L5009",
        &[2, 3],
    )]);
    let policy = common::policy_with(|p| p.no_access = NoAccessPolicy::Suspend);
    let p = plan(&f, &mappings(), &policy, &observed, now);
    let who = UserRef::Existing(BrivoUserId(40));
    assert_eq!(changes_of(&p, &who), (vec![], vec![2]), "{p}");
    let held: Vec<(&HeldItem, &HoldRule)> = p.held.iter().map(|h| (&h.item, &h.rule)).collect();
    let incomplete = HoldRule::Incomplete {
        scope: Scope::Property("300".into()),
    };
    assert_eq!(
        held,
        [
            (&HeldItem::RemoveGroup(GroupId(3)), &incomplete),
            (&HeldItem::Suspend, &incomplete)
        ],
        "{p}"
    );
}

/// A resident id that would read as the earlier form is a bad record,
/// never an external id that the next run takes for someone else.
#[test]
fn a_resident_id_with_a_colon_is_a_bad_record() {
    let mut f = Facts::default();
    f.properties.push(property("200", NY));
    f.leases.push(lease(
        "2003",
        "200",
        LeaseStatus::Current,
        Some(d(2025, 6, 1)),
        None,
        vec![customer("300:5009", CustomerType::Primary)],
    ));
    let p = plan(
        &f,
        &mappings(),
        &Policy::default(),
        &brivo(vec![]),
        utc(2026, 12, 3, 19, 0),
    );
    assert!(p.actions.is_empty(), "{p}");
    assert!(
        p.warnings.iter().any(|w| matches!(
            w,
            Warning::BadRecord { problem, .. } if problem.contains("':'")
        )),
        "{p}"
    );
}

/// The user that keeps the identity is known to hold no credential (the
/// runner saw none): the other user may hold the person's only pass, so
/// it keeps every group the person needs.
#[test]
fn the_other_user_keeps_the_persons_groups_while_the_survivor_holds_no_credential() {
    let now = utc(2026, 12, 3, 19, 0);
    let mut survivor = user(40, Some("sync:entrata:200:5009"), "F5009", "L5009", &[2, 3]);
    survivor.holds_credential = Some(false);
    let observed = brivo(vec![
        survivor,
        user(41, Some("sync:entrata:300:5009"), "F5009", "L5009", &[3]),
    ]);
    let p = plan(&transfer(), &mappings(), &Policy::default(), &observed, now);
    assert_eq!(
        changes_of(&p, &UserRef::Existing(BrivoUserId(41))),
        (vec![], vec![]),
        "{p}"
    );
    let held: Vec<&HeldItem> = p
        .held
        .iter()
        .filter(|h| h.user == UserRef::Existing(BrivoUserId(41)))
        .map(|h| &h.item)
        .collect();
    assert_eq!(held, [&HeldItem::RemoveGroup(GroupId(3))], "{p}");
    // once it holds one, the other user is retired
    let mut observed = observed;
    observed.users[0].holds_credential = Some(true);
    let p = plan(&transfer(), &mappings(), &Policy::default(), &observed, now);
    assert_eq!(
        changes_of(&p, &UserRef::Existing(BrivoUserId(41))),
        (vec![], vec![3]),
        "{p}"
    );
}
