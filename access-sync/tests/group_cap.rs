//! End-to-end: Brivo's 16-group cap, against the sandbox's Brivo. A user
//! counts every group they are in, managed or not, so the engine (which
//! sees managed groups only) cannot foresee the refusal; the sandbox, like
//! Brivo's documented answer, refuses the whole call with a plain 400 that
//! names no cause. The runner must tell the cap by re-reading the user's
//! groups, apply the removals anyway and hold the additions.

#![allow(clippy::unwrap_used)] // helpers of tests

mod common;

use std::collections::BTreeSet;

use access_engine::{Action, GroupId, HeldItem, HoldRule, UserRef};
use access_sync::{ErrorKind, Outcome, SyncReport};
use sandbox::{NewBrivoUser, Sandbox, story};

/// Alice Nguyen: Current lease 1001 at Harbor View grants 7101 and 7102.
const ALICE: &str = "sync:entrata:5001";

const GROUPS_ROUTE: &str = "POST /v1/api/users/{id}/groups";
const REREAD_ROUTE: &str = "GET /v1/api/users/{id}/groups";

fn today() -> chrono::DateTime<chrono::Utc> {
    story::instants()[0].1
}

/// Seeds Alice, owned, in Sunset Terrace's residents group (7301, managed:
/// she must leave it) and in `unmanaged` groups the integration does not
/// manage. Returns her id and those groups.
fn seed_alice(sb: &Sandbox, unmanaged: usize) -> (i64, BTreeSet<i64>) {
    let brivo = sb.brivo();
    let others: BTreeSet<i64> = (0..unmanaged)
        .map(|i| brivo.add_group(format!("Amenity {i}")))
        .collect();
    let mut alice = NewBrivoUser::new("Alice", "Nguyen")
        .external_id(ALICE)
        .email("alice.nguyen@example.com")
        .group(story::GROUP_SUNSET_RESIDENTS);
    for g in &others {
        alice = alice.group(*g);
    }
    (brivo.add_user(alice), others)
}

/// Alice's group change in the plan, and its outcome.
fn alice_change(report: &SyncReport, alice: i64) -> (Vec<i64>, Vec<i64>, &Outcome) {
    let (i, add, remove) = report
        .plan
        .actions
        .iter()
        .enumerate()
        .find_map(|(i, a)| match a {
            Action::ChangeGroups {
                user: UserRef::Existing(u),
                add,
                remove,
            } if u.0 == alice => Some((i, add, remove)),
            _ => None,
        })
        .expect("a group change for Alice");
    let ids = |l: &[access_engine::GroupChange]| l.iter().map(|c| c.group.0).collect();
    let outcome = &report
        .results
        .iter()
        .find(|r| r.index == i)
        .unwrap()
        .outcome;
    (ids(add), ids(remove), outcome)
}

fn route(sb: &Sandbox, r: &str) -> u64 {
    sb.brivo().stats().by_route.get(r).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundled_removal_is_applied_while_over_cap_additions_are_held() {
    let sb = common::start().await;
    // 7301 + 15 unmanaged = 16; -7301 +7101 +7102 would make 17.
    let (alice, unmanaged) = seed_alice(&sb, 15);
    let syncer = common::syncer(&sb).build();

    let report = syncer.sync_once(today()).await.unwrap();
    let (add, remove, outcome) = alice_change(&report, alice);
    assert_eq!(add, [7101, 7102]);
    assert_eq!(remove, [7301]);
    assert!(
        report.plan.held.is_empty(),
        "the engine counts managed groups only: {}",
        report.plan
    );
    let Outcome::Held { note, held } = outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        note.starts_with("removed -[7301]; held +[7101,7102]:"),
        "{note}"
    );
    assert!(
        note.contains("the user is in 16 groups (15 not managed by this integration)"),
        "{note}"
    );
    assert!(
        note.contains("would make 17, over the limit of 16"),
        "{note}"
    );
    assert_eq!(held, &report.held);
    assert_eq!(
        report.held.iter().map(|h| &h.item).collect::<Vec<_>>(),
        [
            &HeldItem::AddGroup(GroupId(7101)),
            &HeldItem::AddGroup(GroupId(7102))
        ]
    );
    for h in &report.held {
        assert_eq!(h.user, UserRef::Existing(access_engine::BrivoUserId(alice)));
        assert_eq!(
            h.rule,
            HoldRule::TooManyGroups {
                desired: 17,
                max: 16
            }
        );
        assert!(
            h.reasons.iter().any(|r| r.to_string().contains("1001")),
            "the plan's reasons (lease 1001) are kept: {:?}",
            h.reasons
        );
    }
    assert_eq!(report.failed(), 0, "{:#?}", report.results);
    assert_eq!(report.held_back(), 1);
    assert_eq!(report.succeeded(), report.results.len() - 1);

    let s = sb.brivo().snapshot();
    assert_eq!(
        s.user(alice).unwrap().groups,
        unmanaged,
        "7301 removed, 7101/7102 not added, the unmanaged groups untouched"
    );
    assert_eq!(route(&sb, REREAD_ROUTE), 1, "one re-read, for Alice only");

    // A later run tries the additions again and still holds them; the
    // removal is not sent again (it happened; the plan no longer has it).
    sb.reset_brivo_counters();
    let again = syncer.sync_once(today()).await.unwrap();
    assert_eq!(again.plan.actions.len(), 1, "{}", again.plan);
    let (add, remove, outcome) = alice_change(&again, alice);
    assert_eq!((add, remove), (vec![7101, 7102], vec![]));
    let Outcome::Held { note, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        note.starts_with("nothing to remove; held +[7101,7102]:"),
        "{note}"
    );
    assert!(note.contains("in 15 groups (15 not managed"), "{note}");
    assert_eq!(again.held.len(), 2);
    assert_eq!(
        (route(&sb, GROUPS_ROUTE), route(&sb, REREAD_ROUTE)),
        (1, 1),
        "the refused change and the re-read, no removal call"
    );
    assert_eq!(sb.brivo().snapshot().user(alice).unwrap().groups, unmanaged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_400_that_is_not_the_cap_fails_the_additions_and_still_applies_the_removals() {
    let sb = common::start().await;
    let (alice, unmanaged) = seed_alice(&sb, 2);
    sb.brivo().refuse_group_additions(alice);
    let syncer = common::syncer(&sb).build();

    let report = syncer.sync_once(today()).await.unwrap();
    let (add, remove, outcome) = alice_change(&report, alice);
    assert_eq!((add, remove), (vec![7101, 7102], vec![7301]));
    let Outcome::Failed { error } = outcome else {
        panic!("{outcome:?}");
    };
    // Typed: Brivo's plain 400 is a refusal, not worth a retry, and the
    // client's error is still there.
    assert_eq!(error.kind(), ErrorKind::Rejected, "{error}");
    assert!(!error.is_retryable() && !error.is_throttle() && !error.is_auth());
    assert_eq!(error.brivo().and_then(|e| e.status()), Some(400));
    let error = error.to_string();
    assert!(
        error.contains("400") && error.contains("linked group"),
        "the original error: {error}"
    );
    assert!(
        error.contains("the removals were sent alone and applied"),
        "{error}"
    );
    assert!(report.held.is_empty(), "{:?}", report.held);
    assert_eq!(report.failed(), 1, "{:#?}", report.results);
    assert_eq!(
        route(&sb, REREAD_ROUTE),
        1,
        "the re-read showed room: 3 - 1 + 2 = 4 groups"
    );
    // Removals never wait on additions, whatever refused them.
    assert_eq!(
        sb.brivo().snapshot().user(alice).unwrap().groups,
        unmanaged,
        "7301 removed; the refused additions not applied"
    );
}
