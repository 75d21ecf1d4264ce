//! Brivo Mobile Pass invitations against the sandbox's Brivo: a new resident
//! receives one invitation, never two across re-runs or a lost run state
//! (a crash between sending and recording), and a second one only when an
//! operator asks.

#![allow(clippy::unwrap_used)] // helpers of tests

mod common;

use std::sync::Arc;

use access_engine::Policy;
use access_state::{MemoryState, RunState};
use access_sync::{Outcome, Syncer};
use sandbox::{Sandbox, story};

fn syncer(sb: &Sandbox, state: Arc<dyn RunState>) -> Syncer {
    let mut policy = Policy::default();
    policy.invite_mobile_pass = true;
    common::syncer(sb)
        .policy(policy)
        .state_arc(state, "t")
        .build()
}

fn alice(sb: &Sandbox) -> i64 {
    sb.brivo()
        .snapshot()
        .users
        .iter()
        .find(|u| {
            u.external_id
                .as_deref()
                .is_some_and(|x| x.ends_with(&format!(":{}", story::CUSTOMER_ALICE)))
        })
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_invitation_per_resident_across_reruns_and_a_lost_state() {
    let sb = common::start().await;
    let (_, today) = story::instants()[0];
    let state: Arc<dyn RunState> = Arc::new(MemoryState::new());
    let first = syncer(&sb, state.clone()).sync_once(today).await.unwrap();
    assert!(first.is_success(), "{first:?}");
    let alice = alice(&sb);
    assert_eq!(
        sb.brivo().invitations(alice),
        [("alice.nguyen@example.com".to_owned(), "PENDING".to_owned())]
    );
    // the invitation comes after the user exists and has its groups
    let order: Vec<&str> = first
        .results
        .iter()
        .map(|r| r.action.split(' ').next().unwrap())
        .collect();
    let pos = |kind: &str| order.iter().position(|k| *k == kind).unwrap();
    assert!(
        pos("create") < pos("groups") && pos("groups") < pos("invite"),
        "{order:?}"
    );

    // a second run plans none
    let again = syncer(&sb, state.clone()).sync_once(today).await.unwrap();
    assert!(
        !again.results.iter().any(|r| r.action.starts_with("invite")),
        "{:?}",
        again.results
    );

    // the run state is lost (a crash after sending, a new store): the runner
    // plans the invitation again, looks first, and sends none
    let fresh: Arc<dyn RunState> = Arc::new(MemoryState::new());
    let lost = syncer(&sb, fresh.clone()).sync_once(today).await.unwrap();
    let tried = lost
        .results
        .iter()
        .find(|r| r.action.starts_with("invite") && r.action.contains(&alice.to_string()))
        .expect("planned again without the record");
    assert!(
        matches!(&tried.outcome, Outcome::Ok { note: Some(n) } if n.contains("already holds")),
        "{:?}",
        tried.outcome
    );
    assert_eq!(sb.brivo().invitations(alice).len(), 1, "never two");

    // she redeems it, loses her phone, and an operator asks for a new one
    assert!(sb.brivo().redeem_invitation(alice));
    let s = syncer(&sb, fresh.clone());
    s.approve(&format!("invite:{alice}"), "ops").await.unwrap();
    let reissued = s.sync_once(today).await.unwrap();
    assert!(reissued.is_success());
    assert_eq!(
        sb.brivo().invitations(alice),
        [
            ("alice.nguyen@example.com".to_owned(), "REDEEMED".to_owned()),
            ("alice.nguyen@example.com".to_owned(), "PENDING".to_owned())
        ]
    );
}
