//! What EntrataSource reads again on each fetch, against the sandbox's
//! Entrata: the open (Future, Current, Notice) leases of every property;
//! the property list and the Past leases only every `slow_refresh`, with a
//! lease that left the open list looked up by id in between. The facts are
//! those a fresh source reading everything would return.

#![allow(clippy::unwrap_used)] // helpers of tests

mod common;

use std::time::Duration;

use access_engine::Facts;
use access_sync::{EntrataSource, FactSource};
use chrono::{DateTime, TimeDelta, Utc};
use sandbox::story;

fn source(sb: &sandbox::Sandbox) -> EntrataSource {
    EntrataSource::new(common::entrata_client(sb)).slow_refresh(Duration::from_secs(6 * 3600))
}

/// The facts, in an order that does not depend on how they were read.
fn canonical(f: &Facts) -> String {
    let mut leases: Vec<String> = f.leases.iter().map(|l| format!("{l:?}")).collect();
    leases.sort();
    let mut props: Vec<String> = f.properties.iter().map(|p| format!("{p:?}")).collect();
    props.sort();
    format!("{props:?}\n{leases:?}\n{:?}", f.completeness)
}

async fn full_read(sb: &sandbox::Sandbox, now: DateTime<Utc>) -> Facts {
    source(sb).fetch(now).await.unwrap().facts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn between_slow_reads_only_the_open_leases_are_read_again() {
    let sb = common::start().await;
    let (_, today) = story::instants()[0];
    let entrata = source(&sb);
    let first = entrata.fetch(today).await.unwrap();
    // getProperties, and per property (3): open leases, Past leases; plus
    // getMitsPropertyUnits for the zones
    let full_calls = first.calls;
    assert!(full_calls >= 7, "{full_calls}");

    // 30 minutes later: the open leases of each property, one call each;
    // the two properties whose list is the largest seen on one page (3)
    // confirm its end with an empty page (a page cap could be 3)
    let later = today + TimeDelta::minutes(30);
    let second = entrata.fetch(later).await.unwrap();
    assert_eq!(second.calls, 5);
    assert_eq!(
        canonical(&second.facts),
        canonical(&full_read(&sb, later).await)
    );

    // Bob's Notice lease 1003 is moved out early: Past, out of the open list
    let mut bob = sb.entrata().lease("1003").unwrap();
    bob["leaseStatusTypeId"] = "6".into();
    bob["leaseStatus"] = "Past".into();
    bob["moveOutDate"] = "11/23/2026".into();
    sb.entrata().upsert_lease(bob);
    let at = later + TimeDelta::minutes(30);
    let third = entrata.fetch(at).await.unwrap();
    // property 100 now lists 2 (no confirmation), 200 one, 300 three (+1);
    // the lookup of lease 1003: 5
    assert_eq!(
        third.calls, 5,
        "the open lists and one lookup of lease 1003"
    );
    let moved = third.facts.leases.iter().find(|l| l.id == "1003").unwrap();
    assert_eq!(moved.status, access_engine::LeaseStatus::Past);
    assert_eq!(
        canonical(&third.facts),
        canonical(&full_read(&sb, at).await)
    );

    // A lease cancelled (gone from every list) is not looked up again
    let at2 = at + TimeDelta::minutes(30);
    sb.entrata().remove_lease("3002");
    let fourth = entrata.fetch(at2).await.unwrap();
    assert_eq!(
        fourth.calls, 4,
        "three open lists and one lookup of lease 3002"
    );
    assert_eq!(
        canonical(&fourth.facts),
        canonical(&full_read(&sb, at2).await)
    );
    let fifth = entrata.fetch(at2 + TimeDelta::minutes(30)).await.unwrap();
    assert_eq!(fifth.calls, 3);

    // Six hours after the first read, everything is read again
    let slow = today + TimeDelta::hours(6);
    let sixth = entrata.fetch(slow).await.unwrap();
    assert!(sixth.calls >= 7, "{}", sixth.calls);
    assert_eq!(
        canonical(&sixth.facts),
        canonical(&full_read(&sb, slow).await)
    );
}

/// A server that starts capping pages below what it returned before: the
/// first page looks complete, the missing leases look gone. Looked up by
/// id they are still Current, so the property is read again confirming
/// every page, and the batch is whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_list_cut_short_is_caught_by_the_lookup() {
    let sb = common::start().await;
    let (_, today) = story::instants()[0];
    let entrata = source(&sb);
    entrata.fetch(today).await.unwrap();
    entrata.fetch(today + TimeDelta::minutes(30)).await.unwrap();
    // from now on one record a page
    sb.entrata().set_page_cap(Some(1));
    let at = today + TimeDelta::hours(1);
    let batch = entrata.fetch(at).await.unwrap();
    assert!(
        batch.facts.completeness.is_complete(),
        "{:?}",
        batch.facts.completeness
    );
    assert!(batch.calls > 5, "read again: {}", batch.calls);
    assert_eq!(
        canonical(&batch.facts),
        canonical(&full_read(&sb, at).await)
    );
    for lease in ["1001", "1002", "1003"] {
        assert!(
            batch.facts.leases.iter().any(|l| l.id == lease),
            "lease {lease} kept"
        );
    }
}
