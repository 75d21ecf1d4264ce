//! Adopt-by-email against the sandbox's Brivo: a clean unowned user is
//! adopted; one carrying another integration's external id, or one the
//! runner finds in a group it does not manage, never is.

#![allow(clippy::unwrap_used)] // helpers of tests

mod common;

use access_engine::{Policy, Warning};
use access_sync::Outcome;
use sandbox::{NewBrivoUser, story};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adoption_takes_only_users_no_one_else_claims() {
    let sb = common::start().await;
    let brivo = sb.brivo();
    let clean =
        brivo.add_user(NewBrivoUser::new("Alice", "Nguyen").email("alice.nguyen@example.com"));
    let foreign = brivo.add_user(
        NewBrivoUser::new("Bob", "Okafor")
            .email("bob.okafor@example.com")
            .external_id("butterflymx:991"),
    );
    // a staff member whose email a resident typed as their own
    let staff = brivo.add_user(
        NewBrivoUser::new("Evan", "Brooks")
            .email("evan.brooks@example.com")
            .group(story::GROUP_BUILDING_STAFF),
    );
    let mut policy = Policy::default();
    policy.adopt_by_email = true;
    let state: std::sync::Arc<dyn access_state::RunState> =
        std::sync::Arc::new(access_state::MemoryState::new());
    let syncer = common::syncer(&sb)
        .policy(policy)
        .state_arc(state, "t")
        .build();
    let (_, today) = story::instants()[0];

    let first = syncer.sync_once(today).await.unwrap();
    let snap = sb.brivo().snapshot();
    let user = |id| snap.users.iter().find(|u| u.id == id).unwrap().clone();
    assert_eq!(
        user(clean).external_id.as_deref(),
        Some(format!("sync:entrata:{}", story::CUSTOMER_ALICE).as_str()),
        "the clean match is adopted"
    );
    assert!(
        user(clean)
            .groups
            .contains(&story::GROUP_HARBOR_VIEW_RESIDENTS)
    );
    assert_eq!(
        user(foreign).external_id.as_deref(),
        Some("butterflymx:991"),
        "another integration's user is left alone"
    );
    assert!(
        first
            .plan
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::AdoptionRefused { user, .. } if user.0 == foreign))
    );
    // the staff user: refused when the runner looked, before writing anything
    let refused = first
        .results
        .iter()
        .find(|r| r.action.starts_with("adopt") && r.action.contains(&staff.to_string()))
        .unwrap_or_else(|| panic!("an adoption of {staff} was tried: {:#?}", first.results));
    assert!(
        matches!(&refused.outcome, Outcome::Skipped { reason } if reason.contains("does not manage")),
        "{:?}",
        refused.outcome
    );
    assert_eq!(user(staff).external_id, None);
    assert_eq!(
        user(staff).groups,
        [story::GROUP_BUILDING_STAFF].into_iter().collect()
    );

    // the next run remembers, warns, and gives Evan a user of his own
    let second = syncer.sync_once(today).await.unwrap();
    assert!(
        second
            .plan
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::AdoptionRefused { user, .. } if user.0 == staff))
    );
    let snap = sb.brivo().snapshot();
    let evans: Vec<_> = snap
        .users
        .iter()
        .filter(|u| u.first_name == "Evan")
        .collect();
    assert_eq!(evans.len(), 2, "the staff user and Evan's own");
    assert!(
        evans
            .iter()
            .any(|u| u.id != staff && u.groups.contains(&story::GROUP_HARBOR_VIEW_RESIDENTS))
    );
    assert_eq!(
        snap.users.iter().find(|u| u.id == staff).unwrap().groups,
        [story::GROUP_BUILDING_STAFF].into_iter().collect()
    );
}
