//! The demo: the whole job against the in-process sandbox — no accounts, no
//! network. `cargo run -p examples --bin demo`
//!
//! It starts fake Entrata, OfficeRnD and Brivo servers seeded with a small
//! storyline (three apartment buildings and a coworking space), then runs the
//! sync at the storyline's instants — before the move-ins, 10:00 local on a
//! move-in day, across a daylight-saving change, after move-outs — printing
//! each plan with its reasons, what was held back, and who holds which door
//! group afterwards. Every run is written to a JSON-lines audit log.
//!
//! Last, the runner keeps running as a service on the real clock: a booking
//! made in OfficeRnD reaches Brivo through a signed webhook, and a directory
//! platform creates, suspends and decommissions a user over SCIM.
//!
//! Each outcome the storyline expects is checked: one not met is printed
//! with `UNEXPECTED:` and its reason, listed again at the end, and the demo
//! exits 1 (0 when every expectation held).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use access_engine::{GroupId, Policy};
use access_sync::server::{Monitor, Routes, ScimDirectory};
use access_sync::{
    BrivoBackend, DirectorySource, EntrataSource, JsonLinesAudit, ManualClock, OfficeRndSource,
    Syncer,
};
use chrono::TimeZone as _;
use examples::sandbox_wiring::{
    SCIM_TOKEN, WEBHOOK_SECRET, brivo_client, entrata_client, officernd_client, story_mappings,
    story_zones,
};
use examples::{Names, held_and_warnings, instant_line, plan_table, scopes_table, table};
use officernd_client::webhook::{WebhookReceiver, WebhookVerifier};
use sandbox::platform::DirectoryPlatform;
use sandbox::{Sandbox, story};
use serde_json::json;

/// The storyline's expectations that did not hold, each with its reason.
#[derive(Debug, Default)]
struct Checks(Vec<String>);

impl Checks {
    /// Records `why` as a failed expectation unless `ok`, printing it where
    /// it happens; returns `ok`.
    fn expect(&mut self, ok: bool, why: impl FnOnce() -> String) -> bool {
        if !ok {
            let why = why();
            println!("   UNEXPECTED: {why}");
            self.0.push(why);
        }
        ok
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut checks = Checks::default();
    let result = demo(&mut checks).await;
    if let Err(e) = &result {
        checks.0.push(format!("the demo stopped: {e}"));
    }
    if checks.0.is_empty() {
        return ExitCode::SUCCESS;
    }
    eprintln!("demo FAILED: {} expectation(s) not met:", checks.0.len());
    for why in &checks.0 {
        eprintln!("  - {why}");
    }
    ExitCode::FAILURE
}

async fn demo(checks: &mut Checks) -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let started = Instant::now();

    let sb = Sandbox::start_default().await?;
    let audit_path = std::env::temp_dir().join("access-sync-demo").join(format!(
        "audit-{}.jsonl",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    ));
    let brivo = brivo_client(&sb, 20.0); // the sandbox's Brivo allows 20 calls/s
    // each new resident or member with an email gets a Brivo Mobile Pass
    // invitation: a way through the door, not only a group; its validity
    // ends with their access, so Brivo ends it even if the runner stops
    let mut policy = Policy::default();
    policy.invite_mobile_pass = true;
    policy.credential_windows = true;
    // the runner's clock follows the storyline's instants
    let clock = ManualClock::new(story::instants()[0].1);
    let syncer = Syncer::builder(BrivoBackend::new(brivo))
        .clock(clock.clone())
        .source(EntrataSource::new(entrata_client(&sb)))
        .source(OfficeRndSource::new(officernd_client(&sb)))
        .mappings(story_mappings())
        .policy(policy)
        .audit(JsonLinesAudit::open(&audit_path)?)
        .build();

    println!("access-sync demo");
    println!("================");
    println!(
        "Sandbox: Entrata at {}, OfficeRnD at {}, Brivo at {}",
        sb.entrata_base_url(),
        sb.officernd_base_url(),
        sb.brivo_api_url()
    );
    println!(
        "Mapping: 3 Entrata properties and 1 OfficeRnD location to {} managed Brivo groups; \
         default policy (10:00 move-in, 16:00 move-out, guarantors excluded), plus Mobile Pass \
         invitations for new users with an email and credential windows (a pass ends with \
         its holder's access).",
        syncer.mappings().managed_groups().len()
    );
    println!(
        "Brivo already holds staff (unowned, never touched beyond managed groups) and Fay, \
         a former tenant an earlier version created (keyed by property, `{}`: the first run \
         gives her user the resident's id).\n",
        story::FORMER_TENANT_EXTERNAL_ID
    );

    let zones = story_zones();
    let instants = story::instants();
    let total = instants.len();
    for (n, (label, now)) in instants.into_iter().enumerate() {
        println!("── {}/{total} {label} ──", n + 1);
        println!("   {}", instant_line(now, &zones));
        clock.set(now);
        let report = match syncer.sync_once(now).await {
            Ok(r) => r,
            Err(e) => {
                checks.expect(false, || format!("{label}: the sync failed: {e}"));
                println!();
                continue;
            }
        };
        let names = Names::new(&report.observed, &report.plan);
        for src in &report.sources {
            if let Some(e) = &src.error {
                println!(
                    "   source {} FAILED: {e} (its revocations are held)",
                    src.name
                );
                checks.expect(false, || {
                    format!("{label}: source {} failed: {e}", src.name)
                });
            }
            for note in &src.notes {
                println!("   source {}: {note}", src.name);
            }
        }
        println!();
        print!(
            "{}",
            indent(&plan_table(&report.plan, &names, Some(&report.results)))
        );
        let held = held_and_warnings(&report.plan, &names);
        if !held.is_empty() {
            print!("{}", indent(&held));
        }
        if n == 0 {
            // Where each zone came from: getMitsPropertyUnits is not granted
            // to the sandbox's API user (as with Brivo's own Entrata set-up),
            // so the properties' zones come from their addresses.
            print!("{}", indent(&scopes_table(&report.plan)));
            let cara = format!("sync:entrata:{}", story::CUSTOMER_CANCELLED_ON_CURRENT);
            let has_user = sb.brivo().snapshot().user_by_external_id(&cara).is_some();
            println!(
                "   Cara Voss is an Occupant on Leo Park's Current lease 3003, but her own status \
                 is Cancelled: {}.",
                if has_user {
                    "she has a Brivo user"
                } else {
                    "no Brivo user, no access"
                }
            );
            checks.expect(!has_user, || {
                "Cara Voss (Cancelled) was given a Brivo user".into()
            });
        }
        let evan = story_user(&sb, "Brooks");
        if n <= 1 {
            checks.expect(evan.is_some(), || {
                format!("{label}: Evan Brooks (Notice lease) has no Brivo user")
            });
        }
        if n == 0
            && let Some(evan) = evan
        {
            // Evan Brooks opens his invitation on his phone: the next run
            // (a day or more later) finds the pass and sets its window.
            sb.brivo().redeem_invitation_at(evan, now);
            println!(
                "   Evan Brooks (Notice, moving out 12/31) redeems his Mobile Pass invitation."
            );
        }
        if n == 1
            && let Some(evan) = evan
        {
            let residents = story::GROUP_HARBOR_VIEW_RESIDENTS;
            let end = chrono::Utc
                .with_ymd_and_hms(2026, 12, 31, 21, 0, 0)
                .unwrap();
            let opens = |t| sb.brivo().admits(evan, residents, t);
            let (before, at_end) = (opens(end - chrono::TimeDelta::minutes(1)), opens(end));
            println!(
                "   Backstop: Evan's pass is valid until {}. Were the runner to stop now, Brivo \
                 itself would {} at 20:59Z on 12/31 and {} at 21:00Z (16:00 New York).",
                sb.brivo()
                    .credential_windows(evan)
                    .first()
                    .and_then(|w| w.2.clone())
                    .unwrap_or_else(|| "-".into()),
                if before {
                    "open the door"
                } else {
                    "refuse him"
                },
                if at_end {
                    "still open it"
                } else {
                    "refuse him"
                },
            );
            checks.expect(before, || {
                "Brivo refuses Evan's pass before his lease ends (20:59Z on 12/31)".into()
            });
            checks.expect(!at_end, || {
                "Brivo still admits Evan's pass when his lease ends (21:00Z on 12/31)".into()
            });
        }
        if label == "transfer overlap" {
            // One person, one Brivo user: the transfer's two leases (Notice
            // at 200, Future at 300) feed the same user.
            let snap = sb.brivo().snapshot();
            let ivans: Vec<_> = snap
                .users
                .iter()
                .filter(|u| u.last_name == "Petrov")
                .collect();
            let groups: Vec<String> = ivans
                .iter()
                .flat_map(|u| u.groups.iter().map(i64::to_string))
                .collect();
            println!(
                "   Ivan Petrov transfers from Prairie Commons (200) to Sunset Terrace (300): {} \
                 Brivo user(s), {}, in groups {} while the two leases overlap.",
                ivans.len(),
                ivans
                    .iter()
                    .map(|u| u.external_id.as_deref().unwrap_or("-"))
                    .collect::<Vec<_>>()
                    .join(", "),
                groups.join(", ")
            );
            checks.expect(ivans.len() == 1, || {
                format!(
                    "Ivan Petrov's transfer should keep one Brivo user, found {}",
                    ivans.len()
                )
            });
        }
        println!(
            "\n   applied {} action(s): {} ok, {} failed, {} skipped; Brivo calls: {} reads, {} writes",
            report.results.len(),
            report.succeeded(),
            report.failed(),
            report.skipped(),
            report.calls.reads,
            report.calls.writes
        );
        checks.expect(report.failed() == 0, || {
            format!("{label}: {} action(s) failed", report.failed())
        });
        match report.plan.next_change {
            Some(t) => println!("   next change: {}", instant_line(t, &zones)),
            None => println!("   next change: none scheduled"),
        }
        println!("\n   Access now (read back from Brivo):");
        print!("{}", indent(&access_table(&sb, &names)));
        println!();
    }

    live(&sb, checks).await?;

    println!(
        "Done in {:.1} s. Audit log (one JSON line per run: inputs, plan, results, calls):\n  {}",
        started.elapsed().as_secs_f64(),
        audit_path.display()
    );
    println!("Next: `cargo run -p examples --bin sync -- --help` to run against real accounts.");
    sb.shutdown().await;
    Ok(())
}

/// The Brivo id of the storyline's user with this family name, if any.
fn story_user(sb: &Sandbox, last_name: &str) -> Option<i64> {
    sb.brivo()
        .snapshot()
        .users
        .iter()
        .find(|u| u.last_name == last_name)
        .map(|u| u.id)
}

/// The runner as a service, on the real clock: it polls only hourly, so
/// each change below reaches Brivo because a webhook or a SCIM push woke it.
async fn live(sb: &Sandbox, checks: &mut Checks) -> Result<(), Box<dyn std::error::Error>> {
    println!("── Live: OfficeRnD webhooks and a SCIM directory platform ──");
    let scim = ScimDirectory::in_memory(story::DIRECTORY_CONNECT);
    let mut mappings = story_mappings();
    // this runner serves the coworking space and the directory only
    mappings.properties.clear();
    mappings.directories.insert(
        story::DIRECTORY_CONNECT.into(),
        vec![GroupId(story::GROUP_CONNECT_MEMBERS)],
    );
    let syncer = Arc::new(
        Syncer::builder(BrivoBackend::new(brivo_client(sb, 20.0)))
            .source(OfficeRndSource::new(officernd_client(sb)))
            .source(DirectorySource::new(scim.clone()))
            .mappings(mappings)
            .poll_interval(Duration::from_secs(3600))
            .build(),
    );
    let monitor = Monitor::new();
    let verifier = WebhookVerifier::new(officernd_client::SecretString::from(WEBHOOK_SECRET));
    // a SCIM push reads the directory again at once, not OfficeRnD
    let scim_wake = syncer
        .waker_for(&format!("directory:{}", story::DIRECTORY_CONNECT))
        .unwrap_or_else(|| syncer.waker());
    let app = Routes::new(monitor.clone())
        .officernd_webhooks(
            WebhookReceiver::new(verifier),
            syncer
                .changes_for("officernd")
                .ok_or("no OfficeRnD source")?,
        )
        .scim(scim, SCIM_TOKEN, scim_wake)
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = {
        let (syncer, monitor) = (syncer.clone(), monitor.clone());
        tokio::spawn(async move {
            let shutdown = async {
                stopped.await.ok();
            };
            syncer.run_with(shutdown, |e| monitor.observe(&e)).await;
        })
    };
    println!("   The runner serves {url} (webhooks, SCIM, /healthz, /metrics) and polls hourly.");
    let staff = || {
        sb.brivo()
            .snapshot()
            .users
            .iter()
            .filter(|u| u.external_id.is_none())
            .count()
    };
    let staff_before = staff();
    // the first run (a push made before it would wake nothing new)
    let first = wait_until(|| monitor.health().last_run.is_some()).await;
    checks.expect(first.is_some(), || {
        "the runner's first run did not end within 5 s".into()
    });
    sb.officernd()
        .send_webhooks_to(format!("{url}/webhooks/officernd"), WEBHOOK_SECRET);

    // OfficeRnD: Maya books the Summit room from now for an hour
    let now = chrono::Utc::now();
    let ts =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut booking = sb
        .officernd()
        .get("bookings", story::BOOKING_WITH_VISITOR)
        .ok_or("the storyline's booking is missing")?;
    booking["_id"] = json!("64b0000000000000000bb0d1");
    booking["member"] = json!(story::MEMBER_MAYA);
    booking["company"] = json!(story::COMPANY_ACME);
    booking["visitors"] = json!([]);
    booking["start"] = json!(ts(now));
    booking["seriesStart"] = json!(ts(now));
    booking["end"] = json!(ts(now + chrono::Duration::hours(1)));
    booking["seriesEnd"] = json!(ts(now + chrono::Duration::hours(1)));
    let maya_in_room = || {
        sb.brivo()
            .snapshot()
            .users
            .iter()
            .any(|u| u.first_name == "Maya" && u.groups.contains(&story::GROUP_MHW_SUMMIT_ROOM))
    };
    let was = maya_in_room();
    let t = Instant::now();
    sb.officernd().upsert("bookings", booking);
    let took = wait_until(maya_in_room).await;
    let delivery = sb.officernd().deliveries().pop();
    println!(
        "   OfficeRnD: Maya books the Summit Room now for an hour -> webhook {} answered {} -> \
         Maya {} the Summit Room group {} after the booking (was in it: {was}).",
        delivery.as_ref().map_or("?", |d| d.event_type.as_str()),
        delivery
            .as_ref()
            .and_then(|d| d.status)
            .map_or("?".into(), |s| s.to_string()),
        if took.is_some() { "is in" } else { "is NOT in" },
        ms(took.unwrap_or_else(|| t.elapsed())),
    );
    checks.expect(took.is_some(), || {
        "the booking made in OfficeRnD did not reach Brivo within 5 s of its webhook".into()
    });
    checks.expect(
        delivery
            .as_ref()
            .and_then(|d| d.status)
            .is_some_and(|s| (200..300).contains(&s)),
        || {
            format!(
                "the webhook was not accepted: {:?}",
                delivery.as_ref().map(|d| d.status)
            )
        },
    );

    // Connect HQ pushes a user's lifecycle over SCIM
    let platform = DirectoryPlatform::new(format!("{url}/scim/v2"), SCIM_TOKEN);
    let rene = || {
        sb.brivo()
            .snapshot()
            .users
            .into_iter()
            .find(|u| u.first_name == "Rene" && u.last_name == "Ortiz")
    };
    let id = platform
        .create_user("rene.ortiz", "Rene", "Ortiz", "rene.ortiz@example.com")
        .await?;
    let took =
        wait_until(|| rene().is_some_and(|u| u.groups.contains(&story::GROUP_CONNECT_MEMBERS)))
            .await;
    println!(
        "   Connect HQ (SCIM): Rene Ortiz joins      -> Brivo user created in Connect HQ Members: {}",
        outcome(took)
    );
    checks.expect(took.is_some(), || {
        "the user created over SCIM was not in Brivo's Connect HQ Members within 5 s".into()
    });
    platform.suspend(&id).await?;
    let took = wait_until(|| rene().is_some_and(|u| u.suspended)).await;
    println!(
        "   Connect HQ (SCIM): Rene is suspended     -> suspended in Brivo: {}",
        outcome(took)
    );
    checks.expect(took.is_some(), || {
        "the user suspended over SCIM was not suspended in Brivo within 5 s".into()
    });
    platform.decommission(&id).await?;
    let took = wait_until(|| rene().is_none()).await;
    println!(
        "   Connect HQ (SCIM): Rene is decommissioned -> the Brivo user this integration created is deleted: {}",
        outcome(took)
    );
    checks.expect(took.is_some(), || {
        "the user decommissioned over SCIM was not deleted from Brivo within 5 s".into()
    });
    let staff = staff();
    println!("   ({staff} Brivo users this integration did not create are untouched.)");
    checks.expect(staff == staff_before, || {
        format!("Brivo users this integration did not create went from {staff_before} to {staff}")
    });

    let health = monitor.health();
    checks.expect(health.status == "ok", || {
        format!("/healthz says {} after the live runs", health.status)
    });
    println!(
        "   /healthz: {} after {} runs; /metrics: {} series",
        health.status,
        metric(
            &monitor.metrics_text(),
            "access_sync_runs_total{result=\"synced\"}"
        ),
        monitor
            .metrics_text()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count()
    );
    let _ = stop.send(());
    runner.await?;
    println!();
    Ok(())
}

/// Polls `done` every 5 ms for up to 5 s; how long it took, if it did.
async fn wait_until(mut done: impl FnMut() -> bool) -> Option<Duration> {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) {
        if done() {
            return Some(t.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

fn outcome(took: Option<Duration>) -> String {
    took.map_or_else(
        || "NOT within 5 s".to_owned(),
        |d| format!("{} later", ms(d)),
    )
}

fn metric(text: &str, series: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(series))
        .map_or("0".into(), |v| v.trim().to_owned())
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("   {l}\n")).collect()
}

/// Who holds each managed group, from the fake Brivo's own state.
fn access_table(sb: &Sandbox, names: &Names) -> String {
    let snap = sb.brivo().snapshot();
    let user_names: BTreeMap<i64, String> = snap
        .users
        .iter()
        .map(|u| (u.id, format!("{} {}", u.first_name, u.last_name)))
        .collect();
    let rows: Vec<Vec<String>> = story::MANAGED_GROUPS
        .iter()
        .map(|&g| {
            let members: Vec<String> = snap
                .members_of(g)
                .iter()
                .map(|id| {
                    user_names
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| format!("#{id}"))
                })
                .collect();
            vec![
                names.group(GroupId(g)),
                if members.is_empty() {
                    "-".into()
                } else {
                    members.join(", ")
                },
            ]
        })
        .collect();
    table(&["GROUP", "MEMBERS"], &rows)
}
