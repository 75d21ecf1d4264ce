//! One person across sources (policy `same_person`): a resident who is also
//! a coworking member is one Brivo user with the union of the grants, when
//! the operator links the two records or trusts both sources' emails. An
//! email that names two records of one source merges nothing and is warned
//! about. Users that already exist migrate to one without a lockout.

mod common;

use access_engine::*;
use common::{apply, changes_of, d, lease, property, user, utc};

const NY: &str = "America/New_York";

fn facts(member_email: &str) -> Facts {
    let mut f = Facts::default();
    f.properties.push(property("100", NY));
    f.leases.push(lease(
        "L1",
        "100",
        LeaseStatus::Current,
        Some(d(2025, 1, 1)),
        None,
        vec![Customer::new(
            "5009",
            CustomerType::Primary,
            Profile::new("Ivan", "Petrov").with_email("Ivan.Petrov@example.com"),
        )],
    ));
    f.locations.push(Location::new("l1", NY));
    f.members.push(Member::new(
        "m1",
        Profile::new("Ivan", "Petrov").with_email(member_email),
    ));
    f.memberships.push(
        Membership::new("ms1", "hot-desk", "l1", MembershipStatus::Active)
            .with_member("m1")
            .with_start(d(2026, 1, 1)),
    );
    f
}

fn mappings() -> Mappings {
    let mut m = Mappings::default();
    m.properties.insert("100".into(), vec![GroupId(1)]);
    m.plans.insert("hot-desk".into(), vec![GroupId(6)]);
    m
}

fn policy(f: impl FnOnce(&mut SamePerson)) -> Policy {
    common::policy_with(|p| f(&mut p.same_person))
}

fn linked() -> Policy {
    policy(|s| s.links = vec![["officernd:m1".into(), "entrata:5009".into()]])
}

fn by_email() -> Policy {
    policy(|s| s.by_email = vec![Source::Entrata, Source::OfficeRnd])
}

fn brivo(users: Vec<ObservedUser>) -> Observed {
    Observed::new(users, common::groups(&[1, 6]))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    utc(2026, 12, 3, 17, 0)
}

fn creates(p: &Plan) -> Vec<&str> {
    p.actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateUser { external_id, .. } => Some(external_id.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_linked_resident_and_member_are_one_user_with_both_grants() {
    let f = facts("ivan@work.example");
    let p = plan(&f, &mappings(), &linked(), &brivo(vec![]), now());
    assert_eq!(creates(&p), ["sync:entrata:5009"], "{p}");
    let who = UserRef::New("sync:entrata:5009".into());
    assert_eq!(changes_of(&p, &who), (vec![1, 6], vec![]), "{p}");
    // the resident's own profile, not the member's
    assert!(p.to_string().contains("Ivan.Petrov@example.com"), "{p}");
    let text = p.to_string();
    assert!(text.contains("lease L1"), "{text}");
    assert!(text.contains("membership ms1"), "{text}");
    // each source's scope still counts the person
    let named: Vec<(String, usize)> = p
        .scopes
        .iter()
        .map(|s| (s.scope.to_string(), s.people))
        .collect();
    assert_eq!(
        named,
        [
            ("property 100".to_owned(), 1),
            ("location l1".to_owned(), 1)
        ]
    );
    // without the rule: two users
    let apart = plan(&f, &mappings(), &Policy::default(), &brivo(vec![]), now());
    assert_eq!(
        creates(&apart),
        ["sync:entrata:5009", "sync:officernd:m1"],
        "{apart}"
    );
}

#[test]
fn trusted_emails_merge_whatever_their_case_and_spaces() {
    let p = plan(
        &facts("  ivan.petrov@EXAMPLE.com "),
        &mappings(),
        &by_email(),
        &brivo(vec![]),
        now(),
    );
    assert_eq!(creates(&p), ["sync:entrata:5009"], "{p}");
    // another email: two people
    let p = plan(
        &facts("ivan@work.example"),
        &mappings(),
        &by_email(),
        &brivo(vec![]),
        now(),
    );
    assert_eq!(creates(&p).len(), 2, "{p}");
}

#[test]
fn an_email_naming_two_residents_merges_nothing_and_says_so() {
    let mut f = facts("ivan.petrov@example.com");
    f.leases.push(lease(
        "L2",
        "100",
        LeaseStatus::Current,
        Some(d(2025, 1, 1)),
        None,
        vec![Customer::new(
            "5010",
            CustomerType::Occupant,
            Profile::new("Ivana", "Petrov").with_email("ivan.petrov@example.com"),
        )],
    ));
    let p = plan(&f, &mappings(), &by_email(), &brivo(vec![]), now());
    assert_eq!(creates(&p).len(), 3, "{p}");
    let conflict = p
        .warnings
        .iter()
        .find_map(|w| match w {
            Warning::SamePersonConflict { records, why } => Some((records, why)),
            _ => None,
        })
        .expect("a warning");
    assert!(
        conflict.1.contains("ivan.petrov@example.com"),
        "{}",
        conflict.1
    );
    assert_eq!(
        conflict.0,
        &["entrata:5009", "entrata:5010", "officernd:m1"]
    );
}

/// The member's user (id 20) and the resident's (id 50) exist: the
/// resident's keeps the person; the member's keeps group 6 until the
/// resident's holds it, then is retired.
#[test]
fn two_existing_users_merge_without_a_lockout() {
    let f = facts("ivan@work.example");
    let observed = brivo(vec![
        user(20, Some("sync:officernd:m1"), "Ivan", "Petrov", &[6]),
        user(50, Some("sync:entrata:5009"), "Ivan", "Petrov", &[1]),
    ]);
    let first = plan(&f, &mappings(), &linked(), &observed, now());
    assert_eq!(
        changes_of(&first, &UserRef::Existing(BrivoUserId(50))),
        (vec![6], vec![]),
        "{first}"
    );
    assert_eq!(
        changes_of(&first, &UserRef::Existing(BrivoUserId(20))),
        (vec![], vec![]),
        "{first}"
    );
    let held: Vec<(&HeldItem, &HoldRule)> = first.held.iter().map(|h| (&h.item, &h.rule)).collect();
    assert_eq!(
        held,
        [(
            &HeldItem::RemoveGroup(GroupId(6)),
            &HoldRule::Merging {
                survivor: BrivoUserId(50)
            }
        )],
        "{first}"
    );
    let after = apply(&first, &observed);
    let second = plan(&f, &mappings(), &linked(), &after, now());
    assert_eq!(
        changes_of(&second, &UserRef::Existing(BrivoUserId(20))),
        (vec![], vec![6]),
        "{second}"
    );
    let done = apply(&second, &after);
    assert!(plan(&f, &mappings(), &linked(), &done, now()).is_empty());
}

/// Only the member's user exists: it becomes the person's, rekeyed to the
/// resident's id, and gains the lease's group.
#[test]
fn the_members_user_is_given_the_residents_id() {
    let f = facts("ivan@work.example");
    let observed = brivo(vec![user(
        20,
        Some("sync:officernd:m1"),
        "Ivan",
        "Petrov",
        &[6],
    )]);
    let p = plan(&f, &mappings(), &linked(), &observed, now());
    let rekey = p
        .actions
        .iter()
        .find_map(|a| match a {
            Action::SetExternalId {
                user,
                from,
                external_id,
                reasons,
            } => Some((user.0, from.as_str(), external_id.as_str(), reasons[0].rule)),
            _ => None,
        })
        .expect("a rekey");
    assert_eq!(
        rekey,
        (
            20,
            "sync:officernd:m1",
            "sync:entrata:5009",
            Rule::SamePerson
        ),
        "{p}"
    );
    assert!(creates(&p).is_empty(), "{p}");
    assert_eq!(
        changes_of(&p, &UserRef::Existing(BrivoUserId(20))),
        (vec![1], vec![])
    );
    let after = apply(&p, &observed);
    assert!(plan(&f, &mappings(), &linked(), &after, now()).is_empty());
}

/// With records merged, a resident's user is suspended or deleted only
/// when OfficeRnD was read too: their membership may be what is missing.
#[test]
fn removing_a_merged_user_waits_for_every_source() {
    let mut f = facts("ivan@work.example");
    f.leases[0] = lease(
        "L1",
        "100",
        LeaseStatus::Past,
        Some(d(2025, 1, 1)),
        Some(d(2026, 11, 30)),
        vec![Customer::new(
            "5009",
            CustomerType::Primary,
            Profile::new("Ivan", "Petrov").with_email("Ivan.Petrov@example.com"),
        )],
    );
    f.members.clear();
    f.memberships.clear();
    f.completeness.mark_incomplete(
        Scope::Source(Source::OfficeRnd),
        "OfficeRnD token request failed: 503",
    );
    let observed = brivo(vec![user(
        50,
        Some("sync:entrata:5009"),
        "Ivan",
        "Petrov",
        &[1, 6],
    )]);
    let mut policy = linked();
    policy.no_access = NoAccessPolicy::Delete;
    let p = plan(&f, &mappings(), &policy, &observed, now());
    assert!(
        !p.actions.iter().any(|a| matches!(a, Action::Delete { .. })),
        "{p}"
    );
    let held: Vec<&HeldItem> = p.held.iter().map(|h| &h.item).collect();
    assert_eq!(held, [&HeldItem::Delete], "{p}");
}

/// A link and an email that would chain two residents to one member merge
/// nothing: resident 5010 typing the linked member's email never gets
/// resident 5009's access (nor the other way round).
#[test]
fn links_and_emails_never_chain_two_residents() {
    let mut f = facts("ivan@work.example");
    f.leases.push(lease(
        "L2",
        "100",
        LeaseStatus::Current,
        Some(d(2025, 1, 1)),
        None,
        vec![Customer::new(
            "5010",
            CustomerType::Primary,
            Profile::new("Mallory", "M").with_email("IVAN@work.example"),
        )],
    ));
    let mut both = linked();
    both.same_person.by_email = vec![Source::Entrata, Source::OfficeRnd];
    let p = plan(&f, &mappings(), &both, &brivo(vec![]), now());
    assert_eq!(
        creates(&p),
        [
            "sync:entrata:5010",
            "sync:entrata:5009",
            "sync:officernd:m1"
        ],
        "{p}"
    );
    assert!(
        p.warnings.iter().any(|w| matches!(
            w,
            Warning::SamePersonConflict { records, .. }
                if records == &["entrata:5009", "entrata:5010", "officernd:m1"]
        )),
        "{p}"
    );
}

/// No email merges while a property or location was not read completely:
/// a resident with the same email may be the one missing.
#[test]
fn emails_merge_nothing_while_a_scope_is_incomplete() {
    let mut f = facts("ivan.petrov@example.com");
    f.properties.push(property("200", NY));
    f.completeness
        .mark_incomplete(Scope::Property("200".into()), "getLeases failed: 503");
    let p = plan(&f, &mappings(), &by_email(), &brivo(vec![]), now());
    assert_eq!(creates(&p).len(), 2, "{p}");
}

/// The resident's record leaves the batch (a cancelled lease), the member
/// stays: the person's user, keyed by the resident, is the member's again
/// (rekeyed back, keeping its credentials), not retired.
#[test]
fn a_linked_person_keeps_their_user_when_the_first_record_leaves() {
    let mut f = facts("ivan@work.example");
    f.leases.clear();
    let observed = brivo(vec![user(
        50,
        Some("sync:entrata:5009"),
        "Ivan",
        "Petrov",
        &[1, 6],
    )]);
    let p = plan(&f, &mappings(), &linked(), &observed, now());
    let rekeyed: Vec<(&str, &str)> = p
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::SetExternalId {
                from, external_id, ..
            } => Some((from.as_str(), external_id.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(rekeyed, [("sync:entrata:5009", "sync:officernd:m1")], "{p}");
    assert!(creates(&p).is_empty(), "{p}");
    // the lease's group goes, the membership's stays
    assert_eq!(
        changes_of(&p, &UserRef::Existing(BrivoUserId(50))),
        (vec![], vec![1]),
        "{p}"
    );
}
