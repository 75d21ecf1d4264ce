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
//! too, each with what the next sync would do about it (the plan it would
//! make now: a revocation held because a source could not be read says so).
//!
//! Nothing is written: the run state (for this installation's ownership
//! prefix and the last run's counts) is opened read-only, and when `sync`
//! has not run yet with this config it is not created; no Brivo user is
//! then this installation's. A source that cannot be read is reported and
//! the command exits 1, after showing what the other sources say.

use std::io::IsTerminal;
use std::process::ExitCode;

use access_engine::{
    Access, Action, Baseline, BrivoUserId, Exclusion, HeldItem, HoldRule, Observed, Plan, Scope,
    UserRef, access_at, exclusions,
};
use access_sync::config::SyncConfig;
use access_sync::{BrivoBackend, EntrataSource, OfficeRndSource, Syncer};
use chrono::{DateTime, Utc};
use clap::Parser;
use examples::sandbox_wiring::{
    brivo_client, entrata_client, officernd_client, story_mappings, story_zones,
};
use examples::{instant_line, table};
use serde_json::json;

const AFTER_HELP: &str = "\
ENVIRONMENT (with --config; all missing ones are reported at once):
  BRIVO_API_KEY, BRIVO_CLIENT_ID, BRIVO_CLIENT_SECRET, BRIVO_USERNAME, BRIVO_PASSWORD
  ENTRATA_USERNAME + ENTRATA_PASSWORD   with entrata.base_url (Basic auth)
  ENTRATA_API_KEY                       with entrata.gateway_org
  OFFICERND_CLIENT_SECRET               with an officernd section
  the variable named by state.postgres_url_env   with PostgreSQL run state
  RUST_LOG                              log filter (default: error), logs go to stderr
  Not read: OFFICERND_WEBHOOK_SECRET, SCIM_BEARER_TOKEN (only `sync --listen` serves);
  the SCIM directory is read from its store (server.scim_store).

RUN STATE (with --config): read-only, for this installation's ownership prefix and the
  last run's counts; if `sync` has not run with this config yet, nothing is created and
  no Brivo user counts as this installation's.

EXIT CODES:
  0  answered: every source was read and Brivo observed
  1  a source could not be read (what the others say is still shown; its people's
     revocations are held, as a sync would) or Brivo could not be read
  2  usage or configuration error (flags, unreadable or invalid config, missing
     variables, a run state that cannot be read)";

/// Who holds which door group at an instant, and why. Reads only.
///
/// Without --config it runs against the embedded sandbox's storyline.
#[derive(Debug, Parser)]
#[command(name = "who-has-access", version, after_help = AFTER_HELP)]
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
                "error: environment variables not set: {} (see who-has-access --help)",
                missing.join(", ")
            );
            return ExitCode::from(2);
        }
        return finish(from_config(config, path, &cli).await);
    }
    finish(from_sandbox(&cli).await)
}

/// How a command ends; each maps to one documented exit code.
enum Failure {
    /// Exit 2: the operator must fix flags, the config or the environment.
    Usage(String),
    /// Exit 1: a source or Brivo could not be read.
    Run(Box<dyn std::error::Error>),
}

impl<E: Into<Box<dyn std::error::Error>>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Run(e.into())
    }
}

/// The sources that could not be read, by name, with why.
type Unread = Vec<(String, String)>;

fn finish(result: Result<Unread, Failure>) -> ExitCode {
    match result {
        Ok(unread) if unread.is_empty() => ExitCode::SUCCESS,
        Ok(unread) => {
            let mut names: Vec<&str> = unread.iter().map(|(name, _)| name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            eprintln!(
                "error: could not read {}: the access shown lacks whom it names",
                names.join(", ")
            );
            ExitCode::FAILURE
        }
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

/// The ownership prefix used when `sync` has not run yet with this config:
/// no installation is given it, so it owns no Brivo user.
const NO_RUN_YET: &str = "sync-not-run-yet";

async fn from_config(
    mut config: SyncConfig,
    path: &std::path::Path,
    cli: &Cli,
) -> Result<Unread, Failure> {
    let env = |k: &str| std::env::var(k).ok();
    let usage = |e: &dyn std::fmt::Display| Failure::Usage(format!("{}: {e}", path.display()));
    // reads only: no audit line either
    config.run.audit_log = None;
    // The run state holds this installation's ownership prefix: without it
    // every owned user would look like someone else's. Opened read-only,
    // and not created when absent.
    let opened = config
        .open_state_read_only(path, env)
        .await
        .map_err(|e| usage(&e))?;
    let (mut builder, baseline) = match opened {
        Some((state, namespace)) => {
            let baseline = access_sync::syncer::baseline(state.as_ref(), &namespace)
                .await
                .map_err(|e| usage(&e))?;
            let builder = config
                .builder_with_state(env, state, &namespace)
                .map_err(|e| usage(&e))?;
            (builder, baseline)
        }
        None => {
            let at = config
                .state_file(path)
                .map_or_else(|| "PostgreSQL".to_owned(), |f| f.display().to_string());
            eprintln!(
                "note: no run state for this config ({at}): sync has not run with it yet, so no \
                 Brivo user is this installation's; nothing was created"
            );
            if !config.prefix_given {
                config.policy.ownership_prefix = NO_RUN_YET.to_owned();
            }
            let builder = config.builder(env).map_err(|e| usage(&e))?;
            (builder, Baseline::default())
        }
    };
    if let Some(scim) = config
        .open_scim(path)
        .map_err(|e| Failure::Usage(format!("server.scim_store: {e}")))?
    {
        builder = builder.source(access_sync::DirectorySource::new(scim));
    }
    let syncer = builder.build();
    let t = cli.at.unwrap_or_else(|| syncer.now());
    show(&syncer, &baseline, t, "", &[], cli).await
}

async fn from_sandbox(cli: &Cli) -> Result<Unread, Failure> {
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
    let mut unread = Unread::new();
    for (label, t) in instants {
        let failed = show(&syncer, &Baseline::default(), t, label, &story_zones(), cli).await?;
        unread.extend(failed);
    }
    sb.shutdown().await;
    Ok(unread)
}

/// Prints who has access at `t`; returns the sources that could not be read.
async fn show(
    syncer: &Syncer,
    baseline: &Baseline,
    t: DateTime<Utc>,
    label: &str,
    zones: &[(&str, chrono_tz::Tz)],
    cli: &Cli,
) -> Result<Unread, Failure> {
    let (mut facts, sources) = syncer.fetch(t).await;
    let mut unread = Unread::new();
    for s in &sources {
        if let Some(e) = &s.error {
            eprintln!(
                "warning: source {} could not be read ({}): {e}; its people's revocations are held",
                s.name,
                e.kind()
            );
            unread.push((s.name.clone(), e.to_string()));
        }
    }
    facts.baseline = baseline.clone();
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
    // what the next sync would do: the plan it would make now
    let plan = access_engine::plan(&facts, syncer.mappings(), syncer.policy(), &observed, t);
    annotate(&mut rows, &plan);
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
                    "in_brivo": r.in_brivo, "why": r.why, "next_sync": r.next.key(),
                    "held": match &r.next { Next::Held(why) => Some(why), _ => None },
                })
            })
            .collect();
        let why_not: Vec<_> = why_not
            .iter()
            .map(|(person, why)| json!({"person": person, "why": why}))
            .collect();
        let unread_json: Vec<_> = unread
            .iter()
            .map(|(source, why)| json!({"source": source, "error": why}))
            .collect();
        println!(
            "{}",
            json!({"at": t, "label": label, "rows": rows, "why_not": why_not,
                   "next_change": access.next_change, "unread_sources": unread_json})
        );
        return Ok(unread);
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
                r.in_brivo_cell(),
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
    for (_, why) in &unread {
        println!("   NOT READ {why}");
    }
    match access.next_change {
        Some(n) => println!("   changes next at {}\n", n.format("%Y-%m-%d %H:%M UTC")),
        None => println!("   no change scheduled\n"),
    }
    Ok(unread)
}

/// What the next sync does about one person's group.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Next {
    /// It changes nothing.
    Keeps,
    /// It grants the group.
    Grants,
    /// It removes the group.
    Removes,
    /// A safety rule holds the change back: why.
    Held(String),
    /// Held because this scope could not be read (in full).
    Unread(Scope),
}

impl Next {
    fn key(&self) -> &'static str {
        match self {
            Next::Keeps => "keeps",
            Next::Grants => "grants",
            Next::Removes => "removes",
            Next::Held(_) | Next::Unread(_) => "held",
        }
    }
}

/// Sets what the next sync does about each row, from its plan.
fn annotate(rows: &mut [Row], plan: &Plan) {
    for r in rows {
        r.next = next_sync(plan, r);
        if let (false, Next::Unread(scope)) = (r.desired, &r.next) {
            // absent from a source that could not be read: not known to be gone
            r.why = format!("unknown: {scope} could not be read");
        }
    }
}

/// What the plan does about `row`'s person and group: an action that
/// grants or removes it, a held item, or nothing.
fn next_sync(plan: &Plan, row: &Row) -> Next {
    // a user adopted or re-keyed by this plan carries the identity's id
    let rekeyed = plan.actions.iter().find_map(|a| match a {
        Action::AdoptUser {
            user, external_id, ..
        }
        | Action::SetExternalId {
            user, external_id, ..
        } if *external_id == row.external_id => Some(*user),
        _ => None,
    });
    let is_row_user = |u: &UserRef| match u {
        UserRef::Existing(id) => Some(*id) == row.user || Some(*id) == rekeyed,
        UserRef::New(ext) => *ext == row.external_id,
    };
    for a in &plan.actions {
        if let Action::ChangeGroups { user, add, remove } = a
            && is_row_user(user)
        {
            if add.iter().any(|c| c.group == row.group) {
                return Next::Grants;
            }
            if remove.iter().any(|c| c.group == row.group) {
                return Next::Removes;
            }
        }
    }
    let held = plan.held.iter().find(|h| {
        is_row_user(&h.user)
            && matches!(h.item, HeldItem::AddGroup(g) | HeldItem::RemoveGroup(g) if g == row.group)
    });
    match held.map(|h| &h.rule) {
        Some(HoldRule::Incomplete { scope }) => Next::Unread(scope.clone()),
        Some(rule) => Next::Held(format!(
            "{rule}{}",
            rule.approval()
                .map_or_else(String::new, |id| format!(" [approve: {id}]"))
        )),
        None => Next::Keeps,
    }
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
    /// The person's Brivo user, if Brivo has one (by external id).
    user: Option<BrivoUserId>,
    group: access_engine::GroupId,
    desired: bool,
    in_brivo: bool,
    why: String,
    /// What the next sync does about it.
    next: Next,
}

impl Row {
    /// The IN BRIVO column: whether Brivo holds it and, where Brivo and the
    /// facts differ, what the next sync does.
    fn in_brivo_cell(&self) -> String {
        let held = |now: &str, why: &str| format!("{now}: held, {why}");
        match (self.desired, self.in_brivo, &self.next) {
            (true, true, _) => "yes".into(),
            (true, false, Next::Grants) => "no: the next sync grants it".into(),
            (true, false, Next::Held(why)) => held("no", why),
            (true, false, Next::Unread(scope)) => held("no", &format!("{scope} could not be read")),
            (true, false, _) => "no: the next sync does not grant it".into(),
            (false, true, Next::Removes) => "yes: the next sync removes it".into(),
            (false, true, Next::Held(why)) => held("yes", why),
            (false, true, Next::Unread(scope)) => {
                held("yes", &format!("{scope} could not be read"))
            }
            (false, true, _) => "yes: the next sync keeps it".into(),
            (false, false, _) => String::new(),
        }
    }
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
                user: user.map(|u| u.id),
                group: g.group,
                next: Next::Keeps,
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
                    user: user.map(|u| u.id),
                    group: *extra,
                    next: Next::Keeps,
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
                user: Some(u.id),
                group: *g,
                next: Next::Keeps,
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

        // the drift view says what the next sync does: Ada's group 2 is
        // granted, Gus's group 1 removed...
        let mut rows = rows;
        let plan = access_engine::plan(&facts, &mappings, &policy, &observed, t);
        annotate(&mut rows, &plan);
        let cell = |rows: &[Row], person: &str, group: i64| {
            let r = rows
                .iter()
                .find(|r| r.person == person && r.group.0 == group)
                .unwrap();
            (r.next.clone(), r.in_brivo_cell(), r.why.clone())
        };
        assert_eq!(cell(&rows, "Ada Held", 2).1, "no: the next sync grants it");
        assert_eq!(
            cell(&rows, "Gus Gone", 1).1,
            "yes: the next sync removes it"
        );
        // ... unless Entrata could not be read: then none of its people's
        // groups is removed, and the row says why
        let entrata = Scope::Source(access_engine::Source::Entrata);
        facts
            .completeness
            .mark_incomplete(entrata.clone(), "HTTP 503");
        let plan = access_engine::plan(&facts, &mappings, &policy, &observed, t);
        annotate(&mut rows, &plan);
        assert_eq!(
            cell(&rows, "Gus Gone", 1),
            (
                Next::Unread(entrata),
                "yes: held, source Entrata could not be read".into(),
                "unknown: source Entrata could not be read".into()
            )
        );
    }
}
