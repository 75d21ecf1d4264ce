//! Plans a generated portfolio once and reports the time, for peak-memory
//! measurement: `/usr/bin/time -v target/release/examples/plan_rss 1000000 converged`.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let converged = args.next().as_deref() != Some("from_empty");
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let t = Instant::now();
    let p = benches::leases(n);
    let built = t.elapsed();
    let observed = if converged { &p.converged } else { &p.empty };
    for _ in 0..repeats {
        let t = Instant::now();
        let cpu0 = cpu_ns();
        let plan = access_engine::plan(&p.facts, &p.mappings, &p.policy, observed, p.now);
        let took = t.elapsed();
        let cpu = cpu_ns().saturating_sub(cpu0) as f64 / 1e6;
        println!(
            "{} occupants, {}: generated in {:.2?}, planned in {:.2?} (cpu {cpu:.0} ms): {} actions, {} group changes, next change {:?}",
            p.occupants,
            if converged { "converged" } else { "from empty" },
            built,
            took,
            plan.actions.len(),
            plan.group_changes(),
            plan.next_change
        );
    }
}

/// CPU time of this thread in ns (Linux `schedstat`; 0 elsewhere): on a
/// shared machine wall time also counts waiting for a core.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}
