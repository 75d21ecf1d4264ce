//! Changes made by hand in Brivo, against the sandbox's Brivo: between full
//! observations the runner plans from what it last saw (and reads again
//! only the users it writes), so a hand edit to anyone else waits for the
//! next full reconciliation, which corrects it.

mod common;

use std::time::Duration;

use access_sync::ManualClock;
use chrono::TimeDelta;
use sandbox::{NewBrivoUser, Sandbox, story};

const ALICE: &str = "sync:entrata:5001";
const RESIDENTS: i64 = 7101;
const AMENITIES: i64 = 7102;

fn groups_of(sb: &Sandbox, external_id: &str) -> Vec<i64> {
    sb.brivo()
        .snapshot()
        .user_by_external_id(external_id)
        .map(|u| u.groups.iter().copied().collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_edit_is_corrected_by_the_next_full_reconciliation() {
    let sb = common::start().await;
    let (_, today) = story::instants()[0];
    let clock = ManualClock::new(today);
    let syncer = common::syncer(&sb)
        .clock(clock.clone())
        .full_reconciliation_every(Duration::from_secs(24 * 3600))
        .build();
    let first = syncer.sync_due(today).await.expect("run 1");
    assert!(first.observed_fully && first.is_success());
    assert_eq!(groups_of(&sb, ALICE), [RESIDENTS, AMENITIES]);
    let alice = sb.brivo().snapshot().user_by_external_id(ALICE).unwrap().id;

    // In Brivo's console: Alice loses the residents' door, and a contractor
    // is let into the amenities.
    sb.brivo().remove_member(RESIDENTS, alice);
    let contractor = sb
        .brivo()
        .add_user(NewBrivoUser::new("Casey", "Contractor").group(AMENITIES));

    // An hour later: the runner has no reason to write either; it does not
    // see the edits (no full read of Brivo)
    let later = today + TimeDelta::hours(1);
    clock.set(later);
    let r = syncer.sync_due(later).await.expect("run 2");
    assert!(!r.observed_fully);
    assert_eq!(groups_of(&sb, ALICE), [AMENITIES]);

    // The daily full reconciliation finds and corrects both.
    let next_day = today + TimeDelta::hours(24);
    clock.set(next_day);
    let r = syncer.sync_due(next_day).await.expect("run 3");
    assert!(r.observed_fully);
    assert!(r.is_success(), "{:#?}", r.results);
    assert_eq!(groups_of(&sb, ALICE), [RESIDENTS, AMENITIES]);
    let snap = sb.brivo().snapshot();
    assert!(
        !snap.members_of(AMENITIES).contains(&contractor),
        "managed groups hold only who the facts grant"
    );
    sb.shutdown().await;
}
