//! Plans a generated portfolio and reports the time and the memory plan()
//! needs: `cargo run --release -p benches --example plan_rss -- 1000000 converged`
//! (or `from_empty`; a third argument repeats the plan).
//!
//! Memory: the observed state not used is dropped, the kernel's peak-RSS
//! mark is reset (`/proc/self/clear_refs`, Linux), and `VmHWM` read after
//! each plan: the peak resident memory of the process while planning, inputs
//! included, without the generator's own peak. `/usr/bin/time -v` on the
//! whole process reports the generator's peak instead.

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
    let benches::Portfolio {
        facts,
        mappings,
        policy,
        empty,
        converged: in_step,
        now,
        occupants,
    } = p;
    let observed = if converged {
        drop(empty);
        in_step
    } else {
        drop(in_step);
        empty
    };
    for _ in 0..repeats {
        let before = reset_peak_rss();
        let t = Instant::now();
        let cpu0 = cpu_ns();
        let plan = access_engine::plan(&facts, &mappings, &policy, &observed, now);
        let took = t.elapsed();
        let cpu = cpu_ns().saturating_sub(cpu0) as f64 / 1e6;
        let peak = peak_rss();
        println!(
            "{occupants} occupants, {}: generated in {built:.2?}, planned in {took:.2?} (cpu of the calling thread {cpu:.0} ms): {} actions, {} group changes, next change {:?}",
            if converged { "converged" } else { "from empty" },
            plan.actions.len(),
            plan.group_changes(),
            plan.next_change
        );
        if let (Some(before), Some(peak)) = (before, peak) {
            println!(
                "  resident memory: {:.0} MiB before plan() (inputs), peak {:.0} MiB ({:.2} GiB) while planning",
                before as f64 / 1024.0,
                peak as f64 / 1024.0,
                peak as f64 / (1024.0 * 1024.0)
            );
        }
        let t = Instant::now();
        drop(plan);
        println!("  dropping the plan took {:.2?}", t.elapsed());
    }
}

/// Resets the kernel's peak-RSS mark to the current RSS; returns the current
/// RSS in KiB (None where unsupported).
fn reset_peak_rss() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS:")
}

/// Peak RSS in KiB since the last reset.
fn peak_rss() -> Option<u64> {
    status_kib("VmHWM:")
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of this thread in ns (Linux `schedstat`; 0 elsewhere): on a
/// shared machine wall time also counts waiting for a core.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}
