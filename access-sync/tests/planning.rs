//! Planning off the async runtime: a large plan must not stall the other
//! tasks of the runtime it is awaited on.

#![allow(clippy::unwrap_used)] // helpers of tests

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use access_engine::{
    Customer, CustomerType, Facts, GroupId, Lease, LeaseStatus, Mappings, Profile, Property, Scope,
    Source,
};
use access_sync::Syncer;
use access_sync::memory::{MemoryBackend, StaticSource};
use chrono::{NaiveDate, TimeZone, Utc};

const RESIDENTS: usize = 120_000;

fn portfolio() -> Facts {
    let mut facts = Facts::default();
    facts
        .properties
        .push(Property::new("100", "America/New_York"));
    let move_in = NaiveDate::from_ymd_opt(2026, 1, 5);
    facts.leases = (0..RESIDENTS)
        .map(|i| {
            Lease::new(format!("L{i}"), "100", LeaseStatus::Current)
                .with_move_in(move_in)
                .with_customer(Customer::new(
                    format!("{i}"),
                    CustomerType::Primary,
                    Profile::new("Resident", format!("No{i}")),
                ))
        })
        .collect();
    facts
}

/// On a current-thread runtime (one thread for every task), a ticking task
/// keeps ticking while the Syncer plans for 120 000 residents: the planner
/// runs on the blocking pool, not on the runtime's only thread.
#[test]
fn the_runtime_keeps_running_other_tasks_during_a_large_plan() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let brivo = MemoryBackend::new();
        brivo.add_group(GroupId(7), "Residents");
        let mut mappings = Mappings::default();
        mappings.properties.insert("100".into(), vec![GroupId(7)]);
        let syncer = Syncer::builder(brivo)
            .source(StaticSource::new(
                "entrata",
                Scope::Source(Source::Entrata),
                portfolio(),
            ))
            .mappings(mappings)
            .build();

        let ticks = Arc::new(AtomicU64::new(0));
        let ticker = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let now = Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0).unwrap();
        let started = Instant::now();
        let dry = syncer.plan(now).await.unwrap();
        let took = started.elapsed();
        // Read before this task yields again: only ticks made while it
        // awaited the plan count.
        let during = ticks.load(Ordering::Relaxed);
        ticker.abort();

        // A create and a group change per resident.
        assert_eq!(dry.plan.actions.len(), 2 * RESIDENTS);
        // Planned inline, the only thread would have been busy for the whole
        // plan: no tick at all. Off the runtime, the ticker runs throughout
        // (every 2 ms; a loaded machine may stretch that, so ask for little).
        assert!(
            during >= 3,
            "only {during} ticks while planning for {took:?}: the runtime was blocked"
        );
    });
}
