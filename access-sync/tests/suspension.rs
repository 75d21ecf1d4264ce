//! Against the sandbox's Brivo: a resident an operator suspended by hand
//! stays suspended through runs, and the plan says why.

#![allow(clippy::unwrap_used)] // helpers of tests

mod common;

use access_engine::{HeldItem, UserRef};
use sandbox::story;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_suspension_survives_a_run_and_the_plan_says_so() {
    let sb = common::start().await;
    let syncer = common::syncer(&sb).build();
    let (_, today) = story::instants()[0];
    assert!(syncer.sync_once(today).await.unwrap().is_success());

    let alice = sb
        .brivo()
        .snapshot()
        .users
        .into_iter()
        .find(|u| {
            u.external_id
                .as_deref()
                .is_some_and(|x| x.ends_with(&format!(":{}", story::CUSTOMER_ALICE)))
        })
        .expect("Alice has a Brivo user after the first run");
    // an operator suspends her in Brivo (as the Brivo web console would)
    common::brivo_client(&sb)
        .suspend_user(brivo_client::UserId(alice.id))
        .await
        .unwrap();

    for _ in 0..2 {
        let r = syncer.sync_once(today).await.unwrap();
        let held = r
            .plan
            .held
            .iter()
            .find(|h| h.item == HeldItem::Unsuspend)
            .expect("held, with a reason");
        assert_eq!(
            held.user,
            UserRef::Existing(access_engine::BrivoUserId(alice.id))
        );
        assert_eq!(
            held.rule.approval(),
            Some(format!("unsuspend:{}", alice.id))
        );
    }
    let now = sb.brivo().snapshot();
    assert!(
        now.users
            .iter()
            .find(|u| u.id == alice.id)
            .unwrap()
            .suspended,
        "still suspended"
    );
}
