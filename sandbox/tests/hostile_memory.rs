//! Peak memory while a hostile server sends 64 MiB bodies: the process's high-water
//! mark (`VmHWM`) may grow by the client's cap and a few MiB of slack, never by the
//! body. Alone in its own test binary, so no other test's allocations blur the reading.
//! Linux only.
//!
//! The peak is reset through `/proc/self/clear_refs` between cases. Where that file is
//! not writable (some containers), each case runs in a fresh child process (this test
//! binary again, with `HOSTILE_MEMORY_CASE` set), whose high-water mark starts with it;
//! `HOSTILE_MEMORY_FRESH_PROCESS=1` forces that way. Without `VmHWM` the test is skipped
//! with a message.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

mod common;

use officernd_client::query::LocationsQuery;
use sandbox::{Fault, Sandbox, story};

const MIB: u64 = 1 << 20;
/// Allocator and runtime noise, buffers of the HTTP stack, the sandbox's own chunks.
const SLACK: u64 = 8 * MIB;
/// Every client cuts error bodies at 64 KiB (`access_http::ERROR_BODY_LIMIT`).
const ERROR_CAP: u64 = 64 * 1024;
const TEST: &str = "a_64_mib_body_costs_the_cap_not_the_body";
const CHILD_CASE: &str = "HOSTILE_MEMORY_CASE";
const CHILD_RESULT: &str = "hostile-memory-result";

#[derive(Clone, Copy)]
enum Service {
    Brivo,
    OfficeRnd,
    Entrata,
}

struct Case {
    what: &'static str,
    service: Service,
    status: u16,
    bytes: u64,
    /// The client's cap on what it reads of this body.
    cap: u64,
}

const CASES: [Case; 6] = [
    Case {
        what: "brivo error body",
        service: Service::Brivo,
        status: 400,
        bytes: 64 * MIB,
        cap: ERROR_CAP,
    },
    Case {
        what: "officernd error body",
        service: Service::OfficeRnd,
        status: 400,
        bytes: 64 * MIB,
        cap: ERROR_CAP,
    },
    Case {
        what: "entrata error body",
        service: Service::Entrata,
        status: 400,
        bytes: 64 * MIB,
        cap: ERROR_CAP,
    },
    // a success body over each client's cap: read up to the cap, then refused
    Case {
        what: "brivo success body",
        service: Service::Brivo,
        status: 200,
        bytes: 64 * MIB + 1,
        cap: 16 * MIB,
    },
    Case {
        what: "officernd success body",
        service: Service::OfficeRnd,
        status: 200,
        bytes: 64 * MIB + 1,
        cap: 16 * MIB,
    },
    Case {
        what: "entrata success body",
        service: Service::Entrata,
        status: 200,
        bytes: 64 * MIB + 1,
        cap: 64 * MIB,
    },
];

/// A `kB` line of `/proc/self/status`, in bytes.
fn status_bytes(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn peak() -> u64 {
    status_bytes("VmHWM:").unwrap()
}

/// Resets the high-water mark to the current resident set; returns it.
fn reset_peak() -> std::io::Result<u64> {
    std::fs::write("/proc/self/clear_refs", "5")?;
    Ok(peak())
}

struct Clients {
    sb: Sandbox,
    brivo: brivo_client::Client,
    officernd: officernd_client::Client,
    entrata: entrata_client::Client,
}

/// The sandbox and the three clients, each past its login.
async fn clients() -> Clients {
    let sb = Sandbox::start_default().await.unwrap();
    let brivo = common::brivo(&sb);
    let officernd = common::officernd(&sb);
    let entrata = common::entrata(&sb);
    brivo.authenticate().await.unwrap();
    officernd
        .list_locations(LocationsQuery::new())
        .collect_all()
        .await
        .unwrap();
    entrata.get_status().await.unwrap();
    Clients {
        sb,
        brivo,
        officernd,
        entrata,
    }
}

/// One call that gets the case's body.
async fn call(c: &Clients, case: &Case) {
    let fault = Fault::HugeBody {
        times: 1,
        status: case.status,
        bytes: case.bytes,
    };
    match case.service {
        Service::Brivo => {
            c.sb.faults().brivo(fault);
            let group = brivo_client::GroupId(story::GROUP_HARBOR_VIEW_RESIDENTS);
            let _ = c.brivo.get_group(group).await;
        }
        Service::OfficeRnd => {
            c.sb.faults().officernd(fault);
            let _ = c
                .officernd
                .list_locations(LocationsQuery::new())
                .collect_all()
                .await;
        }
        Service::Entrata => {
            c.sb.faults().entrata(fault);
            let _ = c.entrata.get_status().await;
        }
    }
}

/// How far the peak rose during each case, measured in this process.
async fn measure_here() -> Vec<Option<u64>> {
    let c = clients().await;
    let mut grew = Vec::new();
    for case in &CASES {
        let before = reset_peak().unwrap();
        call(&c, case).await;
        grew.push(Some(peak().saturating_sub(before)));
    }
    grew
}

/// The child's side: one case in a fresh process. Prints the resident set before the
/// call and the high-water mark before and after it.
async fn child(index: usize) {
    let c = clients().await;
    let (rss, before) = (status_bytes("VmRSS:").unwrap(), peak());
    call(&c, &CASES[index]).await;
    println!("{CHILD_RESULT} {rss} {before} {}", peak());
}

/// Each case in a child process. The rise is the peak after the call less the resident
/// set before it; `None` when the call did not lift the peak and the start-up's own
/// peak is too high to tell whether the call stayed within its allowance.
fn measure_in_children() -> Vec<Option<u64>> {
    let exe = std::env::current_exe().unwrap();
    (0..CASES.len())
        .map(|i| {
            let out = std::process::Command::new(&exe)
                .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
                .env(CHILD_CASE, i.to_string())
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let line = stdout
                .lines()
                // after libtest's "test … ... " on the same line
                .find_map(|l| l.split_once(CHILD_RESULT).map(|(_, r)| r))
                .unwrap_or_else(|| {
                    panic!(
                        "case {i}: no result from the child:\n{stdout}\n{}",
                        String::from_utf8_lossy(&out.stderr)
                    )
                });
            let n: Vec<u64> = line
                .split_whitespace()
                .map(|v| v.parse().unwrap())
                .collect();
            let (rss, before, after) = (n[0], n[1], n[2]);
            let grew = after.saturating_sub(rss);
            (after > before || grew <= allowed(&CASES[i])).then_some(grew)
        })
        .collect()
}

fn allowed(case: &Case) -> u64 {
    // A body read up to the cap grows a Vec by doubling; glibc serves the smaller
    // steps from the heap and keeps those pages after they are freed, so a read to a
    // large cap may cost up to about a quarter more (measured: 64 MiB cap, +75.8 MiB).
    // Error bodies stop at 64 KiB and must cost nothing visible.
    case.cap + case.cap / 4 + SLACK
}

#[tokio::test(flavor = "current_thread")]
async fn a_64_mib_body_costs_the_cap_not_the_body() {
    if let Ok(i) = std::env::var(CHILD_CASE) {
        child(i.parse().unwrap()).await;
        return;
    }
    if status_bytes("VmHWM:").is_none() {
        eprintln!("skipped: /proc/self/status has no VmHWM line, nothing to measure");
        return;
    }
    let forced = std::env::var_os("HOSTILE_MEMORY_FRESH_PROCESS").is_some();
    let report = match reset_peak() {
        Ok(_) if !forced => measure_here().await,
        reset => {
            if let Err(e) = reset {
                eprintln!(
                    "/proc/self/clear_refs is not writable ({e}): one fresh process per case"
                );
            }
            measure_in_children()
        }
    };
    for (case, grew) in CASES.iter().zip(&report) {
        match grew {
            Some(grew) => eprintln!(
                "{}: peak +{:.1} MiB (cap {} KiB)",
                case.what,
                *grew as f64 / MIB as f64,
                case.cap / 1024
            ),
            None => eprintln!(
                "{}: not measured (the child's start-up peak hides the call's)",
                case.what
            ),
        }
    }
    for (case, grew) in CASES.iter().zip(report) {
        let Some(grew) = grew else { continue };
        let allowed = allowed(case);
        assert!(
            grew <= allowed,
            "{}: peak memory grew {:.1} MiB, over {:.1} MiB allowed for a cap of {} KiB",
            case.what,
            grew as f64 / MIB as f64,
            allowed as f64 / MIB as f64,
            case.cap / 1024
        );
    }
}
