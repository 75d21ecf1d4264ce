//! Cards from a pool against the sandbox's Brivo: each new resident with
//! access gets one unassigned card of the pool (by printed prefix, lowest
//! first), once, never a second after a lost run state; cards outside the
//! pool and users the integration does not own are never touched; an empty
//! pool is reported and holds back nobody's revocations. With credential
//! windows on, the card gets its window in the same run.

#![allow(clippy::unwrap_used)] // helpers of tests

mod common;

use std::sync::Arc;

use access_engine::Policy;
use access_state::{MemoryState, RunState};
use access_sync::{ErrorKind, Outcome, Syncer};
use sandbox::{Sandbox, story};

fn syncer(sb: &Sandbox, state: Arc<dyn RunState>) -> Syncer {
    let mut policy = Policy::default();
    policy.card_pool = Some("HV-".into());
    policy.credential_windows = true;
    common::syncer(sb)
        .policy(policy)
        .state_arc(state, "t")
        .build()
}

fn user_of(sb: &Sandbox, customer: &str) -> i64 {
    sb.brivo()
        .snapshot()
        .user_by_external_id(&format!("sync:entrata:{customer}"))
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_new_user_gets_one_card_of_the_pool_with_its_window() {
    let sb = common::start().await;
    let (_, today) = story::instants()[0];
    let bank = sb.brivo();
    bank.add_card("LOBBY-1"); // another pool: never given
    // out of order, more than the storyline's eleven people with access
    for n in [3, 1, 2, 14, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] {
        bank.add_card(&format!("HV-{n:04}"));
    }
    let state: Arc<dyn RunState> = Arc::new(MemoryState::new());
    let first = syncer(&sb, state.clone()).sync_once(today).await.unwrap();
    assert!(first.is_success(), "{:#?}", first.results);
    let evan = user_of(&sb, "5005");
    let cards = |u| sb.brivo().cards_of(u);
    // lowest first, one per user; the card carries Evan's move-out
    let given: Vec<String> = first
        .results
        .iter()
        .filter(|r| r.action.starts_with("card for"))
        .filter_map(|r| match &r.outcome {
            Outcome::Ok { note } => note.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    // the lowest cards, each given once (actions of different users run
    // concurrently, so not in plan order)
    let mut sorted = given.clone();
    sorted.sort();
    let lowest: Vec<String> = (1..=given.len())
        .map(|n| format!("card HV-{n:04}"))
        .collect();
    assert!(given.len() >= 3, "{given:?}");
    assert_eq!(sorted, lowest);
    assert_eq!(cards(evan).len(), 1);
    assert!(cards(evan)[0].starts_with("HV-"));
    let window = sb.brivo().credential_windows(evan);
    assert_eq!(window[0].2.as_deref(), Some("2026-12-31T21:00:00Z"));
    // unowned users keep their hands off the bank
    assert!(cards(story::USER_TERRY_TECH).is_empty());

    // a second run gives none
    let again = syncer(&sb, state.clone()).sync_once(today).await.unwrap();
    assert!(
        !again
            .results
            .iter()
            .any(|r| r.action.starts_with("card for")),
        "{:#?}",
        again.results
    );
    // a lost state: planned again, but the user's credentials are looked at first
    let fresh: Arc<dyn RunState> = Arc::new(MemoryState::new());
    let lost = syncer(&sb, fresh).sync_once(today).await.unwrap();
    assert!(lost.is_success(), "{:#?}", lost.results);
    assert_eq!(cards(evan).len(), 1, "never a second card");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_pool_is_reported_and_holds_back_no_revocation() {
    let sb = common::start().await;
    let (_, today) = story::instants()[0];
    let state: Arc<dyn RunState> = Arc::new(MemoryState::new());
    let report = syncer(&sb, state).sync_once(today).await.unwrap();
    let refused: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.action.starts_with("card for"))
        .collect();
    assert!(!refused.is_empty());
    for r in &refused {
        match &r.outcome {
            Outcome::Failed { error } => {
                assert_eq!(error.kind(), ErrorKind::Rejected);
                assert!(
                    error.to_string().contains("no unassigned card left"),
                    "{error}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    // Fay's revocations went ahead all the same
    let fay = sb.brivo().snapshot();
    assert!(fay.user(story::USER_FAY_FORMER).unwrap().groups.is_empty());
    sb.shutdown().await;
}
