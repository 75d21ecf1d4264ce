//! The backstop (policy `credential_windows`): each owned user's
//! credentials are valid for the span of their access, so that Brivo
//! itself ends access at move-out if the runner stops. The end is the
//! last grant's (none while one is perpetual); the start is written only
//! while access has not begun; an end brought forward is a revocation and
//! waits like one.

mod common;

use access_engine::*;
use chrono::{DateTime, Utc};
use common::{customer, d, lease, property, user, utc};

const NY: &str = "America/New_York";

fn facts(leases: Vec<Lease>) -> Facts {
    let mut f = Facts::default();
    f.properties.push(property("100", NY));
    f.properties.push(property("200", NY));
    f.leases = leases;
    f
}

fn mappings() -> Mappings {
    let mut m = Mappings::default();
    m.properties.insert("100".into(), vec![GroupId(1)]);
    m.properties.insert("200".into(), vec![GroupId(2)]);
    m
}

fn policy() -> Policy {
    common::policy_with(|p| p.credential_windows = true)
}

fn notice(move_out: chrono::NaiveDate) -> Lease {
    lease(
        "L1",
        "100",
        LeaseStatus::Notice,
        Some(d(2025, 1, 1)),
        Some(move_out),
        vec![customer("7", CustomerType::Primary)],
    )
}

fn evan(groups: &[i64], window: Option<CredentialWindow>) -> Observed {
    let mut u = user(40, Some("sync:entrata:7"), "F7", "L7", groups);
    u.credential_window = window;
    Observed::new(vec![u], common::groups(&[1, 2]))
}

fn windows(p: &Plan) -> Vec<(UserRef, CredentialWindow)> {
    p.actions
        .iter()
        .filter_map(|a| match a {
            Action::SetCredentialWindow { user, window, .. } => Some((user.clone(), *window)),
            _ => None,
        })
        .collect()
}

fn w(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> CredentialWindow {
    CredentialWindow::new(from, to)
}

const NOW: (i32, u32, u32) = (2026, 12, 3);

fn now() -> DateTime<Utc> {
    utc(NOW.0, NOW.1, NOW.2, 17, 0)
}

#[test]
fn the_end_is_the_move_out_at_four_pm_local_and_only_the_end_is_written_once_begun() {
    let f = facts(vec![notice(d(2026, 12, 31))]);
    let p = plan(&f, &mappings(), &policy(), &evan(&[1], None), now());
    let end = utc(2026, 12, 31, 21, 0);
    assert_eq!(
        windows(&p),
        [(UserRef::Existing(BrivoUserId(40)), w(None, Some(end)))],
        "{p}"
    );
    assert!(
        p.to_string()
            .contains("credentials until 2026-12-31 21:00Z"),
        "{p}"
    );
    // in step: nothing to write
    let known = CredentialWindow::new(None, Some(end));
    let again = plan(&f, &mappings(), &policy(), &evan(&[1], Some(known)), now());
    assert!(again.is_empty(), "{again}");
    // off by default
    let off = plan(
        &f,
        &mappings(),
        &Policy::default(),
        &evan(&[1], None),
        now(),
    );
    assert!(off.is_empty(), "{off}");
}

#[test]
fn a_transfer_into_a_perpetual_lease_has_no_end_and_a_new_user_gets_its_window() {
    let mut f = facts(vec![notice(d(2026, 12, 5))]);
    f.leases.push(lease(
        "L2",
        "200",
        LeaseStatus::Future,
        Some(d(2026, 12, 1)),
        None,
        vec![customer("7", CustomerType::Primary)],
    ));
    let empty = Observed::new(vec![], common::groups(&[1, 2]));
    let p = plan(&f, &mappings(), &policy(), &empty, now());
    assert_eq!(
        windows(&p),
        [(UserRef::New("sync:entrata:7".into()), w(None, None))],
        "{p}"
    );
    assert!(p.to_string().contains("credentials with no end"), "{p}");
}

#[test]
fn access_not_begun_sets_the_start_too() {
    let f = facts(vec![lease(
        "L3",
        "100",
        LeaseStatus::Future,
        Some(d(2026, 12, 10)),
        Some(d(2027, 6, 30)),
        vec![customer("7", CustomerType::Primary)],
    )]);
    // a user that already exists (say, kept from an earlier lease)
    let p = plan(&f, &mappings(), &policy(), &evan(&[], None), now());
    assert_eq!(
        windows(&p),
        [(
            UserRef::Existing(BrivoUserId(40)),
            w(
                Some(utc(2026, 12, 10, 15, 0)),
                Some(utc(2027, 6, 30, 20, 0))
            )
        )],
        "{p}"
    );
}

#[test]
fn an_earlier_end_waits_for_an_incomplete_scope_a_later_one_does_not() {
    let known = CredentialWindow::new(None, Some(utc(2026, 12, 31, 21, 0)));
    let mut f = facts(vec![notice(d(2026, 12, 20))]);
    f.completeness
        .mark_incomplete(Scope::Property("200".into()), "getLeases failed: 503");
    let p = plan(&f, &mappings(), &policy(), &evan(&[1], Some(known)), now());
    assert!(windows(&p).is_empty(), "{p}");
    let held: Vec<(&HeldItem, &HoldRule)> = p.held.iter().map(|h| (&h.item, &h.rule)).collect();
    assert_eq!(
        held,
        [(
            &HeldItem::CredentialWindow,
            &HoldRule::Incomplete {
                scope: Scope::Property("200".into())
            }
        )],
        "{p}"
    );
    // a renewal that moves the end later is no revocation: written at once
    let mut renewed = f.clone();
    renewed.leases[0] = notice(d(2027, 6, 30));
    let p = plan(
        &renewed,
        &mappings(),
        &policy(),
        &evan(&[1], Some(known)),
        now(),
    );
    assert_eq!(
        windows(&p),
        [(
            UserRef::Existing(BrivoUserId(40)),
            w(None, Some(utc(2027, 6, 30, 20, 0)))
        )],
        "{p}"
    );
}

/// A card from the pool (policy `card_pool`): once per owned user with
/// access, for new users in the same plan; never for a user without access.
#[test]
fn a_card_from_the_pool_is_planned_once_per_user_with_access() {
    let policy = common::policy_with(|p| p.card_pool = Some("HV-".into()));
    let cards = |p: &Plan| -> Vec<UserRef> {
        p.actions
            .iter()
            .filter_map(|a| match a {
                Action::AssignCard { user, pool, .. } if pool == "HV-" => Some(user.clone()),
                _ => None,
            })
            .collect()
    };
    let f = facts(vec![notice(d(2026, 12, 31))]);
    let p = plan(&f, &mappings(), &policy, &evan(&[1], None), now());
    assert_eq!(cards(&p), [UserRef::Existing(BrivoUserId(40))], "{p}");
    assert!(
        p.to_string().contains("card      user 40 from pool HV-"),
        "{p}"
    );
    let mut given = evan(&[1], None);
    given.users[0].card_assigned = true;
    assert!(plan(&f, &mappings(), &policy, &given, now()).is_empty());
    let empty = Observed::new(vec![], common::groups(&[1, 2]));
    let p = plan(&f, &mappings(), &policy, &empty, now());
    assert_eq!(cards(&p), [UserRef::New("sync:entrata:7".into())], "{p}");
    // moved out: no card
    let gone = facts(vec![notice(d(2026, 11, 30))]);
    let p = plan(&gone, &mappings(), &policy, &evan(&[], None), now());
    assert!(cards(&p).is_empty(), "{p}");
}

/// Credentials per source (`credential_sources`): residents left out get
/// neither an invitation nor a card; the backstop still covers them.
#[test]
fn credentials_go_only_to_the_chosen_sources() {
    let policy = common::policy_with(|p| {
        p.card_pool = Some("HV-".into());
        p.invite_mobile_pass = true;
        p.credential_windows = true;
        p.credential_sources = vec![Source::OfficeRnd];
    });
    let mut f = facts(vec![notice(d(2026, 12, 31))]);
    f.leases[0].customers[0].profile.email = Some("f7@example.com".into());
    let mut observed = evan(&[1], None);
    observed.users[0].emails = vec!["f7@example.com".into()];
    let p = plan(&f, &mappings(), &policy, &observed, now());
    let kinds: Vec<&str> = p
        .actions
        .iter()
        .map(|a| match a {
            Action::AssignCard { .. } => "card",
            Action::InviteMobilePass { .. } => "invite",
            Action::SetCredentialWindow { .. } => "window",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["window"], "{p}");
    let all = common::policy_with(|p| {
        p.card_pool = Some("HV-".into());
        p.invite_mobile_pass = true;
    });
    let p = plan(&f, &mappings(), &all, &observed, now());
    assert_eq!(p.actions.len(), 2, "{p}");
    assert!(p.to_string().contains("invite"), "{p}");
}

/// A start in the future would close the door now: never written on a
/// user who keeps a group whose removal is held (a property that could not
/// be read may be where they live now).
#[test]
fn no_future_start_on_a_user_whose_removal_is_held() {
    let mut f = facts(vec![lease(
        "L2",
        "200",
        LeaseStatus::Future,
        Some(d(2026, 12, 10)),
        None,
        vec![customer("7", CustomerType::Primary)],
    )]);
    f.completeness
        .mark_incomplete(Scope::Property("100".into()), "getLeases failed: 503");
    let p = plan(&f, &mappings(), &policy(), &evan(&[1], None), now());
    assert_eq!(
        windows(&p),
        [(UserRef::Existing(BrivoUserId(40)), w(None, None))],
        "{p}"
    );
    assert_eq!(p.held.len(), 1, "{p}"); // the removal of group 1
}

/// A start written while access had not begun is brought back when the
/// move-in moves earlier: otherwise Brivo keeps the door shut until then.
#[test]
fn a_start_written_before_is_brought_back_when_access_begins_earlier() {
    let known = w(Some(utc(2026, 12, 10, 15, 0)), None);
    let f = facts(vec![lease(
        "L3",
        "100",
        LeaseStatus::Current,
        Some(d(2026, 12, 1)),
        None,
        vec![customer("7", CustomerType::Primary)],
    )]);
    let p = plan(&f, &mappings(), &policy(), &evan(&[], Some(known)), now());
    assert_eq!(
        windows(&p),
        [(
            UserRef::Existing(BrivoUserId(40)),
            w(Some(utc(2026, 12, 1, 15, 0)), None)
        )],
        "{p}"
    );
}

/// Ends brought forward count against the mass-revocation threshold: a
/// source that moves every move-out earlier at once would otherwise reach
/// the doors through Brivo's own windows while the removals are held.
#[test]
fn windows_closing_earlier_count_as_revocations() {
    let mut f = facts(vec![]);
    let mut users = Vec::new();
    for (n, c) in ["7", "8", "9"].into_iter().enumerate() {
        f.leases.push(lease(
            &format!("L{c}"),
            "100",
            LeaseStatus::Notice,
            Some(d(2025, 1, 1)),
            Some(d(2026, 12, 20)),
            vec![customer(c, CustomerType::Primary)],
        ));
        let mut u = user(
            40 + n as i64,
            Some(&format!("sync:entrata:{c}")),
            &format!("F{c}"),
            &format!("L{c}"),
            &[1],
        );
        u.credential_window = Some(w(None, Some(utc(2027, 6, 30, 20, 0))));
        users.push(u);
    }
    let observed = Observed::new(users, common::groups(&[1, 2]));
    let mut guarded = policy();
    guarded.revocation_threshold = common::threshold(Some(2), None);
    let p = plan(&f, &mappings(), &guarded, &observed, now());
    assert!(windows(&p).is_empty(), "{p}");
    assert_eq!(p.held.len(), 3, "{p}");
    assert!(
        p.held.iter().all(|h| h.item == HeldItem::CredentialWindow
            && matches!(h.rule, HoldRule::MassRevocation { revocations: 3, .. })),
        "{p}"
    );
    // approved for this run: written
    let mut approved = f.clone();
    approved.baseline.approved.insert("revocations:3".into());
    let p = plan(&approved, &mappings(), &guarded, &observed, now());
    assert_eq!(windows(&p).len(), 3, "{p}");
}
