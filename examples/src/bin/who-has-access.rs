//! Time travel: who holds which door group at an instant, and why.
//!
//! ```text
//! who-has-access                                   # the sandbox storyline, at each of its instants
//! who-has-access --at 2027-03-14T14:00:00Z         # the sandbox storyline at one instant
//! who-has-access --config sync.json [--at T]       # real accounts (reads only; secrets from env)
//! ```
//!
//! It fetches the facts (and reads which mapped groups exist in Brivo), then
//! asks the engine what the desired state is at the instant: the same
//! computation a sync diffs against Brivo. Nothing is written.

use std::process::ExitCode;

use access_engine::{Access, access_at};
use access_sync::config::SyncConfig;
use access_sync::{BrivoBackend, EntrataSource, OfficeRndSource, Syncer};
use chrono::{DateTime, Utc};
use examples::sandbox_wiring::{
    brivo_client, entrata_client, officernd_client, story_mappings, story_zones,
};
use examples::{instant_line, table};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut config: Option<String> = None;
    let mut at: Option<DateTime<Utc>> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--config", Some(v)) => config = Some(v),
            ("--at", Some(v)) => match DateTime::parse_from_rfc3339(&v) {
                Ok(t) => at = Some(t.with_timezone(&Utc)),
                Err(e) => {
                    eprintln!("error: --at {v}: {e}");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("usage: who-has-access [--config FILE] [--at RFC3339]");
                return ExitCode::from(2);
            }
        }
    }
    match run(config, at).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    config: Option<String>,
    at: Option<DateTime<Utc>>,
) -> Result<(), Box<dyn std::error::Error>> {
    match config {
        Some(path) => {
            let config = SyncConfig::from_json(&std::fs::read_to_string(&path)?)?;
            let syncer = config.build(|k| std::env::var(k).ok())?;
            let t = at.unwrap_or_else(|| syncer.now());
            show(&syncer, t, "", &[]).await
        }
        None => {
            let sb = sandbox::Sandbox::start_default().await?;
            let syncer = Syncer::builder(BrivoBackend::new(brivo_client(&sb, 20.0)))
                .source(EntrataSource::new(entrata_client(&sb)))
                .source(OfficeRndSource::new(officernd_client(&sb)))
                .mappings(story_mappings())
                .build();
            let instants = match at {
                Some(t) => vec![("", t)],
                None => sandbox::story::instants(),
            };
            for (label, t) in instants {
                show(&syncer, t, label, &story_zones()).await?;
            }
            sb.shutdown().await;
            Ok(())
        }
    }
}

async fn show(
    syncer: &Syncer,
    t: DateTime<Utc>,
    label: &str,
    zones: &[(&str, chrono_tz::Tz)],
) -> Result<(), Box<dyn std::error::Error>> {
    let (facts, sources) = syncer.fetch(t).await;
    for s in &sources {
        if let Some(e) = &s.error {
            eprintln!("warning: source {} failed ({}): {e}", s.name, e.kind());
        }
    }
    let observed = syncer.observe().await?;
    let access: Access = access_at(
        &facts,
        syncer.mappings(),
        syncer.policy(),
        Some(&observed),
        t,
    );
    let names: std::collections::BTreeMap<_, _> = observed
        .groups
        .iter()
        .map(|g| (g.id, g.name.clone()))
        .collect();
    if label.is_empty() {
        println!("== {}", instant_line(t, zones));
    } else {
        println!("== {label}");
        println!("   {}", instant_line(t, zones));
    }
    let mut rows = Vec::new();
    for i in &access.identities {
        for g in &i.groups {
            rows.push(vec![
                format!("{} {}", i.profile.first_name, i.profile.last_name),
                format!(
                    "{} {}",
                    g.group.0,
                    names.get(&g.group).cloned().unwrap_or_default()
                ),
                g.reasons
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ]);
        }
        if i.suspended {
            rows.push(vec![
                i.external_id.clone(),
                "(suspended)".into(),
                String::new(),
            ]);
        }
    }
    if rows.is_empty() {
        println!("   nobody holds a managed group");
    } else {
        for l in table(&["PERSON", "GROUP", "WHY"], &rows).lines() {
            println!("   {l}");
        }
    }
    match access.next_change {
        Some(n) => println!("   changes next at {}\n", n.format("%Y-%m-%d %H:%M UTC")),
        None => println!("   no change scheduled\n"),
    }
    Ok(())
}
