//! After a webhook, the OfficeRnD source reads only the records it named,
//! by id, and its batch is the one a full read would return; whatever it
//! cannot settle that way (a record gone, an unknown kind, an old read) is
//! read in full. Against the sandbox's OfficeRnD.
#![allow(clippy::unwrap_used)] // helpers of tests

mod common;

use access_sync::{FactSource, OfficeRndSource, SourceBatch};
use chrono::{DateTime, Duration, Utc};
use sandbox::{Sandbox, story};
use serde_json::json;

fn now() -> DateTime<Utc> {
    story::instants()[0].1
}

/// Requests the sandbox's OfficeRnD received while `f` ran (token calls
/// included).
async fn counted<F: std::future::Future<Output = SourceBatch>>(
    sb: &Sandbox,
    f: F,
) -> (SourceBatch, u64) {
    let before = sb.officernd().stats().total;
    let batch = f.await;
    (batch, sb.officernd().stats().total - before)
}

/// What a source that kept nothing reads now.
async fn full_read(sb: &Sandbox, at: DateTime<Utc>) -> SourceBatch {
    OfficeRndSource::new(common::officernd_client(sb))
        .fetch(at)
        .await
        .unwrap()
}

fn assert_same(patched: &SourceBatch, full: &SourceBatch) {
    assert_eq!(
        patched.facts, full.facts,
        "a patched read differs from a full one"
    );
    assert_eq!(patched.notes, full.notes);
}

#[tokio::test]
async fn named_records_are_read_by_id_and_make_what_a_full_read_makes() {
    let sb = common::start().await;
    let client = common::officernd_client(&sb);
    let source = OfficeRndSource::new(client.clone());
    source.fetch(now()).await.unwrap(); // the token, and a first read
    let (_, first) = counted(&sb, async { source.fetch(now()).await.unwrap() }).await;

    // a membership ends, a member changes their e-mail, a day pass is used,
    // a booking moves an hour later
    let membership = client
        .list_memberships(Default::default())
        .collect_all()
        .await
        .unwrap()
        .items[0]
        .id
        .to_string();
    let mut m = sb.officernd().get("memberships", &membership).unwrap();
    m["endDate"] = json!("2020-01-31");
    m["calculatedStatus"] = json!("expired");
    assert!(sb.officernd().upsert("memberships", m));
    let mut maya = sb.officernd().get("members", story::MEMBER_MAYA).unwrap();
    maya["email"] = json!("maya.new@example.com");
    assert!(sb.officernd().upsert("members", maya));
    let pass = client
        .list_passes(Default::default())
        .collect_all()
        .await
        .unwrap()
        .items[0]
        .id
        .to_string();
    let mut p = sb.officernd().get("passes", &pass).unwrap();
    p["usedCount"] = json!(1);
    assert!(sb.officernd().upsert("passes", p));
    let mut b = sb
        .officernd()
        .get("bookings", story::BOOKING_WITH_VISITOR)
        .unwrap();
    for k in ["start", "end", "seriesStart", "seriesEnd"] {
        if let Some(t) = b[k].as_str() {
            let t = DateTime::parse_from_rfc3339(t).unwrap() + Duration::hours(1);
            b[k] = json!(t.with_timezone(&Utc).to_rfc3339());
        }
    }
    assert!(sb.officernd().upsert("bookings", b));

    for (kind, id) in [
        ("membership", membership.as_str()),
        ("member", story::MEMBER_MAYA),
        ("pass", pass.as_str()),
        ("booking", story::BOOKING_WITH_VISITOR),
    ] {
        source.changed(kind, Some(id));
    }
    let at = now() + Duration::minutes(1);
    let (patched, calls) = counted(&sb, async { source.fetch(at).await.unwrap() }).await;
    assert_eq!(
        calls, 4,
        "one read per named record (the full read took {first})"
    );
    assert_same(&patched, &full_read(&sb, now()).await);
    let maya = patched
        .facts
        .members
        .iter()
        .find(|m| m.id == story::MEMBER_MAYA)
        .unwrap();
    assert_eq!(maya.profile.email.as_deref(), Some("maya.new@example.com"));

    // nothing named: the next read reads everything
    let (_, calls) = counted(&sb, async { source.fetch(at).await.unwrap() }).await;
    assert_eq!(calls, first);
}

#[tokio::test]
async fn what_cannot_be_read_by_id_is_read_in_full() {
    let sb = common::start().await;
    let source = OfficeRndSource::new(common::officernd_client(&sb));
    source.fetch(now()).await.unwrap(); // the token, and a first read
    let (_, full) = counted(&sb, async { source.fetch(now()).await.unwrap() }).await;

    // a booking removed: its 404 may be a wrong path as well as a gone
    // record, so the full listing decides
    assert!(
        sb.officernd()
            .remove("bookings", story::BOOKING_WITH_VISITOR)
    );
    source.changed("booking", Some(story::BOOKING_WITH_VISITOR));
    let (batch, calls) = counted(&sb, async { source.fetch(now()).await.unwrap() }).await;
    assert_same(&batch, &full_read(&sb, now()).await);
    let (_, full_now) = counted(&sb, async { source.fetch(now()).await.unwrap() }).await;
    assert_eq!(calls, 1 + full_now, "the read by id, then everything");
    assert!(
        batch
            .facts
            .bookings
            .iter()
            .all(|b| !b.id.starts_with(story::BOOKING_WITH_VISITOR))
    );

    // a kind the source cannot read by id, or no id: everything
    for (kind, id) in [("company", Some(story::COMPANY_ACME)), ("member", None)] {
        source.changed(kind, id);
        source.changed("member", Some(story::MEMBER_MAYA));
        let (_, calls) = counted(&sb, async { source.fetch(now()).await.unwrap() }).await;
        assert_eq!(calls, full_now, "{kind} {id:?}");
    }

    // the last full read is too old to patch: everything
    source.changed("member", Some(story::MEMBER_MAYA));
    let (_, calls) = counted(&sb, async {
        source.fetch(now() + Duration::minutes(15)).await.unwrap()
    })
    .await;
    assert_eq!(calls, full_now);

    // invalidate forgets the read and what was named
    source.changed("member", Some(story::MEMBER_MAYA));
    source.invalidate();
    let (_, calls) = counted(&sb, async {
        source.fetch(now() + Duration::minutes(16)).await.unwrap()
    })
    .await;
    assert_eq!(calls, full_now);
    assert!(full_now >= full - 1, "only the visitors' listing went");
}

#[tokio::test]
async fn a_zero_window_reads_everything_every_time() {
    let sb = common::start().await;
    let source =
        OfficeRndSource::new(common::officernd_client(&sb)).targeted_within(Duration::zero());
    source.fetch(now()).await.unwrap();
    let (_, full) = counted(&sb, async { source.fetch(now()).await.unwrap() }).await;
    source.changed("member", Some(story::MEMBER_MAYA));
    let (_, calls) = counted(&sb, async { source.fetch(now()).await.unwrap() }).await;
    assert_eq!(calls, full);
}

fn syncer(sb: &Sandbox, refresh_minutes: u64) -> access_sync::Syncer {
    access_sync::Syncer::builder(access_sync::BrivoBackend::new(common::brivo_client(sb)))
        .source(OfficeRndSource::new(common::officernd_client(sb)))
        .mappings(common::mappings())
        .refresh(
            "officernd",
            std::time::Duration::from_secs(refresh_minutes * 60),
        )
        .build()
}

/// Olivia's dedicated-desk membership (active, no end).
const MEMBERSHIP_OLIVIA: &str = "64b000000000000000009001";

#[tokio::test]
async fn the_runner_ages_a_targeted_read_from_the_last_full_read() {
    let sb = common::start().await;
    let syncer = syncer(&sb, 15);
    let t0 = now();
    let r = syncer.sync_due(t0).await.unwrap();
    assert_eq!(r.sources[0].read_at, Some(t0));
    let full = r.sources[0].calls;

    let changes = syncer.changes_for("officernd").unwrap();
    changes.changed("member", Some(story::MEMBER_MAYA));
    syncer.refresh_sources().await; // what the run loop does when woken
    let t1 = t0 + Duration::minutes(14);
    let r = syncer.sync_due(t1).await.unwrap();
    assert_eq!(r.sources[0].calls, 1);
    assert_eq!(
        r.sources[0].read_at,
        Some(t0),
        "the rest of the facts are as old as the full read"
    );
    // the next poll is not pushed back by the targeted read
    let due = syncer.next_due().await.unwrap();
    assert!(due <= t0 + Duration::minutes(15), "{due}");
    let r = syncer.sync_due(t0 + Duration::minutes(15)).await.unwrap();
    assert_eq!(r.sources[0].read_at, Some(t0 + Duration::minutes(15)));
    assert!(r.sources[0].calls > 1 && r.sources[0].calls <= full + 1);
}

#[tokio::test]
async fn a_revocation_from_a_targeted_read_older_than_the_refresh_reads_everything_first() {
    let sb = common::start().await;
    // polls every 5 minutes; targeted reads within 15 minutes of a full one
    let syncer = syncer(&sb, 5);
    let t0 = now();
    syncer.sync_due(t0).await.unwrap();

    // Olivia's membership ends; its webhook names it ten minutes after
    // the full read, so the targeted read's other facts are 10 min old
    let mut m = sb
        .officernd()
        .get("memberships", MEMBERSHIP_OLIVIA)
        .unwrap();
    m["endDate"] = json!("2026-11-21T00:00:00.000Z");
    m["calculatedStatus"] = json!("expired");
    assert!(sb.officernd().upsert("memberships", m));
    syncer
        .changes_for("officernd")
        .unwrap()
        .changed("membership", Some(MEMBERSHIP_OLIVIA));
    syncer.refresh_sources().await;
    let t1 = t0 + Duration::minutes(10);
    let r = syncer.sync_due(t1).await.unwrap();
    assert!(
        r.results.iter().any(|a| a.action.contains(": -[")),
        "the membership's end is applied: {:?}",
        r.results.iter().map(|a| &a.action).collect::<Vec<_>>()
    );
    // ... from facts read in full at t1, not the 10-minute-old ones
    assert_eq!(r.sources[0].read_at, Some(t1));
    assert!(r.sources[0].calls > 1);
}

/// Horizons from code are clamped, so a read with the most extreme ones
/// neither panics nor fails.
#[tokio::test]
async fn extreme_booking_horizons_read_without_a_panic() {
    let sb = common::start().await;
    for horizon in [Duration::MAX, Duration::MIN] {
        OfficeRndSource::new(common::officernd_client(&sb))
            .booking_horizon(horizon)
            .fetch(Utc::now())
            .await
            .unwrap();
    }
}
