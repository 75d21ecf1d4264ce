//! The demo: the whole job against the in-process sandbox — no accounts, no
//! network. `cargo run -p examples --bin demo`
//!
//! It starts fake Entrata, OfficeRnD and Brivo servers seeded with a small
//! storyline (three apartment buildings and a coworking space), then runs the
//! sync at the storyline's instants — before the move-ins, 10:00 local on a
//! move-in day, across a daylight-saving change, after move-outs — printing
//! each plan with its reasons, what was held back, and who holds which door
//! group afterwards. Every run is written to a JSON-lines audit log.

use std::collections::BTreeMap;
use std::time::Instant;

use access_engine::GroupId;
use access_sync::{BrivoBackend, EntrataSource, JsonLinesAudit, OfficeRndSource, Syncer};
use examples::sandbox_wiring::{
    brivo_client, entrata_client, officernd_client, story_mappings, story_zones,
};
use examples::{Names, held_and_warnings, instant_line, plan_table, scopes_table, table};
use sandbox::{Sandbox, story};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    let syncer = Syncer::builder(BrivoBackend::new(brivo))
        .source(EntrataSource::new(entrata_client(&sb)))
        .source(OfficeRndSource::new(officernd_client(&sb)))
        .mappings(story_mappings())
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
         default policy (10:00 move-in, 16:00 move-out, guarantors excluded).",
        syncer.mappings().managed_groups().len()
    );
    println!(
        "Brivo already holds staff (unowned, never touched beyond managed groups) and Fay, \
         a former tenant the integration created.\n"
    );

    let zones = story_zones();
    let instants = story::instants();
    let total = instants.len();
    for (n, (label, now)) in instants.into_iter().enumerate() {
        println!("── {}/{total} {label} ──", n + 1);
        println!("   {}", instant_line(now, &zones));
        let report = match syncer.sync_once(now).await {
            Ok(r) => r,
            Err(e) => {
                println!("   sync failed: {e}\n");
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
            let cara = format!("sync:entrata:300:{}", story::CUSTOMER_CANCELLED_ON_CURRENT);
            let has_user = sb.brivo().snapshot().user_by_external_id(&cara).is_some();
            println!(
                "   Cara Voss is an Occupant on Leo Park's Current lease 3003, but her own status \
                 is Cancelled: {}.",
                if has_user {
                    "she has a Brivo user (unexpected!)"
                } else {
                    "no Brivo user, no access"
                }
            );
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
        match report.plan.next_change {
            Some(t) => println!("   next change: {}", instant_line(t, &zones)),
            None => println!("   next change: none scheduled"),
        }
        println!("\n   Access now (read back from Brivo):");
        print!("{}", indent(&access_table(&sb, &names)));
        println!();
    }

    println!(
        "Done in {:.1} s. Audit log (one JSON line per run: inputs, plan, results, calls):\n  {}",
        started.elapsed().as_secs_f64(),
        audit_path.display()
    );
    println!("Next: `cargo run -p examples --bin sync -- --help` to run against real accounts.");
    sb.shutdown().await;
    Ok(())
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
