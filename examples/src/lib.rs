//! Shared helpers for the example binaries: wiring the sandbox to a
//! [`Syncer`](access_sync::Syncer) and printing plans and access as tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use access_engine::{Action, BrivoUserId, GroupId, HeldItem, Mappings, Observed, Plan, UserRef};
use access_sync::{ActionResult, Outcome};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use secrecy::SecretString;

pub mod sandbox_wiring {
    //! Clients and mappings for the in-process sandbox.

    use super::*;
    use sandbox::{Sandbox, story};

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    /// A Brivo client for the sandbox, under a client-side limit of
    /// `per_second` calls.
    pub fn brivo_client(sb: &Sandbox, per_second: f64) -> brivo_client::Client {
        let c = sb.credentials();
        brivo_client::Client::builder(brivo_client::Credentials::password(
            secret(&c.brivo_api_key),
            secret(&c.brivo_client_id),
            secret(&c.brivo_client_secret),
            secret(&c.brivo_username),
            secret(&c.brivo_password),
        ))
        .base_url(sb.brivo_api_url())
        .auth_url(sb.brivo_auth_url())
        .rate_limit(per_second, per_second.ceil().max(1.0) as u32)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("the sandbox's Brivo URL is loopback HTTP, which the client accepts")
    }

    /// An Entrata client for the sandbox (Basic auth on the per-customer host).
    pub fn entrata_client(sb: &Sandbox) -> entrata_client::Client {
        let c = sb.credentials();
        entrata_client::Client::builder(
            &format!("{}/", sb.entrata_api_url()),
            entrata_client::Credentials::basic(
                c.entrata_username.clone(),
                secret(&c.entrata_password),
            ),
        )
        .rate_limit(100.0, 100)
        .build()
        .expect("the sandbox's Entrata URL is loopback HTTP, which the client accepts")
    }

    /// An OfficeRnD client for the sandbox.
    pub fn officernd_client(sb: &Sandbox) -> officernd_client::Client {
        let c = sb.credentials();
        officernd_client::Client::builder(
            c.officernd_org.clone(),
            c.officernd_client_id.clone(),
            secret(&c.officernd_client_secret),
        )
        .api_url(format!("{}/api/v2", sb.officernd_base_url()))
        .token_url(format!("{}/oauth/token", sb.officernd_identity_url()))
        .rate_limit(100.0, 100)
        .build()
        .expect("the sandbox's OfficeRnD URL is loopback HTTP, which the client accepts")
    }

    fn ids(list: &[i64]) -> Vec<GroupId> {
        list.iter().copied().map(GroupId).collect()
    }

    /// The storyline's mappings: properties, OfficeRnD location, floor,
    /// resources, plans and day passes to Brivo groups.
    pub fn story_mappings() -> Mappings {
        let mut m = Mappings::default();
        for (property, groups) in story::property_groups() {
            m.properties.insert(property.into(), ids(&groups));
        }
        for (key, groups) in story::officernd_groups() {
            let groups = ids(&groups);
            match key {
                "day-pass" => {
                    m.day_pass_locations
                        .insert(story::LOCATION_DENVER.into(), groups);
                }
                k if k == story::LOCATION_DENVER => {
                    m.locations.insert(k.into(), groups);
                }
                k if k == story::FLOOR_2 => {
                    m.floors.insert(k.into(), groups);
                }
                k if [
                    story::PLAN_DEDICATED_DESK,
                    story::PLAN_PRIVATE_OFFICE,
                    story::PLAN_HOT_DESK,
                    story::PLAN_DAY_PASS,
                ]
                .contains(&k) =>
                {
                    m.plans.insert(k.into(), groups);
                }
                k => {
                    m.resources.insert(k.into(), groups);
                }
            }
        }
        m
    }

    /// A `sync` config (JSON, `access_sync::config::SyncConfig`) for this
    /// sandbox: its URLs, the storyline's mappings plus the SCIM directory's
    /// group, generous rate limits, and a `server` section for `--listen`.
    /// Pair it with [`env()`] for the secrets.
    pub fn config_json(sb: &Sandbox) -> serde_json::Value {
        let c = sb.credentials();
        let mut mappings = serde_json::to_value(story_mappings()).unwrap_or_default();
        mappings["directories"] =
            serde_json::json!({ story::DIRECTORY_CONNECT: [story::GROUP_CONNECT_MEMBERS] });
        serde_json::json!({
            "brivo": {
                "base_url": sb.brivo_api_url(),
                "auth_url": sb.brivo_auth_url(),
                "rate_limit_per_second": 20.0,
            },
            "entrata": {
                "base_url": format!("{}/", sb.entrata_api_url()),
                "rate_limit_per_second": 100.0,
            },
            "officernd": {
                "org": c.officernd_org,
                "client_id": c.officernd_client_id,
                "api_url": format!("{}/api/v2", sb.officernd_base_url()),
                "token_url": format!("{}/oauth/token", sb.officernd_identity_url()),
            },
            "mappings": mappings,
            "server": {
                "officernd_webhooks": true,
                "scim_directory": story::DIRECTORY_CONNECT,
            },
        })
    }

    /// Writes [`config_json`] to `path` and, beside it, the SCIM directory's
    /// store as an empty directory (a fresh sandbox's platform has pushed
    /// nobody yet), replacing any earlier one. Returns the store's path.
    ///
    /// # Errors
    /// Either file cannot be written.
    pub fn write_config(
        sb: &Sandbox,
        path: &std::path::Path,
    ) -> std::io::Result<std::path::PathBuf> {
        let config =
            serde_json::to_string_pretty(&config_json(sb)).map_err(std::io::Error::other)?;
        std::fs::write(path, &config)?;
        // where `sync` will look for it
        let store = access_sync::config::SyncConfig::from_json(&config)
            .map_err(std::io::Error::other)?
            .scim_store(path);
        create_scim_store(&store)?;
        Ok(store)
    }

    /// [`config_json`] with its SCIM directory's store at `store`
    /// (`server.scim_store`), created there as an empty directory: a config
    /// that works wherever it is saved.
    ///
    /// # Errors
    /// The store cannot be written.
    pub fn config_json_with_store(
        sb: &Sandbox,
        store: &std::path::Path,
    ) -> std::io::Result<serde_json::Value> {
        let mut config = config_json(sb);
        config["server"]["scim_store"] = serde_json::json!(store);
        create_scim_store(store)?;
        Ok(config)
    }

    /// The SCIM directory's store at `store`, empty (a fresh sandbox's
    /// platform has pushed nobody yet), replacing any earlier one.
    fn create_scim_store(store: &std::path::Path) -> std::io::Result<()> {
        match std::fs::remove_file(store) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        access_sync::server::ScimDirectory::create_empty(story::DIRECTORY_CONNECT, store)?;
        Ok(())
    }

    /// The OfficeRnD webhook secret the sandbox signs with.
    pub const WEBHOOK_SECRET: &str = "whsec_sandbox_0000";
    /// The bearer token the sandbox's directory platform sends.
    pub const SCIM_TOKEN: &str = "scim_sandbox_0000";

    /// The environment variables `sync` reads its secrets from, with the
    /// sandbox's dummy values.
    pub fn env(sb: &Sandbox) -> Vec<(&'static str, String)> {
        let c = sb.credentials();
        vec![
            ("BRIVO_API_KEY", c.brivo_api_key.clone()),
            ("BRIVO_CLIENT_ID", c.brivo_client_id.clone()),
            ("BRIVO_CLIENT_SECRET", c.brivo_client_secret.clone()),
            ("BRIVO_USERNAME", c.brivo_username.clone()),
            ("BRIVO_PASSWORD", c.brivo_password.clone()),
            ("ENTRATA_USERNAME", c.entrata_username.clone()),
            ("ENTRATA_PASSWORD", c.entrata_password.clone()),
            ("OFFICERND_CLIENT_SECRET", c.officernd_client_secret.clone()),
            ("OFFICERND_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
            ("SCIM_BEARER_TOKEN", SCIM_TOKEN.to_owned()),
        ]
    }

    /// The storyline's places and zones, for showing an instant locally.
    pub fn story_zones() -> Vec<(&'static str, Tz)> {
        vec![
            ("New York", chrono_tz::America::New_York),
            ("Chicago", chrono_tz::America::Chicago),
            ("Los Angeles", chrono_tz::America::Los_Angeles),
            ("Denver", chrono_tz::America::Denver),
        ]
    }
}

/// Names of Brivo users and groups, for display.
#[derive(Debug, Default)]
pub struct Names {
    users: BTreeMap<BrivoUserId, String>,
    new_users: BTreeMap<String, String>,
    groups: BTreeMap<GroupId, String>,
}

impl Names {
    /// Names from an observation and the creates of a plan.
    pub fn new(observed: &Observed, plan: &Plan) -> Self {
        let mut n = Names::default();
        for u in &observed.users {
            n.users
                .insert(u.id, format!("{} {}", u.first_name, u.last_name));
        }
        for g in &observed.groups {
            n.groups.insert(g.id, g.name.clone());
        }
        for a in &plan.actions {
            if let Action::CreateUser {
                external_id,
                profile,
                ..
            } = a
            {
                n.new_users.insert(
                    external_id.clone(),
                    format!("{} {}", profile.first_name, profile.last_name),
                );
            }
        }
        n
    }

    /// Adds or replaces a group name.
    pub fn set_group(&mut self, id: GroupId, name: impl Into<String>) {
        self.groups.insert(id, name.into());
    }

    /// A user, by reference.
    pub fn user(&self, user: &UserRef) -> String {
        match user {
            UserRef::Existing(id) => self.existing(*id),
            UserRef::New(ext) => self
                .new_users
                .get(ext)
                .cloned()
                .unwrap_or_else(|| ext.clone()),
        }
    }

    fn existing(&self, id: BrivoUserId) -> String {
        match self.users.get(&id) {
            Some(name) => format!("{name} (#{})", id.0),
            None => format!("user #{}", id.0),
        }
    }

    /// A group.
    pub fn group(&self, id: GroupId) -> String {
        match self.groups.get(&id) {
            Some(name) => format!("{} {name}", id.0),
            None => id.0.to_string(),
        }
    }
}

/// Renders rows as an aligned text table with a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let last = cells.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                let _ = write!(out, "{c}");
            } else {
                let _ = write!(out, "{c:<w$}  ", w = widths[i]);
            }
        }
        out.push('\n');
    };
    line(
        &mut out,
        &header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>(),
    );
    line(
        &mut out,
        &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
    );
    for r in rows {
        line(&mut out, r);
    }
    out
}

fn first_reason(reasons: &[access_engine::Reason]) -> String {
    let mut s = reasons.first().map(ToString::to_string).unwrap_or_default();
    if reasons.len() > 1 {
        let _ = write!(s, " (+{} more)", reasons.len() - 1);
    }
    s
}

fn outcome_cell(result: Option<&ActionResult>) -> String {
    match result.map(|r| &r.outcome) {
        None => "planned".into(),
        Some(Outcome::Ok { .. }) => "ok".into(),
        Some(Outcome::Failed { error }) => format!("FAILED: {error}"),
        Some(Outcome::Skipped { reason }) => format!("skipped: {reason}"),
        Some(Outcome::Held { note, .. }) => format!("HELD: {note}"),
        Some(_) => "?".into(),
    }
}

/// The plan as a table: one row per action (one per group change) with,
/// when `results` are given, its outcome; each row is followed by its first
/// reason ("because ...").
pub fn plan_table(plan: &Plan, names: &Names, results: Option<&[ActionResult]>) -> String {
    let mut rows: Vec<(Vec<String>, String)> = Vec::new();
    for (i, a) in plan.actions.iter().enumerate() {
        let result = results.and_then(|r| r.iter().find(|r| r.index == i));
        let status = outcome_cell(result);
        let mut row = |action: &str, user: String, group: String, reason: String| {
            rows.push((vec![action.to_owned(), user, group, status.clone()], reason));
        };
        match a {
            Action::CreateUser { external_id, .. } => row(
                "create",
                names.user(&UserRef::New(external_id.clone())),
                "-".into(),
                format!("owned user {external_id}, for the grants below"),
            ),
            Action::AdoptUser {
                user,
                external_id,
                reasons,
                ..
            } => row(
                "adopt",
                format!("{} as {external_id}", names.existing(*user)),
                "-".into(),
                first_reason(reasons),
            ),
            Action::SetExternalId {
                user,
                external_id,
                reasons,
                ..
            } => row(
                "rekey",
                format!("{} as {external_id}", names.existing(*user)),
                "-".into(),
                first_reason(reasons),
            ),
            Action::UpdateProfile {
                user,
                changed,
                reasons,
                ..
            } => row(
                "update",
                names.existing(*user),
                format!("{changed:?}"),
                first_reason(reasons),
            ),
            Action::Unsuspend { user, reasons } => row(
                "unsuspend",
                names.existing(*user),
                "-".into(),
                first_reason(reasons),
            ),
            Action::ChangeGroups { user, add, remove } => {
                for (sign, list) in [("+ grant", add), ("- revoke", remove)] {
                    for c in list {
                        row(
                            sign,
                            names.user(user),
                            names.group(c.group),
                            first_reason(&c.reasons),
                        );
                    }
                }
            }
            Action::InviteMobilePass {
                user,
                email,
                reissue,
                ..
            } => row(
                if *reissue { "invite again" } else { "invite" },
                names.user(user),
                "-".into(),
                format!("Brivo Mobile Pass invitation to {email}"),
            ),
            Action::AssignCard {
                user,
                pool,
                reasons,
            } => row(
                "card",
                names.user(user),
                format!("pool {pool}"),
                first_reason(reasons),
            ),
            Action::SetCredentialWindow {
                user,
                window,
                reasons,
            } => row(
                "window",
                names.user(user),
                window.to_string(),
                first_reason(reasons),
            ),
            Action::Suspend { user, reasons } => row(
                "suspend",
                names.existing(*user),
                "-".into(),
                first_reason(reasons),
            ),
            Action::Delete { user, reasons } => row(
                "delete",
                names.existing(*user),
                "-".into(),
                first_reason(reasons),
            ),
            other => row("?", format!("{other:?}"), "-".into(), String::new()),
        }
    }
    if rows.is_empty() {
        return "(nothing to do)\n".into();
    }
    let header = ["ACTION", "USER", "GROUP", "RESULT"];
    let cells: Vec<Vec<String>> = rows.iter().map(|(c, _)| c.clone()).collect();
    let rendered = table(&header, &cells);
    let mut lines = rendered.lines();
    let mut out = String::new();
    for l in lines.by_ref().take(2) {
        out.push_str(l);
        out.push('\n');
    }
    let pad = " ".repeat(
        header[0].len().max(
            rows.iter()
                .map(|(c, _)| c[0].chars().count())
                .max()
                .unwrap_or(0),
        ) + 2,
    );
    for (l, (_, reason)) in lines.zip(&rows) {
        out.push_str(l);
        out.push('\n');
        if !reason.is_empty() {
            let _ = writeln!(out, "{pad}because {reason}");
        }
    }
    out
}

/// Held items and warnings, one per line.
pub fn held_and_warnings(plan: &Plan, names: &Names) -> String {
    let mut out = String::new();
    for h in &plan.held {
        let what = match &h.item {
            HeldItem::AddGroup(g) => format!("grant {}", names.group(*g)),
            HeldItem::RemoveGroup(g) => format!("revoke {}", names.group(*g)),
            HeldItem::Suspend => "suspend".into(),
            HeldItem::Delete => "delete".into(),
            HeldItem::Unsuspend => "unsuspend".into(),
            HeldItem::CredentialWindow => "end credentials earlier".into(),
            other => format!("{other:?}"),
        };
        let approve = h
            .rule
            .approval()
            .map_or_else(String::new, |id| format!(" [approve: {id}]"));
        let _ = writeln!(
            out,
            "  HELD     {what} for {}: {}{approve}",
            names.user(&h.user),
            h.rule
        );
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "  warning  {w}");
    }
    out
}

/// One line per scope: zone and where it came from, people with access,
/// and why it is incomplete (revocations held), if it is.
pub fn scopes_table(plan: &Plan) -> String {
    let mut out = String::new();
    for s in &plan.scopes {
        let _ = writeln!(out, "  scope    {s}");
    }
    out
}

/// `2026-11-30 18:00 UTC | New York 13:00 EST | ...`.
pub fn instant_line(t: DateTime<Utc>, zones: &[(&str, Tz)]) -> String {
    let mut s = t.format("%Y-%m-%d %H:%M UTC").to_string();
    for (place, tz) in zones {
        let _ = write!(
            s,
            " | {place} {}",
            t.with_timezone(tz).format("%a %m-%d %H:%M %Z")
        );
    }
    s
}
