//! Sync real accounts: Entrata and/or OfficeRnD into Brivo.
//!
//! ```text
//! sync --config sync.json                  # dry run: fetch, observe, print the plan
//! sync --config sync.json --save-plan p.json   # dry run, plan saved for review
//! sync --config sync.json --apply-plan p.json  # apply exactly that plan (refused if stale)
//! sync --config sync.json --apply --once   # plan and apply once
//! sync --config sync.json --apply          # keep running: wake at each change or poll
//! sync --config sync.json approvals        # list approvals waiting for the next run
//! sync --config sync.json approve scope:property:100 [--by NAME]   # release a hold, for one run
//! ```
//!
//! Run state (scope counts, backoffs, approvals, the lock, this
//! installation's ownership prefix) lives in a SQLite file beside the config
//! (`sync.json.state.sqlite`) unless the config's `state` section says
//! otherwise.
//!
//! The config file (JSON, see `access_sync::config::SyncConfig`) holds
//! endpoints, limits, mappings and policy. Secrets come only from the
//! environment: BRIVO_API_KEY, BRIVO_CLIENT_ID, BRIVO_CLIENT_SECRET,
//! BRIVO_USERNAME, BRIVO_PASSWORD; ENTRATA_USERNAME + ENTRATA_PASSWORD (or
//! ENTRATA_API_KEY); OFFICERND_CLIENT_SECRET. Logs: RUST_LOG=info.

use std::process::ExitCode;

use access_engine::Plan;
use access_sync::config::SyncConfig;
use access_sync::{RunEvent, SyncReport};
use chrono::{DateTime, Utc};
use examples::{Names, held_and_warnings, plan_table, scopes_table};

const USAGE: &str = "usage: sync --config FILE [--apply [--once]] [--at RFC3339] \
[--save-plan FILE | --apply-plan FILE]
       sync --config FILE approvals
       sync --config FILE approve ID... [--by NAME]

  (default)          dry run: fetch, observe Brivo, print the plan; nothing is written
  --apply            apply; with --once a single run, else run until Ctrl-C, waking
                     at the plan's next change or the poll interval
  --at T             plan for instant T instead of now (dry run or --once only)
  --save-plan FILE   dry run, and save the plan as JSON for review
  --apply-plan FILE  apply exactly the saved plan; refused if Brivo changed since,
                     if made under another config, too old, or reaching beyond it
  approve ID...      approve held items for the next run only (ids are shown after
                     each held item: scope:property:100, revocations:523, record:lease:1)
  approvals          list the approvals waiting for the next run";

struct Args {
    config: String,
    approve: Vec<String>,
    list_approvals: bool,
    by: Option<String>,
    apply: bool,
    once: bool,
    at: Option<DateTime<Utc>>,
    save_plan: Option<String>,
    apply_plan: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        config: String::new(),
        approve: Vec::new(),
        list_approvals: false,
        by: None,
        apply: false,
        once: false,
        at: None,
        save_plan: None,
        apply_plan: None,
    };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--config" => a.config = value("--config")?,
            "--apply" => a.apply = true,
            "--once" => a.once = true,
            "--at" => {
                let v = value("--at")?;
                a.at = Some(
                    DateTime::parse_from_rfc3339(&v)
                        .map_err(|e| format!("--at {v}: {e}"))?
                        .with_timezone(&Utc),
                );
            }
            "--save-plan" => a.save_plan = Some(value("--save-plan")?),
            "--apply-plan" => a.apply_plan = Some(value("--apply-plan")?),
            "--by" => a.by = Some(value("--by")?),
            "approvals" => a.list_approvals = true,
            "approve" => {
                a.approve.extend(it.by_ref().take_while(|x| x != "--by"));
                if a.approve.is_empty() {
                    return Err("approve needs at least one id".into());
                }
                // `--by NAME` may follow the ids.
                if let Some(by) = it.next() {
                    a.by = Some(by);
                }
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.config.is_empty() {
        return Err("--config is required".into());
    }
    if a.at.is_some() && a.apply && !a.once {
        return Err("--at only makes sense for a dry run or with --once".into());
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(&args.config)
        .map_err(|e| format!("reading {}: {e}", args.config))?;
    let mut config = SyncConfig::from_json(&text)?;
    let env = |k: &str| std::env::var(k).ok();
    let (state, namespace) = config
        .open_state(std::path::Path::new(&args.config), env)
        .await?;
    if args.list_approvals || !args.approve.is_empty() {
        // Needs only the state store, no service credentials.
        let now = Utc::now();
        let by = args
            .by
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "operator".into());
        for id in &args.approve {
            state.approve(&namespace, id, &by, now).await?;
            println!("approved {id} for the next run (by {by})");
        }
        for a in state.pending_approvals(&namespace).await? {
            println!(
                "pending: {} (by {}, {})",
                a.id,
                a.by,
                a.at.format("%Y-%m-%d %H:%M:%SZ")
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    // A progress line on long applies.
    let syncer = config
        .builder_with_state(env, state, &namespace)?
        .on_progress(|done, total| {
            if total >= 50 && (done % 25 == 0 || done == total) {
                eprintln!("  applied {done}/{total} actions");
            }
        })
        .build();
    let now = args.at.unwrap_or_else(|| syncer.now());

    if let Some(path) = &args.apply_plan {
        let plan: Plan = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        println!(
            "Applying the saved plan from {path} (computed for {}).",
            plan.now
        );
        let report = syncer.apply(&plan).await?;
        return Ok(print_report(&report));
    }

    if !args.apply {
        let dry = syncer.plan(now).await?;
        let names = Names::new(&dry.observed, &dry.plan);
        println!("Dry run at {now}: nothing was written.\n");
        for s in &dry.sources {
            match &s.error {
                Some(e) => println!("source {}: FAILED ({e}); its revocations are held", s.name),
                None => println!(
                    "source {}: ok, {} calls, {} notes",
                    s.name,
                    s.calls,
                    s.notes.len()
                ),
            }
        }
        println!();
        print!("{}", plan_table(&dry.plan, &names, None));
        print!("{}", held_and_warnings(&dry.plan, &names));
        print!("{}", scopes_table(&dry.plan));
        if let Some(path) = &args.save_plan {
            std::fs::write(path, serde_json::to_vec_pretty(&dry.plan)?)?;
            println!("\nPlan saved to {path}; apply it with --apply-plan {path}.");
        } else {
            println!("\nRun again with --apply to make these changes.");
        }
        return Ok(ExitCode::SUCCESS);
    }

    if args.once {
        let report = syncer.sync_once(now).await?;
        return Ok(print_report(&report));
    }

    println!("Running until Ctrl-C (RUST_LOG=info for details).");
    syncer
        .run_with(
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            |event| match event {
                RunEvent::Synced(r) => {
                    println!(
                        "{} {} actions ({} ok, {} failed, {} skipped), {} held; next change {}",
                        r.plan.now.format("%Y-%m-%d %H:%M:%SZ"),
                        r.results.len(),
                        r.succeeded(),
                        r.failed(),
                        r.skipped(),
                        r.plan.held.len(),
                        r.plan.next_change.map_or("none".into(), |t| t
                            .format("%Y-%m-%d %H:%M:%SZ")
                            .to_string())
                    );
                }
                RunEvent::Failed(e) => println!("run failed: {e}; backing off"),
                _ => {}
            },
        )
        .await;
    println!("Stopped.");
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &SyncReport) -> ExitCode {
    let names = Names::new(&report.observed, &report.plan);
    print!(
        "{}",
        plan_table(&report.plan, &names, Some(&report.results))
    );
    print!("{}", held_and_warnings(&report.plan, &names));
    print!("{}", scopes_table(&report.plan));
    println!(
        "\n{} actions: {} ok, {} failed, {} skipped; Brivo calls: {} reads, {} writes ({} HTTP requests, {} retries)",
        report.results.len(),
        report.succeeded(),
        report.failed(),
        report.skipped(),
        report.calls.reads,
        report.calls.writes,
        report.calls.http,
        report.calls.retries
    );
    if report.failed() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
