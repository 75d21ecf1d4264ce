//! Time travel: who holds which door group at an instant, why, and whether
//! Brivo agrees.
//!
//! ```text
//! who-has-access                                   # the sandbox storyline, at each of its instants
//! who-has-access --at 2027-03-14T14:00:00Z         # the sandbox storyline at one instant
//! who-has-access --person petrov                   # only people whose name or id matches
//! who-has-access --person voss --group 7301        # why (not) this person and this door
//! who-has-access --config sync.json [--at T] [--json]   # real accounts (reads only; secrets from env)
//! ```
//!
//! It fetches the facts, reads Brivo, and asks the engine what the desired
//! state is at the instant: the same computation a sync diffs against
//! Brivo. The IN BRIVO column compares it with what Brivo holds now, and
//! groups that Brivo gives an owned user but the facts do not are listed
//! too. Nothing is written.

use std::io::IsTerminal;
use std::process::ExitCode;

use access_engine::{Access, Exclusion, Observed, access_at, exclusions};
use access_sync::config::SyncConfig;
use access_sync::{BrivoBackend, EntrataSource, OfficeRndSource, Syncer};
use chrono::{DateTime, Utc};
use clap::Parser;
use examples::sandbox_wiring::{
    brivo_client, entrata_client, officernd_client, story_mappings, story_zones,
};
use examples::{instant_line, table};
use serde_json::json;

/// Who holds which door group at an instant, and why. Reads only.
///
/// Without --config it runs against the embedded sandbox's storyline.
#[derive(Debug, Parser)]
#[command(
    name = "who-has-access",
    version,
    after_help = "ENVIRONMENT (with --config): the same secrets as `sync --help` lists.\n\
EXIT CODES: 0 answered; 1 a fetch or Brivo failed; 2 usage or configuration error."
)]
struct Cli {
    /// The sync config file (JSON); without it, the sandbox storyline.
    #[arg(short, long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// The instant (RFC 3339); default now (or each storyline instant).
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    at: Option<DateTime<Utc>>,
    /// Only people whose name or id contains this text (case-insensitive);
    /// also says why the facts that name them grant nothing, if any.
    #[arg(long, value_name = "TEXT")]
    person: Option<String>,
    /// Only this door group (its Brivo id); with --person, also why they
    /// do not hold it.
    #[arg(long, value_name = "ID")]
    group: Option<i64>,
    /// JSON on stdout instead of tables.
    #[arg(long)]
    json: bool,
}

fn parse_instant(v: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e} (expected RFC 3339, e.g. 2026-12-07T15:00:00Z)"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "error".into()),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    if let Some(path) = &cli.config {
        let config = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))
            .and_then(|text| {
                SyncConfig::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
            });
        let config = match config {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let missing = config.missing_env(|k| std::env::var(k).ok());
        if !missing.is_empty() {
            eprintln!(
                "error: environment variables not set: {}",
                missing.join(", ")
            );
            return ExitCode::from(2);
        }
        return finish(from_config(config, path, &cli).await);
    }
    finish(from_sandbox(&cli).await)
}

fn finish(result: Result<(), Box<dyn std::error::Error>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn from_config(
    mut config: SyncConfig,
    path: &std::path::Path,
    cli: &Cli,
) -> Result<(), Box<dyn std::error::Error>> {
    let env = |k: &str| std::env::var(k).ok();
    // The run state holds this installation's ownership prefix: without it
    // every owned user would look like someone else's.
    let (state, namespace) = config.open_state(path, env).await?;
    let mut builder = config.builder_with_state(env, state, &namespace)?;
    if let Some(scim) = config.open_scim(path)? {
        builder = builder.source(access_sync::DirectorySource::new(scim));
    }
    let syncer = builder.build();
    let t = cli.at.unwrap_or_else(|| syncer.now());
    show(&syncer, t, "", &[], cli).await
}

async fn from_sandbox(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let sb = sandbox::Sandbox::start_default().await?;
    let syncer = Syncer::builder(BrivoBackend::new(brivo_client(&sb, 20.0)))
        .source(EntrataSource::new(entrata_client(&sb)))
        .source(OfficeRndSource::new(officernd_client(&sb)))
        .mappings(story_mappings())
        .build();
    let instants = match cli.at {
        Some(t) => vec![("", t)],
        None => sandbox::story::instants(),
    };
    for (label, t) in instants {
        show(&syncer, t, label, &story_zones(), cli).await?;
    }
    sb.shutdown().await;
    Ok(())
}

async fn show(
    syncer: &Syncer,
    t: DateTime<Utc>,
    label: &str,
    zones: &[(&str, chrono_tz::Tz)],
    cli: &Cli,
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
    let group_name = |g: &access_engine::GroupId| {
        format!("{} {}", g.0, names.get(g).cloned().unwrap_or_default())
    };
    let group = cli.group.map(access_engine::GroupId);
    let mut rows = compare(
        &access,
        &observed,
        &syncer.policy().ownership_prefix,
        cli.person.as_deref(),
    );
    rows.retain(|r| group.is_none_or(|g| r.group == g));
    let why_not = match &cli.person {
        Some(person) => why_not(
            &access,
            &exclusions(&facts, syncer.mappings(), syncer.policy(), Some(&observed)),
            person,
            group,
        ),
        None => Vec::new(),
    };
    if cli.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "person": r.person, "external_id": r.external_id, "group": r.group.0,
                    "group_name": names.get(&r.group), "desired": r.desired,
                    "in_brivo": r.in_brivo, "why": r.why,
                })
            })
            .collect();
        let why_not: Vec<_> = why_not
            .iter()
            .map(|(person, why)| json!({"person": person, "why": why}))
            .collect();
        println!(
            "{}",
            json!({"at": t, "label": label, "rows": rows, "why_not": why_not, "next_change": access.next_change})
        );
        return Ok(());
    }
    if label.is_empty() {
        println!("== {}", instant_line(t, zones));
    } else {
        println!("== {label}");
        println!("   {}", instant_line(t, zones));
    }
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.person.clone(),
                group_name(&r.group),
                match (r.desired, r.in_brivo) {
                    (true, true) => "yes".into(),
                    (true, false) => "no: the next sync grants it".into(),
                    (false, true) => "yes: the next sync removes it".into(),
                    (false, false) => String::new(),
                },
                r.why.clone(),
            ]
        })
        .collect();
    if table_rows.is_empty() {
        match &cli.person {
            Some(p) => println!("   nobody matching {p:?} holds or should hold a managed group"),
            None => println!("   nobody holds a managed group"),
        }
    } else {
        for l in table(&["PERSON", "GROUP", "IN BRIVO", "WHY"], &table_rows).lines() {
            println!("   {l}");
        }
    }
    if !why_not.is_empty() {
        println!("   WHY NOT");
        for (person, why) in &why_not {
            println!("   {person}: {why}");
        }
    }
    match access.next_change {
        Some(n) => println!("   changes next at {}\n", n.format("%Y-%m-%d %H:%M UTC")),
        None => println!("   no change scheduled\n"),
    }
    Ok(())
}

/// Why the facts that name a person grant them nothing, and, for a door
/// group, why they do not hold it now: one (person, line) per finding.
fn why_not(
    access: &Access,
    excluded: &[Exclusion],
    person: &str,
    group: Option<access_engine::GroupId>,
) -> Vec<(String, String)> {
    let needle = person.to_lowercase();
    let matches = |p: &access_engine::Profile, id: &str| {
        format!("{} {}", p.first_name, p.last_name)
            .to_lowercase()
            .contains(&needle)
            || id.to_lowercase().contains(&needle)
    };
    let name = |p: &access_engine::Profile| format!("{} {}", p.first_name, p.last_name);
    let mut out: Vec<(String, String)> = excluded
        .iter()
        .filter(|x| matches(&x.profile, &x.external_id))
        .map(|x| (name(&x.profile), format!("{}: {}", x.fact, x.why)))
        .collect();
    if let Some(g) = group {
        for i in access
            .identities
            .iter()
            .filter(|i| matches(&i.profile, &i.external_id))
        {
            if i.groups.iter().any(|a| a.group == g) {
                continue;
            }
            let holds: Vec<String> = i.groups.iter().map(|a| a.group.0.to_string()).collect();
            let line = match (holds.is_empty(), i.has_access_ahead) {
                (true, true) => format!("no grant of group {} now; access begins later", g.0),
                (true, false) => format!("no grant of group {} now, and none ahead", g.0),
                (false, _) => format!(
                    "no fact grants group {} now (their facts give {})",
                    g.0,
                    holds.join(", ")
                ),
            };
            out.push((name(&i.profile), line));
        }
    }
    out
}

/// One person and one managed group: whether the facts give it, whether
/// Brivo holds it, and why.
struct Row {
    person: String,
    external_id: String,
    group: access_engine::GroupId,
    desired: bool,
    in_brivo: bool,
    why: String,
}

/// The desired access beside what Brivo holds: every desired group, and every
/// group an owned Brivo user holds that the facts no longer give.
fn compare(access: &Access, observed: &Observed, prefix: &str, person: Option<&str>) -> Vec<Row> {
    let needle = person.map(str::to_lowercase);
    let matches = |name: &str, id: &str| {
        needle
            .as_ref()
            .is_none_or(|n| name.to_lowercase().contains(n) || id.to_lowercase().contains(n))
    };
    // an identity's external id is its Brivo user's, ownership prefix included
    let held = |id: &str| {
        observed
            .users
            .iter()
            .find(|u| u.external_id.as_deref() == Some(id))
    };
    let managed: std::collections::BTreeSet<_> = observed.groups.iter().map(|g| g.id).collect();
    let mut rows = Vec::new();
    for i in &access.identities {
        let name = format!("{} {}", i.profile.first_name, i.profile.last_name);
        if !matches(&name, &i.external_id) {
            continue;
        }
        let user = held(&i.external_id);
        for g in &i.groups {
            rows.push(Row {
                person: name.clone(),
                external_id: i.external_id.clone(),
                group: g.group,
                desired: true,
                in_brivo: user.is_some_and(|u| u.groups.contains(&g.group)),
                why: g
                    .reasons
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            });
        }
        for extra in user.map(|u| u.groups.as_slice()).unwrap_or_default() {
            if managed.contains(extra) && !i.groups.iter().any(|g| g.group == *extra) {
                rows.push(Row {
                    person: name.clone(),
                    external_id: i.external_id.clone(),
                    group: *extra,
                    desired: false,
                    in_brivo: true,
                    why: "no fact gives it at this instant".into(),
                });
            }
        }
    }
    // owned Brivo users the facts do not name at all
    for u in &observed.users {
        let Some(id) = u
            .external_id
            .as_deref()
            .filter(|e| e.strip_prefix(prefix).is_some_and(|r| r.starts_with(':')))
        else {
            continue;
        };
        let name = format!("{} {}", u.first_name, u.last_name);
        if access.identity(id).is_some() || !matches(&name, id) {
            continue;
        }
        for g in u.groups.iter().filter(|g| managed.contains(g)) {
            rows.push(Row {
                person: name.clone(),
                external_id: id.to_owned(),
                group: *g,
                desired: false,
                in_brivo: true,
                why: "no source names this person any more".into(),
            });
        }
    }
    rows
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use access_engine::{
        BrivoUserId, Customer, CustomerType, Facts, GroupId, Lease, LeaseStatus, Mappings,
        ObservedGroup, ObservedUser, Policy, Profile, Property,
    };
    use chrono::TimeZone;

    #[test]
    fn brivo_is_compared_with_the_facts_both_ways() {
        let mut facts = Facts::default();
        facts
            .properties
            .push(Property::new("P", "America/New_York"));
        facts.leases.push(
            Lease::new("L1", "P", LeaseStatus::Current)
                .with_move_in(chrono::NaiveDate::from_ymd_opt(2026, 1, 1))
                .with_customer(Customer::new(
                    "C1",
                    CustomerType::Primary,
                    Profile::new("Ada", "Held"),
                )),
        );
        let mut mappings = Mappings::default();
        mappings
            .properties
            .insert("P".into(), vec![GroupId(1), GroupId(2)]);
        let policy = Policy::default();
        let t = Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap();
        let access = access_at(&facts, &mappings, &policy, None, t);
        let ada = access.identities[0].external_id.clone();
        let observed = Observed::new(
            vec![
                // Ada holds group 1 and a managed group 3 the facts do not give
                ObservedUser::new(BrivoUserId(10))
                    .with_external_id(ada.clone())
                    .with_name("Ada", "Held")
                    .with_groups([GroupId(1), GroupId(3)]),
                // an owned user no source names
                ObservedUser::new(BrivoUserId(11))
                    .with_external_id("sync:entrata:gone")
                    .with_name("Gus", "Gone")
                    .with_groups([GroupId(1)]),
                // another integration's user is not ours to report
                ObservedUser::new(BrivoUserId(12))
                    .with_external_id("other:x")
                    .with_groups([GroupId(1)]),
            ],
            [1, 2, 3]
                .into_iter()
                .map(|g| ObservedGroup::new(GroupId(g), format!("g{g}")))
                .collect(),
        );
        let rows = compare(&access, &observed, "sync", None);
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.person.as_str(), r.group.0, r.desired, r.in_brivo))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Ada Held", 1, true, true),
                ("Ada Held", 2, true, false),
                ("Ada Held", 3, false, true),
                ("Gus Gone", 1, false, true),
            ]
        );
        // why not: a guarantor is named but not admitted; Ada lacks group 3
        facts.leases[0].customers.push(Customer::new(
            "C2",
            CustomerType::Guarantor,
            Profile::new("Gil", "Held"),
        ));
        let excluded = exclusions(&facts, &mappings, &policy, None);
        let lines = why_not(&access, &excluded, "held", Some(GroupId(3)));
        assert_eq!(
            lines,
            vec![
                (
                    "Gil Held".to_owned(),
                    "lease L1 Current: Guarantor customers are not admitted (policy.admitted_customer_types)"
                        .to_owned()
                ),
                ("Ada Held".to_owned(), "no fact grants group 3 now (their facts give 1, 2)".to_owned()),
            ]
        );
        let only_gus = compare(&access, &observed, "sync", Some("GONE"));
        assert_eq!(only_gus.len(), 1);
        assert_eq!(only_gus[0].external_id, "sync:entrata:gone");
    }
}
