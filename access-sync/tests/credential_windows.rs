//! The backstop against the sandbox's Brivo: with `credential_windows`,
//! each owned user's credentials end when their access does, so Brivo
//! itself refuses the door after a move-out that no runner applied; a
//! perpetual resident's pass has no end; a user without a credential yet
//! (an invitation not redeemed) is looked at again a day later, not on
//! every run; a card handed out at the desk gets the window too.

#![allow(clippy::unwrap_used)] // helpers of tests

mod common;

use std::sync::Arc;

use access_engine::Policy;
use access_state::{MemoryState, RunState};
use access_sync::{ManualClock, Syncer};
use chrono::{TimeDelta, TimeZone, Utc};
use sandbox::{Sandbox, story};

fn syncer(sb: &Sandbox, state: Arc<dyn RunState>, clock: &ManualClock) -> Syncer {
    let mut policy = Policy::default();
    policy.invite_mobile_pass = true;
    policy.credential_windows = true;
    common::syncer(sb)
        .policy(policy)
        .state_arc(state, "t")
        .clock(clock.clone())
        .build()
}

fn user_of(sb: &Sandbox, customer: &str) -> i64 {
    sb.brivo()
        .snapshot()
        .user_by_external_id(&format!("sync:entrata:{customer}"))
        .unwrap()
        .id
}

fn windows(sb: &Sandbox, user: i64) -> Vec<(Option<String>, Option<String>)> {
    sb.brivo()
        .credential_windows(user)
        .into_iter()
        .map(|(_, f, t)| (f, t))
        .collect()
}

const EVAN: &str = "5005";
const LEO: &str = "5012";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brivo_ends_access_at_move_out_after_the_runner_stops() {
    let sb = common::start().await;
    let (_, today) = story::instants()[0];
    let clock = ManualClock::new(today);
    let state: Arc<dyn RunState> = Arc::new(MemoryState::new());

    // Run 1: Evan (Notice, moving out 12/31 16:00 New York) and Leo
    // (month to month) are created and invited; they hold no credential yet.
    let first = syncer(&sb, state.clone(), &clock)
        .sync_once(today)
        .await
        .unwrap();
    assert!(first.is_success(), "{:#?}", first.results);
    let (evan, leo) = (user_of(&sb, EVAN), user_of(&sb, LEO));
    let window = first
        .results
        .iter()
        .find(|r| {
            r.action.starts_with("credentials of")
                && r.action.contains(&format!("sync:entrata:{EVAN} "))
        })
        .expect("a window for the new user");
    assert!(
        window.action.ends_with("until 2026-12-31 21:00Z"),
        "{}",
        window.action
    );
    assert!(
        format!("{:?}", window.outcome).contains("waiting for one"),
        "{:?}",
        window.outcome
    );

    // Evan redeems his pass on his phone; Leo (no email, no invitation)
    // is handed a card at the front desk.
    let redeemed = Utc.with_ymd_and_hms(2026, 11, 23, 20, 0, 0).unwrap();
    assert!(sb.brivo().redeem_invitation_at(evan, redeemed));
    sb.brivo().assign_card(leo, "40123", redeemed);

    // An hour later the runner does not look again (a read per user per
    // run would spend Brivo's budget on users who may never redeem).
    let later = today + TimeDelta::hours(1);
    clock.set(later);
    let second = syncer(&sb, state.clone(), &clock)
        .sync_once(later)
        .await
        .unwrap();
    assert!(
        !second
            .results
            .iter()
            .any(|r| r.action.starts_with("credentials of")),
        "{:#?}",
        second.results
    );

    // A day later it does, and the passes get their windows.
    let next_day = today + TimeDelta::hours(25);
    clock.set(next_day);
    let third = syncer(&sb, state.clone(), &clock)
        .sync_once(next_day)
        .await
        .unwrap();
    assert!(third.is_success(), "{:#?}", third.results);
    assert_eq!(
        windows(&sb, evan),
        [(
            Some("2026-11-23T20:00:00Z".to_owned()),
            Some("2026-12-31T21:00:00Z".to_owned())
        )]
    );
    // Leo's lease has no move-out: no end.
    assert_eq!(
        windows(&sb, leo),
        [(Some("2026-11-23T20:00:00Z".to_owned()), None)]
    );
    // In step: the next run writes nothing.
    let fourth = syncer(&sb, state.clone(), &clock)
        .sync_once(next_day)
        .await
        .unwrap();
    assert!(fourth.results.is_empty(), "{:#?}", fourth.results);

    // Alice is handed a desk card but has not redeemed her pass: the card
    // does not end the wait for the pass. After two looks she is looked at
    // again in two days, not one (a backoff up to a month).
    let alice = user_of(&sb, story::CUSTOMER_ALICE);
    sb.brivo().assign_card(alice, "40200", redeemed);
    let looks_at_alice = |r: &access_sync::SyncReport| {
        r.results.iter().any(|a| {
            a.action.starts_with("credentials of") && a.action.contains(&alice.to_string())
        })
    };
    let day_two = next_day + TimeDelta::hours(25);
    clock.set(day_two);
    let fifth = syncer(&sb, state.clone(), &clock)
        .sync_once(day_two)
        .await
        .unwrap();
    assert!(!looks_at_alice(&fifth), "{:#?}", fifth.results);
    let day_three = next_day + TimeDelta::hours(49);
    clock.set(day_three);
    let sixth = syncer(&sb, state.clone(), &clock)
        .sync_once(day_three)
        .await
        .unwrap();
    assert!(looks_at_alice(&sixth), "{:#?}", sixth.results);
    // she redeems it at last: the next look gives the pass its window too
    assert!(sb.brivo().redeem_invitation_at(alice, redeemed));
    let day_seven = day_three + TimeDelta::days(4);
    clock.set(day_seven);
    syncer(&sb, state.clone(), &clock)
        .sync_once(day_seven)
        .await
        .unwrap();
    let alices = windows(&sb, alice);
    assert_eq!(alices.len(), 2, "{alices:?}");
    // Alice's lease has no move-out: both have no end
    assert!(alices.iter().all(|(_, to)| to.is_none()), "{alices:?}");
    // and the wait is over: no more looks, even 40 days on (the record's
    // age is read off the runner's clock; the plan stays before 12/31)
    clock.set(day_seven + TimeDelta::days(40));
    let quiet = syncer(&sb, state.clone(), &clock)
        .sync_once(day_seven)
        .await
        .unwrap();
    assert!(!looks_at_alice(&quiet), "{:#?}", quiet.results);

    // The runner stops here. Evan is still in the residents' group, but
    // Brivo itself closes the door at his move-out; Leo's stays open.
    let residents = story::GROUP_HARBOR_VIEW_RESIDENTS;
    let before = Utc.with_ymd_and_hms(2026, 12, 31, 20, 59, 0).unwrap();
    let after = Utc.with_ymd_and_hms(2026, 12, 31, 21, 0, 0).unwrap();
    let snap = sb.brivo().snapshot();
    assert!(snap.members_of(residents).contains(&evan));
    assert!(sb.brivo().admits(evan, residents, before));
    assert!(!sb.brivo().admits(evan, residents, after));
    let sunset = story::GROUP_SUNSET_RESIDENTS;
    let far = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    assert!(sb.brivo().admits(leo, sunset, far));
    sb.shutdown().await;
}

/// A renewal moves the end: the next run writes the new end on the pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_move_out_date_moves_the_end_on_the_next_run() {
    let sb = common::start().await;
    let (_, today) = story::instants()[0];
    let clock = ManualClock::new(today);
    let state: Arc<dyn RunState> = Arc::new(MemoryState::new());
    syncer(&sb, state.clone(), &clock)
        .sync_once(today)
        .await
        .unwrap();
    let evan = user_of(&sb, EVAN);
    let redeemed = Utc.with_ymd_and_hms(2026, 11, 23, 20, 0, 0).unwrap();
    assert!(sb.brivo().redeem_invitation_at(evan, redeemed));
    let next_day = today + TimeDelta::hours(25);
    clock.set(next_day);
    syncer(&sb, state.clone(), &clock)
        .sync_once(next_day)
        .await
        .unwrap();
    assert_eq!(
        windows(&sb, evan)[0].1.as_deref(),
        Some("2026-12-31T21:00:00Z")
    );

    // Evan renews: his lease's move-out (and his own) moves to 06/30/2027.
    let mut lease = sb.entrata().lease(story::LEASE_NOTICE).unwrap();
    lease["moveOutDate"] = "06/30/2027".into();
    lease["customers"]["customer"]["moveOutDate"] = "06/30/2027".into();
    sb.entrata().upsert_lease(lease);
    let renewed = syncer(&sb, state.clone(), &clock)
        .sync_once(next_day)
        .await
        .unwrap();
    assert!(renewed.is_success(), "{:#?}", renewed.results);
    // 16:00 in New York on 06/30/2027 is 20:00Z (daylight time)
    assert_eq!(
        windows(&sb, evan)[0].1.as_deref(),
        Some("2027-06-30T20:00:00Z")
    );
    sb.shutdown().await;
}
