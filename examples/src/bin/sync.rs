//! Sync real accounts: Entrata and/or OfficeRnD into Brivo.
//!
//! ```text
//! sync --config sync.json                      # dry run: fetch, observe, print the plan
//! sync --config sync.json --json               # the same, as JSON on stdout
//! sync --config sync.json --save-plan p.json   # dry run, plan saved for review
//! sync --config sync.json --apply-plan p.json  # apply exactly that plan (refused if stale)
//! sync --config sync.json --apply --once       # plan and apply once
//! sync --config sync.json --apply              # keep running: wake at each change or poll
//! sync --config sync.json --apply --listen 127.0.0.1:8080   # ... and serve webhooks, SCIM, /healthz, /metrics
//! sync --config sync.json approvals            # list approvals waiting for the next run
//! sync --config sync.json approve scope:property:100 --by NAME   # release a hold, for one run
//! sync --config sync.json unapprove scope:property:100            # withdraw it before a run uses it
//! ```
//!
//! `sync --help` lists the environment variables and exit codes. Run state
//! (scope counts, backoffs, approvals, the lock, this installation's
//! ownership prefix) lives in a SQLite file beside the config
//! (`sync.json.state.sqlite`) unless the config's `state` section says
//! otherwise. The config file (JSON, see `access_sync::config::SyncConfig`)
//! holds endpoints, limits, mappings and policy; secrets come only from the
//! environment.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use access_engine::Plan;
use access_sync::config::SyncConfig;
use access_sync::server::{Monitor, Routes};
use access_sync::{DirectorySource, RunEvent, SyncReport};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use examples::{Names, held_and_warnings, plan_table, scopes_table};
use officernd_client::webhook::{WebhookReceiver, WebhookVerifier};
use serde_json::json;

const AFTER_HELP: &str = "\
ENVIRONMENT (secrets come only from here; all missing ones are reported at once):
  BRIVO_API_KEY, BRIVO_CLIENT_ID, BRIVO_CLIENT_SECRET, BRIVO_USERNAME, BRIVO_PASSWORD
  ENTRATA_USERNAME + ENTRATA_PASSWORD   with entrata.base_url (Basic auth)
  ENTRATA_API_KEY                       with entrata.gateway_org
  OFFICERND_CLIENT_SECRET               with an officernd section
  OFFICERND_WEBHOOK_SECRET              with --listen and server.officernd_webhooks
  SCIM_BEARER_TOKEN                     with --listen and server.scim_directory
  the variable named by state.postgres_url_env   with PostgreSQL run state
  RUST_LOG                              log filter (default: warn), logs go to stderr
  `approvals`, `approve` and `unapprove` need none of the service secrets: only the state store.

EXIT CODES:
  0  done, nothing pending: the plan is empty (dry run) or every action succeeded
  1  the run failed (a fetch, Brivo, the state store) or an action failed
  2  usage or configuration error (flags, unreadable or invalid config, missing variables)
  3  dry run: changes are pending; run again with --apply
  4  items are held for approval (`sync approvals`, then `sync approve ID`)";

/// Sync Entrata leases and OfficeRnD memberships and bookings into Brivo.
///
/// Without --apply it is a dry run: it fetches, observes Brivo and prints
/// the plan; nothing is written.
#[derive(Debug, Parser)]
#[command(name = "sync", version, after_help = AFTER_HELP)]
struct Cli {
    /// The config file (JSON): endpoints, limits, mappings, policy.
    #[arg(short, long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Apply the plan; with --once a single run, else run until Ctrl-C,
    /// waking at the plan's next change or the poll interval.
    #[arg(long, conflicts_with_all = ["save_plan", "apply_plan"])]
    apply: bool,
    /// With --apply: one run, then exit.
    #[arg(long, requires = "apply")]
    once: bool,
    /// With --apply (and not --once): also serve HTTP on this address:
    /// /healthz, /metrics, and as the config's `server` section says,
    /// POST /webhooks/officernd and SCIM 2.0 at /scim/v2/Users.
    #[arg(long, value_name = "ADDR", requires = "apply", conflicts_with = "once")]
    listen: Option<std::net::SocketAddr>,
    /// Plan for this instant (RFC 3339) instead of now: dry run or --once only.
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant, conflicts_with = "apply_plan")]
    at: Option<DateTime<Utc>>,
    /// Dry run, and save the plan as JSON for review.
    #[arg(long, value_name = "FILE")]
    save_plan: Option<PathBuf>,
    /// Apply exactly this saved plan; refused if Brivo changed since, if made
    /// under another config, too old, or reaching beyond it.
    #[arg(long, value_name = "FILE", conflicts_with = "save_plan")]
    apply_plan: Option<PathBuf>,
    /// Print the plan (dry run) or the report (apply) as JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the approvals waiting for the next run.
    Approvals,
    /// Approve held items for the next run only (ids are shown after each
    /// held item: scope:property:100, revocations:523, record:lease:1).
    Approve {
        /// The held items' ids.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Who approves (default: $USER).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Withdraw approvals not yet used by a run.
    Unapprove {
        /// The approvals' ids.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
}

fn parse_instant(v: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e} (expected RFC 3339, e.g. 2026-12-07T15:00:00Z)"))
}

/// How a command ends; each maps to one documented exit code.
enum Failure {
    /// Exit 2: the operator must fix flags, the config or the environment.
    Usage(String),
    /// Exit 1: the run itself failed.
    Run(Box<dyn std::error::Error>),
}

impl<E: std::error::Error + 'static> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Run(Box::new(e))
    }
}

const EXIT_PENDING: u8 = 3;
const EXIT_HELD: u8 = 4;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.at.is_some() && cli.apply && !cli.once {
        <Cli as clap::CommandFactory>::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--at applies to a dry run or --apply --once, not to a run that keeps going",
            )
            .exit();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    match run(cli).await {
        Ok(code) => code,
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Run(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &Path, what: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {what} {}: {e}", path.display())))
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let Some(config_path) = cli.config.clone() else {
        return Err(Failure::Usage(
            "--config FILE is required (see sync --help)".into(),
        ));
    };
    let text = read(&config_path, "the config file")?;
    let mut config = SyncConfig::from_json(&text)
        .map_err(|e| Failure::Usage(format!("{}: {e}", config_path.display())))?;
    let env = |k: &str| std::env::var(k).ok();
    let (state, namespace) = config
        .open_state(&config_path, env)
        .await
        .map_err(|e| Failure::Usage(format!("{}: {e}", config_path.display())))?;

    if let Some(command) = &cli.command {
        // Needs only the state store, no service credentials.
        let now = Utc::now();
        if let Command::Approve { ids, by } = command {
            let by = by
                .clone()
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "operator".into());
            // all or nothing: a typo must not leave the others approved
            for id in ids {
                access_engine::check_approval_id(id).map_err(Failure::Usage)?;
            }
            for id in ids {
                state.approve(&namespace, id, &by, now).await?;
                if !cli.json {
                    println!("approved {id} for the next run (by {by})");
                }
            }
        }
        if let Command::Unapprove { ids } = command {
            for id in ids {
                let withdrawn = state.revoke_approval(&namespace, id).await?;
                if !cli.json {
                    match withdrawn {
                        true => println!("withdrew {id}"),
                        false => println!("{id} was not pending"),
                    }
                }
            }
        }
        let pending = state.pending_approvals(&namespace).await?;
        if cli.json {
            let list: Vec<_> = pending
                .iter()
                .map(|a| json!({"id": a.id, "by": a.by, "at": a.at}))
                .collect();
            println!("{}", json!({ "pending": list }));
        } else {
            for a in &pending {
                println!(
                    "pending: {} (by {}, {})",
                    a.id,
                    a.by,
                    a.at.format("%Y-%m-%d %H:%M:%SZ")
                );
            }
            if pending.is_empty() {
                println!("no approvals pending");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }

    let mut missing = config.missing_env(env);
    if cli.listen.is_some() {
        missing.extend(
            config
                .server_env()
                .into_iter()
                .filter(|k| env(k).is_none_or(|v| v.is_empty())),
        );
    }
    if !missing.is_empty() {
        return Err(Failure::Usage(format!(
            "environment variables not set: {} (see sync --help)",
            missing.join(", ")
        )));
    }
    let json_out = cli.json;
    // The SCIM users are a source whether or not this run serves SCIM: a
    // dry run plans from what the platform last pushed.
    let scim = config
        .open_scim(&config_path)
        .map_err(|e| Failure::Usage(format!("server.scim_store: {e}")))?;
    let mut builder = config
        .builder_with_state(env, state, &namespace)
        .map_err(|e| Failure::Usage(format!("{}: {e}", config_path.display())))?;
    if let Some(scim) = &scim {
        builder = builder.source(DirectorySource::new(scim.clone()));
    }
    let syncer = builder
        .on_progress(move |done, total| {
            if !json_out && total >= 50 && (done % 25 == 0 || done == total) {
                eprintln!("  applied {done}/{total} actions");
            }
        })
        .build();
    let now = cli.at.unwrap_or_else(|| syncer.now());

    if let Some(path) = &cli.apply_plan {
        let plan: Plan = serde_json::from_str(&read(path, "the saved plan")?)
            .map_err(|e| Failure::Usage(format!("{}: not a saved plan: {e}", path.display())))?;
        if !cli.json {
            println!(
                "Applying the saved plan from {} (computed for {}).",
                path.display(),
                plan.now
            );
        }
        let report = syncer.apply(&plan).await?;
        return Ok(print_report(&report, cli.json));
    }

    if !cli.apply {
        let dry = syncer.plan(now).await?;
        if let Some(path) = &cli.save_plan {
            std::fs::write(path, serde_json::to_vec_pretty(&dry.plan)?).map_err(|e| {
                Failure::Usage(format!("cannot write the plan to {}: {e}", path.display()))
            })?;
        }
        if cli.json {
            println!(
                "{}",
                json!({
                    "dry_run": true,
                    "now": now,
                    "sources": dry.sources,
                    "inputs": dry.inputs,
                    "plan": dry.plan,
                })
            );
        } else {
            let names = Names::new(&dry.observed, &dry.plan);
            println!("Dry run at {now}: nothing was written.\n");
            for s in &dry.sources {
                match &s.error {
                    Some(e) => {
                        println!("source {}: FAILED ({e}); its revocations are held", s.name)
                    }
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
            match &cli.save_plan {
                Some(path) => println!(
                    "\nPlan saved to {}; apply it with --apply-plan {}.",
                    path.display(),
                    path.display()
                ),
                None if !dry.plan.actions.is_empty() => {
                    println!("\nRun again with --apply to make these changes.")
                }
                None => println!("\nBrivo is in step: nothing to do."),
            }
        }
        let failed = dry.sources.iter().any(|s| s.error.is_some());
        return Ok(if failed {
            ExitCode::FAILURE
        } else if !dry.plan.held.is_empty() {
            ExitCode::from(EXIT_HELD)
        } else if !dry.plan.actions.is_empty() {
            ExitCode::from(EXIT_PENDING)
        } else {
            ExitCode::SUCCESS
        });
    }

    if cli.once {
        let report = syncer.sync_once(now).await?;
        return Ok(print_report(&report, cli.json));
    }

    // /healthz and /metrics show each budget's windows after every run
    // (the runner's budgets, counted in the run state).
    let monitor = Monitor::new().with_max_age(config.unhealthy_after());
    if let Some(addr) = cli.listen {
        let mut routes = Routes::new(monitor.clone());
        if config.server.officernd_webhooks {
            let secret = env("OFFICERND_WEBHOOK_SECRET").unwrap_or_default();
            let verifier = WebhookVerifier::new(officernd_client::SecretString::from(secret));
            // a webhook reads the record it names at once, not Entrata
            let changes = syncer.changes_for("officernd").ok_or_else(|| {
                Failure::Usage(
                    "server.officernd_webhooks is on but the config has no officernd section"
                        .into(),
                )
            })?;
            routes = routes.officernd_webhooks(WebhookReceiver::new(verifier), changes);
        }
        if let Some(scim) = scim {
            let token = env("SCIM_BEARER_TOKEN").unwrap_or_default();
            let wake = syncer
                .waker_for(&format!(
                    "directory:{}",
                    access_sync::DirectoryFeed::directory_id(&scim)
                ))
                .unwrap_or_else(|| syncer.waker());
            routes = routes.scim(scim, token, wake);
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure::Usage(format!("--listen {addr}: {e}")))?;
        // the port bound, when --listen asked for any (`:0`)
        let bound = listener.local_addr().unwrap_or(addr);
        let app = routes.into_router();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "the HTTP server stopped");
            }
        });
        if !cli.json {
            let mut served = vec!["/healthz", "/metrics"];
            if config.server.officernd_webhooks {
                served.push("POST /webhooks/officernd");
            }
            if config.server.scim_directory.is_some() {
                served.push("/scim/v2/Users");
            }
            println!("Serving http://{bound}: {}", served.join(", "));
        }
    }
    if !cli.json {
        println!("Running until Ctrl-C or SIGTERM (RUST_LOG=info for details).");
    }
    syncer
        .run_with(stop_signal(), |event| {
            monitor.observe(&event);
            match event {
                RunEvent::Synced(r) if json_out => println!("{}", report_json(r)),
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
                RunEvent::Failed(e) if json_out => {
                    println!("{}", json!({"failed": e.to_string()}))
                }
                RunEvent::Failed(e) => println!("run failed: {e}; backing off"),
                _ => {}
            }
        })
        .await;
    if !cli.json {
        println!("Stopped.");
    }
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM (`systemctl stop`, `docker stop`): either stops the
/// loop cleanly and releases the lock.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn report_json(report: &SyncReport) -> serde_json::Value {
    json!({
        "dry_run": false,
        "now": report.plan.now,
        "replanned": report.replanned,
        "sources": report.sources,
        "inputs": report.inputs,
        "results": report.results,
        "calls": report.calls,
        "held": report.held,
        "plan": report.plan,
    })
}

fn print_report(report: &SyncReport, json_out: bool) -> ExitCode {
    if json_out {
        println!("{}", report_json(report));
    } else {
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
    }
    if report.failed() > 0 || report.sources.iter().any(|s| s.error.is_some()) {
        ExitCode::FAILURE
    } else if !report.plan.held.is_empty() || !report.held.is_empty() {
        ExitCode::from(EXIT_HELD)
    } else {
        ExitCode::SUCCESS
    }
}
