//! A serde configuration for running a [`Syncer`] against real accounts
//! (what the `sync` example reads): service endpoints and limits, mappings
//! and policy. **Secrets are never read from the file**, only from the
//! environment; a file that names a secret field is rejected.
//!
//! ```
//! use access_sync::config::SyncConfig;
//!
//! let config = SyncConfig::from_json(r#"{
//!   "brivo": { "rate_limit_per_second": 5 },
//!   "entrata": { "base_url": "https://acme.entrata.com/api/v1/",
//!                "zones": { "100": "America/New_York" } },
//!   "mappings": { "properties": { "100": [7101] } },
//!   "policy": { "start_time": "09:00:00" }
//! }"#).unwrap();
//! assert_eq!(config.policy.start_time.to_string(), "09:00:00");
//!
//! // Secrets come from the environment (here a map, for the example).
//! let env = |name: &str| Some(format!("{name}-value"));
//! let syncer = config.build(env).unwrap();
//! assert_eq!(syncer.mappings().managed_groups().len(), 1);
//!
//! assert!(SyncConfig::from_json(r#"{"brivo": {"password": "hunter2"}}"#).is_err());
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use access_engine::{Mappings, Policy};
use chrono_tz::Tz;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::audit::JsonLinesAudit;
use crate::brivo::BrivoBackend;
use crate::entrata::EntrataSource;
use crate::officernd::OfficeRndSource;
use crate::syncer::{Syncer, SyncerBuilder};

/// The smallest client-side rate accepted, in calls per second: slower
/// would make one run take hours.
pub const MIN_RATE: f64 = 0.1;
/// The largest client-side rate accepted, in calls per second.
pub const MAX_RATE: f64 = 1000.0;
/// The largest Brivo burst accepted.
pub const MAX_BURST: u32 = 1000;
/// The longest OfficeRnD booking horizon accepted, in days.
pub const MAX_BOOKING_HORIZON_DAYS: i64 = 400;
/// The shortest poll interval accepted, in seconds.
pub const MIN_POLL_SECS: u64 = 10;
/// The longest poll interval accepted, in seconds (1 day).
pub const MAX_POLL_SECS: u64 = 86_400;
/// The most users worked on at once.
pub const MAX_CONCURRENCY: usize = 64;

/// Brivo: endpoints and limits. Secrets from `BRIVO_API_KEY`,
/// `BRIVO_CLIENT_ID`, `BRIVO_CLIENT_SECRET`, `BRIVO_USERNAME` (the
/// Administrator ID) and `BRIVO_PASSWORD`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct BrivoConfig {
    /// `"us"` (default) or `"eu"`.
    pub region: Option<String>,
    /// API base URL override (ends in `/v1/api`).
    pub base_url: Option<String>,
    /// Auth host override.
    pub auth_url: Option<String>,
    /// Client-side limit in calls per second (default 5).
    pub rate_limit_per_second: Option<f64>,
    /// Burst (default: the per-second limit).
    pub burst: Option<u32>,
    /// This runner's share of the account's call budget: at most this many
    /// Brivo calls in any 30 days. The client refuses calls past it (a
    /// window kept by the process); the runner paces its reads to half of
    /// it (a window kept in the run state, see `access_sync::budget`).
    /// Default for the runner's pacing: 100,000, Brivo's entry tier.
    pub calls_per_30_days: Option<u64>,
    /// How often Brivo is observed in full, in seconds (default 86,400;
    /// 0: every run). In between, the runner reads again only the users it
    /// writes.
    pub full_reconciliation_secs: Option<u64>,
}

/// Entrata: the per-customer host (Basic auth: `ENTRATA_USERNAME`,
/// `ENTRATA_PASSWORD`) or the gateway org (`ENTRATA_API_KEY`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct EntrataConfig {
    /// `https://{subdomain}.entrata.com/api/v1/` (Basic auth).
    pub base_url: Option<String>,
    /// Gateway org (API key), used when `base_url` is not set.
    pub gateway_org: Option<String>,
    /// Only these property ids (default: every property the credentials see).
    pub properties: Option<Vec<u64>>,
    /// IANA zones per property id, overriding Entrata's.
    pub zones: BTreeMap<String, String>,
    /// Client-side limit in calls per second.
    pub rate_limit_per_second: Option<f64>,
    /// How often the leases are read, in seconds (default: the poll
    /// interval), stretched to stay within half of `calls_per_day`.
    pub refresh_secs: Option<u64>,
    /// How often the property list and the Past leases are read in full,
    /// in seconds (default 21,600).
    pub slow_refresh_secs: Option<u64>,
    /// Calls allowed in any 24 hours (default 2,500, the developer
    /// agreement's).
    pub calls_per_day: Option<u64>,
}

/// OfficeRnD Flex: the organization and application. Secret from
/// `OFFICERND_CLIENT_SECRET`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct OfficeRndConfig {
    /// The organization slug.
    pub org: String,
    /// The application's client id (not a secret).
    pub client_id: String,
    /// API root override (up to `/api/v2`).
    pub api_url: Option<String>,
    /// Token endpoint override.
    pub token_url: Option<String>,
    /// Days of bookings read ahead (default 35).
    pub booking_horizon_days: Option<i64>,
    /// How often OfficeRnD is read, in seconds (default: the poll
    /// interval); a webhook reads it at once.
    pub refresh_secs: Option<u64>,
    /// Reads allowed in any 24 hours (OfficeRnD documents none: default
    /// none); polling is paced to half of it.
    pub reads_per_day: Option<u64>,
    /// The OAuth scopes to request, replacing the default
    /// `officernd_client::config::SYNC_SCOPES`: for an application granted
    /// a different set. One ungranted scope fails the whole token request.
    pub scopes: Option<Vec<String>>,
}

/// Runner settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RunConfig {
    /// Longest sleep between runs, in seconds (default 900).
    pub poll_interval_secs: Option<u64>,
    /// Users worked on at once during an apply (default 8).
    pub concurrency: Option<usize>,
    /// Where to append the JSON-lines audit log (default: none).
    pub audit_log: Option<PathBuf>,
    /// How old a source's facts may be and still be trusted, in seconds
    /// (default: twice its refresh interval, at least an hour).
    pub max_fact_age_secs: Option<u64>,
}

/// Where the run state lives (see `access_state`): scope counts,
/// backoffs, call counts, approvals, the lock, the installation's prefix.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct StateConfig {
    /// A SQLite file (default: `<config file>.state.sqlite` beside the
    /// config). For one runner.
    pub sqlite: Option<PathBuf>,
    /// The environment variable holding a PostgreSQL URL (for several
    /// runner replicas; needs the `postgres` feature). Takes precedence.
    pub postgres_url_env: Option<String>,
    /// This installation's name in a shared store (default `default`).
    pub namespace: Option<String>,
}

/// The HTTP surface `sync --apply --listen ADDR` serves (the `server`
/// feature's [`Routes`](crate::server::Routes)): which routes, and where
/// the SCIM directory keeps its users. `/healthz` and `/metrics` are always
/// served.
///
/// ```
/// use access_sync::config::SyncConfig;
///
/// let config = SyncConfig::from_json(r#"{
///   "brivo": {},
///   "officernd": {"org": "acme", "client_id": "app"},
///   "mappings": {"directories": {"connect-hq": [7501]}},
///   "server": {"officernd_webhooks": true, "scim_directory": "connect-hq"}
/// }"#)?;
/// assert_eq!(config.server_env(), ["OFFICERND_WEBHOOK_SECRET", "SCIM_BEARER_TOKEN"]);
/// assert!(!config.required_env().contains(&"SCIM_BEARER_TOKEN"), "a dry run does not need it");
/// # Ok::<(), access_sync::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Accept OfficeRnD webhooks at `POST /webhooks/officernd` (the
    /// signing secret from `OFFICERND_WEBHOOK_SECRET`); each verified event
    /// wakes a run. Needs the `officernd` section.
    pub officernd_webhooks: bool,
    /// Serve SCIM 2.0 at `/scim/v2/Users` as this directory, a key of
    /// `mappings.directories` (the bearer token from `SCIM_BEARER_TOKEN`).
    pub scim_directory: Option<String>,
    /// The JSON file the SCIM users are kept in (default:
    /// `<config file>.scim.json` beside the config).
    pub scim_store: Option<PathBuf>,
    /// Seconds without a successful run before `/healthz` answers 503
    /// (default: four poll intervals, at least 15 minutes).
    pub unhealthy_after_secs: Option<u64>,
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SyncConfig {
    /// Brivo (required: it is where access is written).
    pub brivo: BrivoConfig,
    /// Entrata, if leases are a source.
    pub entrata: Option<EntrataConfig>,
    /// OfficeRnD, if coworking data is a source.
    pub officernd: Option<OfficeRndConfig>,
    /// Which Brivo groups each fact grants (the managed groups).
    pub mappings: Mappings,
    /// The access and safety policy.
    pub policy: Policy,
    /// Runner settings.
    pub run: RunConfig,
    /// Where the run state lives.
    pub state: StateConfig,
    /// What `--listen` serves.
    pub server: ServerConfig,
    /// Whether the file names `policy.ownership_prefix`; if not, the
    /// installation's own prefix is generated once and kept in the state
    /// ([`SyncConfig::open_state`]), so two installations never share one.
    #[serde(skip)]
    pub prefix_given: bool,
}

/// The configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file is not valid JSON for this schema (a secret field in the
    /// file is reported here too: secrets belong in the environment).
    #[error("config file: {0}")]
    Parse(#[from] serde_json::Error),
    /// Environment variables holding secrets are missing: all of them, so
    /// one attempt tells the operator everything to set.
    #[error(
        "environment variable{} not set: {} (secrets come only from the environment)",
        if .0.len() == 1 { " is" } else { "s are" },
        .0.join(", ")
    )]
    MissingEnv(Vec<&'static str>),
    /// A value is invalid.
    #[error("{0}")]
    Invalid(String),
    /// A value is out of range: `field` is its path in the file (e.g.
    /// `officernd.booking_horizon_days`), `problem` says what is allowed.
    #[error("config file: {field}: {problem}")]
    Field {
        /// The field's path in the file.
        field: String,
        /// What is wrong and what is allowed.
        problem: String,
    },
    /// A client could not be built.
    #[error("{service} client: {message}")]
    Client {
        /// Which service.
        service: &'static str,
        /// The client's error.
        message: String,
    },
    /// The audit log could not be opened.
    #[error("audit log: {0}")]
    Audit(#[from] std::io::Error),
    /// The run state store could not be opened.
    #[error("run state: {0}")]
    State(String),
}

#[cfg(feature = "postgres")]
async fn open_postgres(
    var: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<std::sync::Arc<dyn access_state::RunState>, ConfigError> {
    let url = env(var).ok_or_else(|| ConfigError::State(format!("{var} is not set")))?;
    Ok(std::sync::Arc::new(
        access_state::PostgresState::connect(&url)
            .await
            .map_err(|e| ConfigError::State(e.to_string()))?,
    ))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(
    var: &str,
    _env: impl Fn(&str) -> Option<String>,
) -> Result<std::sync::Arc<dyn access_state::RunState>, ConfigError> {
    Err(ConfigError::State(format!(
        "state.postgres_url_env ({var}) needs access-sync built with the `postgres` feature"
    )))
}

impl SyncConfig {
    /// Parses the JSON form and [validates](SyncConfig::validate) it.
    ///
    /// # Errors
    /// [`ConfigError::Parse`], e.g. for an unknown (or secret) field, in
    /// any section: a typo is an error, never a silent default.
    /// [`ConfigError::Field`] for a value out of range.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let raw: serde_json::Value = serde_json::from_str(text)?;
        let prefix_given = raw
            .pointer("/policy/ownership_prefix")
            .is_some_and(|v| !v.is_null());
        // the path makes a typo easy to find: `policy: unknown field ...`
        let mut config: SyncConfig = serde_path_to_error::deserialize(raw).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                inner
            } else {
                <serde_json::Error as serde::de::Error>::custom(format!("{path}: {inner}"))
            }
        })?;
        config.prefix_given = prefix_given;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value is in range (the one place config ranges are
    /// checked; [`from_json`](SyncConfig::from_json) and the builders call
    /// it): the policy ([`Policy::validate`]), rates (finite, 0.1 to 1000
    /// calls/s), the booking horizon (1 to 400 days), the poll interval
    /// (10 s to 1 day), concurrency (1 to 64), OfficeRnD scopes (not empty,
    /// no blank entry).
    ///
    /// # Errors
    /// [`ConfigError::Field`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn field(field: &str, problem: String) -> ConfigError {
            ConfigError::Field {
                field: field.to_owned(),
                problem,
            }
        }
        fn rate(name: &str, value: Option<f64>) -> Result<(), ConfigError> {
            match value {
                Some(r) if !(MIN_RATE..=MAX_RATE).contains(&r) => Err(field(
                    name,
                    format!("{r} calls per second is out of range: use {MIN_RATE} to {MAX_RATE}"),
                )),
                _ => Ok(()),
            }
        }
        self.policy
            .validate()
            .map_err(|e| field(&format!("policy.{}", e.field), e.problem))?;
        rate(
            "brivo.rate_limit_per_second",
            self.brivo.rate_limit_per_second,
        )?;
        if let Some(b) = self.brivo.burst
            && !(1..=MAX_BURST).contains(&b)
        {
            return Err(field(
                "brivo.burst",
                format!("{b} is out of range: use 1 to {MAX_BURST}"),
            ));
        }
        if self.brivo.calls_per_30_days == Some(0) {
            return Err(field(
                "brivo.calls_per_30_days",
                "0 would forbid every call: leave it out for no budget".to_owned(),
            ));
        }
        fn secs(name: &str, value: Option<u64>, min: u64, max: u64) -> Result<(), ConfigError> {
            match value {
                Some(v) if !(min..=max).contains(&v) => Err(field(
                    name,
                    format!("{v} is out of range: use {min} to {max} seconds"),
                )),
                _ => Ok(()),
            }
        }
        fn budget(name: &str, value: Option<u64>) -> Result<(), ConfigError> {
            if value == Some(0) {
                return Err(field(
                    name,
                    "0 would forbid every read: leave it out for the default".to_owned(),
                ));
            }
            Ok(())
        }
        secs(
            "brivo.full_reconciliation_secs",
            self.brivo.full_reconciliation_secs,
            0,
            7 * MAX_POLL_SECS,
        )?;
        secs(
            "run.max_fact_age_secs",
            self.run.max_fact_age_secs,
            MIN_POLL_SECS,
            7 * MAX_POLL_SECS,
        )?;
        if let Some(e) = &self.entrata {
            rate("entrata.rate_limit_per_second", e.rate_limit_per_second)?;
            secs(
                "entrata.refresh_secs",
                e.refresh_secs,
                MIN_POLL_SECS,
                MAX_POLL_SECS,
            )?;
            secs(
                "entrata.slow_refresh_secs",
                e.slow_refresh_secs,
                0,
                7 * MAX_POLL_SECS,
            )?;
            budget("entrata.calls_per_day", e.calls_per_day)?;
        }
        if let Some(o) = &self.officernd {
            for (name, value) in [
                ("officernd.org", &o.org),
                ("officernd.client_id", &o.client_id),
            ] {
                if value.trim().is_empty() {
                    return Err(field(
                        name,
                        "is empty: set it from OfficeRnD's developer settings".to_owned(),
                    ));
                }
            }
            secs(
                "officernd.refresh_secs",
                o.refresh_secs,
                MIN_POLL_SECS,
                MAX_POLL_SECS,
            )?;
            budget("officernd.reads_per_day", o.reads_per_day)?;
            if let Some(scopes) = &o.scopes {
                if scopes.is_empty() {
                    return Err(field(
                        "officernd.scopes",
                        "is empty: leave it out for the sync's read scopes".to_owned(),
                    ));
                }
                // A blank or spaced entry would change the space-separated
                // list sent to the token endpoint.
                if let Some(bad) = scopes
                    .iter()
                    .find(|s| s.trim().is_empty() || s.contains(char::is_whitespace))
                {
                    return Err(field(
                        "officernd.scopes",
                        format!("{bad:?} is not a scope: one scope per entry, no blanks"),
                    ));
                }
            }
            if let Some(days) = o.booking_horizon_days
                && !(1..=MAX_BOOKING_HORIZON_DAYS).contains(&days)
            {
                return Err(field(
                    "officernd.booking_horizon_days",
                    format!("{days} is out of range: use 1 to {MAX_BOOKING_HORIZON_DAYS} days"),
                ));
            }
        }
        if let Some(secs) = self.run.poll_interval_secs
            && !(MIN_POLL_SECS..=MAX_POLL_SECS).contains(&secs)
        {
            return Err(field(
                "run.poll_interval_secs",
                format!(
                    "{secs} is out of range: use {MIN_POLL_SECS} to {MAX_POLL_SECS} seconds (1 day)"
                ),
            ));
        }
        if let Some(n) = self.run.concurrency
            && !(1..=MAX_CONCURRENCY).contains(&n)
        {
            return Err(field(
                "run.concurrency",
                format!("{n} is out of range: use 1 to {MAX_CONCURRENCY}"),
            ));
        }
        if self.server.officernd_webhooks && self.officernd.is_none() {
            return Err(field(
                "server.officernd_webhooks",
                "needs an officernd section: the webhooks wake runs that read OfficeRnD".to_owned(),
            ));
        }
        if let Some(id) = &self.server.scim_directory
            && !self.mappings.directories.contains_key(id)
        {
            return Err(field(
                "server.scim_directory",
                format!(
                    "{id:?} is not a key of mappings.directories: map it to the groups its users get"
                ),
            ));
        }
        if let Some(secs) = self.server.unhealthy_after_secs
            && !(MIN_POLL_SECS..=7 * MAX_POLL_SECS).contains(&secs)
        {
            return Err(field(
                "server.unhealthy_after_secs",
                format!(
                    "{secs} is out of range: use {MIN_POLL_SECS} to {} seconds (a week)",
                    7 * MAX_POLL_SECS
                ),
            ));
        }
        Ok(())
    }

    /// Where the SCIM directory keeps its users: `server.scim_store`, else
    /// `<config file>.scim.json` beside `config_path`.
    pub fn scim_store(&self, config_path: &std::path::Path) -> PathBuf {
        self.server.scim_store.clone().unwrap_or_else(|| {
            let mut p = config_path.as_os_str().to_owned();
            p.push(".scim.json");
            PathBuf::from(p)
        })
    }

    /// The SCIM directory `server.scim_directory` names, opened from its
    /// store ([`scim_store`](Self::scim_store)); `None` without one.
    /// Feed it to the syncer with [`DirectorySource`](crate::DirectorySource)
    /// and serve it with [`Routes::scim`](crate::server::Routes::scim).
    ///
    /// # Errors
    /// The store cannot be read or is another directory's.
    #[cfg(feature = "server")]
    pub fn open_scim(
        &self,
        config_path: &std::path::Path,
    ) -> std::io::Result<Option<crate::server::ScimDirectory>> {
        self.server
            .scim_directory
            .as_ref()
            .map(|id| crate::server::ScimDirectory::open(id, self.scim_store(config_path)))
            .transpose()
    }

    /// How long without a successful run before `/healthz` says failing.
    pub fn unhealthy_after(&self) -> std::time::Duration {
        let poll = self.run.poll_interval_secs.unwrap_or(900);
        std::time::Duration::from_secs(
            self.server
                .unhealthy_after_secs
                .unwrap_or_else(|| poll.saturating_mul(4).max(900)),
        )
    }

    /// Opens the run state (a SQLite file beside `config_path` unless the
    /// `state` section says otherwise) and, when the file names no
    /// `policy.ownership_prefix`, sets this installation's prefix from it
    /// (generated once, e.g. `sync-3f9a2c41`). Returns the store and the
    /// namespace to hand to [`SyncerBuilder::state_arc`].
    ///
    /// # Errors
    /// [`ConfigError::State`] if the store cannot be opened.
    pub async fn open_state(
        &mut self,
        config_path: &std::path::Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(std::sync::Arc<dyn access_state::RunState>, String), ConfigError> {
        let namespace = self.namespace();
        let state: std::sync::Arc<dyn access_state::RunState> = match &self.state.postgres_url_env {
            Some(var) => open_postgres(var, env).await?,
            None => std::sync::Arc::new(
                access_state::SqliteState::open(self.sqlite_file(config_path))
                    .await
                    .map_err(|e| ConfigError::State(e.to_string()))?,
            ),
        };
        if !self.prefix_given {
            self.policy.ownership_prefix = state
                .installation_prefix(&namespace)
                .await
                .map_err(|e| ConfigError::State(e.to_string()))?;
        }
        Ok((state, namespace))
    }

    /// The SQLite run state's file: `state.sqlite`, else
    /// `<config file>.state.sqlite` beside `config_path`; `None` with
    /// PostgreSQL run state (`state.postgres_url_env`).
    pub fn state_file(&self, config_path: &std::path::Path) -> Option<PathBuf> {
        self.state
            .postgres_url_env
            .is_none()
            .then(|| self.sqlite_file(config_path))
    }

    fn sqlite_file(&self, config_path: &std::path::Path) -> PathBuf {
        self.state.sqlite.clone().unwrap_or_else(|| {
            let mut p = config_path.as_os_str().to_owned();
            p.push(".state.sqlite");
            PathBuf::from(p)
        })
    }

    /// The run state's namespace: `state.namespace`, else `default`.
    fn namespace(&self) -> String {
        self.state
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned())
    }

    /// As [`open_state`](SyncConfig::open_state), for a command that only
    /// reads (`who-has-access`): no file is created and nothing is written
    /// to a SQLite file, which is opened read-only
    /// ([`SqliteState::open_read_only`](access_state::SqliteState::open_read_only)),
    /// and the prefix is read, never generated. `Ok(None)` when this
    /// installation has no run state yet: the SQLite file
    /// ([`state_file`](SyncConfig::state_file)) does not exist, or the store
    /// holds no prefix and the config names none. Such an installation has
    /// never run, so it owns no Brivo user. The store returned refuses
    /// every write ([`ReadOnlyState`](access_state::ReadOnlyState));
    /// PostgreSQL is connected to as for a runner, which creates its tables
    /// if absent.
    ///
    /// # Errors
    /// [`ConfigError::State`] if the store exists but cannot be read.
    pub async fn open_state_read_only(
        &mut self,
        config_path: &std::path::Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<(std::sync::Arc<dyn access_state::RunState>, String)>, ConfigError> {
        let namespace = self.namespace();
        let state: std::sync::Arc<dyn access_state::RunState> = match &self.state.postgres_url_env {
            Some(var) => open_postgres(var, env).await?,
            None => {
                let path = self.sqlite_file(config_path);
                if !path.exists() {
                    return Ok(None);
                }
                std::sync::Arc::new(
                    access_state::SqliteState::open_read_only(&path)
                        .await
                        .map_err(|e| ConfigError::State(e.to_string()))?,
                )
            }
        };
        // whatever the store, nothing is written through it (PostgreSQL has
        // no read-only connection; a zone or call count would be stored)
        let state: std::sync::Arc<dyn access_state::RunState> =
            std::sync::Arc::new(access_state::ReadOnlyState::new(state));
        if !self.prefix_given {
            match state
                .stored_installation_prefix(&namespace)
                .await
                .map_err(|e| ConfigError::State(e.to_string()))?
            {
                Some(prefix) => self.policy.ownership_prefix = prefix,
                None => return Ok(None),
            }
        }
        Ok(Some((state, namespace)))
    }

    /// Builds the clients (secrets from `env`, e.g. `|k| std::env::var(k).ok()`)
    /// and a [`Syncer`] with the sources configured.
    ///
    /// # Errors
    /// A missing secret, an invalid zone or URL, an unopenable audit log.
    pub fn build(&self, env: impl Fn(&str) -> Option<String>) -> Result<Syncer, ConfigError> {
        Ok(self.builder(env)?.build())
    }

    /// As [`build`](SyncConfig::build), but returns the builder so that
    /// more can be set (a clock, a progress callback, another source).
    ///
    /// # Errors
    /// As [`build`](SyncConfig::build).
    pub fn builder(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<SyncerBuilder, ConfigError> {
        self.builder_inner(env, None)
    }

    /// As [`builder`](SyncConfig::builder), with the run state from
    /// [`open_state`](SyncConfig::open_state): the Syncer keeps its
    /// baseline, backoffs, approvals and lock there, and the Entrata source
    /// its zones.
    ///
    /// # Errors
    /// As [`build`](SyncConfig::build).
    pub fn builder_with_state(
        &self,
        env: impl Fn(&str) -> Option<String>,
        state: std::sync::Arc<dyn access_state::RunState>,
        namespace: &str,
    ) -> Result<SyncerBuilder, ConfigError> {
        Ok(self
            .builder_inner(env, Some((state.clone(), namespace)))?
            .state_arc(state, namespace))
    }

    /// The environment variables this config reads its secrets from: the
    /// Brivo set always, then Entrata's (Basic or gateway) and OfficeRnD's
    /// when those sources are configured.
    ///
    /// ```
    /// use access_sync::config::SyncConfig;
    ///
    /// let config = SyncConfig::from_json(r#"{"brivo": {}, "officernd": {"org": "acme", "client_id": "app"}}"#)?;
    /// assert_eq!(config.required_env().last(), Some(&"OFFICERND_CLIENT_SECRET"));
    /// let missing = config.missing_env(|k| (k == "BRIVO_API_KEY").then(|| "k".to_owned()));
    /// assert!(!missing.contains(&"BRIVO_API_KEY") && missing.contains(&"BRIVO_PASSWORD"));
    /// # Ok::<(), access_sync::config::ConfigError>(())
    /// ```
    pub fn required_env(&self) -> Vec<&'static str> {
        let mut names = vec![
            "BRIVO_API_KEY",
            "BRIVO_CLIENT_ID",
            "BRIVO_CLIENT_SECRET",
            "BRIVO_USERNAME",
            "BRIVO_PASSWORD",
        ];
        if let Some(e) = &self.entrata {
            if e.base_url.is_some() {
                names.extend(["ENTRATA_USERNAME", "ENTRATA_PASSWORD"]);
            } else if e.gateway_org.is_some() {
                names.push("ENTRATA_API_KEY");
            }
        }
        if self.officernd.is_some() {
            names.push("OFFICERND_CLIENT_SECRET");
        }
        names
    }

    /// The environment variables serving the `server` section reads (only
    /// `--listen` needs them): `OFFICERND_WEBHOOK_SECRET` with
    /// `officernd_webhooks`, `SCIM_BEARER_TOKEN` with `scim_directory`.
    pub fn server_env(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.server.officernd_webhooks {
            names.push("OFFICERND_WEBHOOK_SECRET");
        }
        if self.server.scim_directory.is_some() {
            names.push("SCIM_BEARER_TOKEN");
        }
        names
    }

    /// Those of [`required_env`](Self::required_env) that `env` does not
    /// have (or has empty).
    pub fn missing_env(&self, env: impl Fn(&str) -> Option<String>) -> Vec<&'static str> {
        self.required_env()
            .into_iter()
            .filter(|name| env(name).is_none_or(|v| v.is_empty()))
            .collect()
    }

    fn builder_inner(
        &self,
        env: impl Fn(&str) -> Option<String>,
        state: Option<(std::sync::Arc<dyn access_state::RunState>, &str)>,
    ) -> Result<SyncerBuilder, ConfigError> {
        // the fields are public: a config built in code is checked too
        self.validate()?;
        let missing = self.missing_env(&env);
        if !missing.is_empty() {
            return Err(ConfigError::MissingEnv(missing));
        }
        let secret = |name: &'static str| -> Result<SecretString, ConfigError> {
            env(name)
                .filter(|v| !v.is_empty())
                .map(SecretString::from)
                .ok_or(ConfigError::MissingEnv(vec![name]))
        };
        let client_err = |service: &'static str| {
            move |e: &dyn std::fmt::Display| ConfigError::Client {
                service,
                message: e.to_string(),
            }
        };

        let b = &self.brivo;
        let mut builder = brivo_client::Client::builder(brivo_client::Credentials::password(
            secret("BRIVO_API_KEY")?,
            secret("BRIVO_CLIENT_ID")?,
            secret("BRIVO_CLIENT_SECRET")?,
            secret("BRIVO_USERNAME")?,
            secret("BRIVO_PASSWORD")?,
        ));
        match b.region.as_deref() {
            None | Some("us") => {}
            Some("eu") => builder = builder.region(brivo_client::Region::Eu),
            Some(other) => {
                return Err(ConfigError::Invalid(format!(
                    "brivo.region: {other:?} is neither \"us\" nor \"eu\""
                )));
            }
        }
        if let Some(u) = &b.base_url {
            builder = builder.base_url(u.clone());
        }
        if let Some(u) = &b.auth_url {
            builder = builder.auth_url(u.clone());
        }
        if let Some(rate) = b.rate_limit_per_second {
            let burst = b.burst.unwrap_or(rate.ceil().max(1.0) as u32);
            builder = builder.rate_limit(rate, burst);
        }
        if let Some(budget) = b.calls_per_30_days {
            builder = builder.calls_per_30_days(budget);
        }
        let brivo = builder.build().map_err(|e| client_err("brivo")(&e))?;

        let mut syncer = Syncer::builder(BrivoBackend::new(brivo))
            .mappings(self.mappings.clone())
            .policy(self.policy.clone());
        if let Some(n) = b.calls_per_30_days {
            syncer = syncer.budget("brivo", crate::Budget::per_30_days(n));
        }
        if let Some(s) = b.full_reconciliation_secs {
            syncer = syncer.full_reconciliation_every(Duration::from_secs(s));
        }

        if let Some(e) = &self.entrata {
            let mut builder = match (&e.base_url, &e.gateway_org) {
                (Some(url), _) => entrata_client::Client::builder(
                    url,
                    entrata_client::Credentials::basic(
                        env("ENTRATA_USERNAME")
                            .ok_or(ConfigError::MissingEnv(vec!["ENTRATA_USERNAME"]))?,
                        secret("ENTRATA_PASSWORD")?,
                    ),
                ),
                (None, Some(org)) => {
                    entrata_client::Client::builder_gateway(org, secret("ENTRATA_API_KEY")?)
                }
                (None, None) => {
                    return Err(ConfigError::Invalid(
                        "entrata: set base_url (Basic auth) or gateway_org (API key)".into(),
                    ));
                }
            };
            if let Some(rate) = e.rate_limit_per_second {
                builder = builder.rate_limit(rate, rate.ceil().max(1.0) as u32);
            }
            let client = builder.build().map_err(|err| client_err("entrata")(&err))?;
            let mut source = EntrataSource::new(client);
            if let Some(ids) = &e.properties {
                source = source.properties(ids.iter().copied());
            }
            for (property, zone) in &e.zones {
                let id: u64 = property.parse().map_err(|_| {
                    ConfigError::Invalid(format!(
                        "entrata.zones: {property:?} is not a property id"
                    ))
                })?;
                let tz: Tz = zone.parse().map_err(|_| {
                    ConfigError::Invalid(format!("entrata.zones: unknown IANA zone {zone:?}"))
                })?;
                source = source.zone(id, tz);
            }
            if let Some((store, namespace)) = &state {
                source = source.zone_store(store.clone(), *namespace);
            }
            if let Some(s) = e.slow_refresh_secs {
                source = source.slow_refresh(Duration::from_secs(s));
            }
            if let Some(s) = e.refresh_secs {
                syncer = syncer.refresh(
                    crate::FactSource::name(&source).to_owned(),
                    Duration::from_secs(s),
                );
            }
            if let Some(n) = e.calls_per_day {
                syncer = syncer.budget(
                    crate::FactSource::name(&source).to_owned(),
                    crate::Budget::per_day(n),
                );
            }
            syncer = syncer.source(source);
        }

        if let Some(o) = &self.officernd {
            let mut builder = officernd_client::Client::builder(
                o.org.clone(),
                o.client_id.clone(),
                secret("OFFICERND_CLIENT_SECRET")?,
            );
            if let Some(u) = &o.api_url {
                builder = builder.api_url(u.clone());
            }
            if let Some(u) = &o.token_url {
                builder = builder.token_url(u.clone());
            }
            if let Some(scopes) = &o.scopes {
                builder = builder.scopes(scopes.iter().cloned());
            }
            let client = builder.build().map_err(|e| client_err("officernd")(&e))?;
            let mut source = OfficeRndSource::new(client);
            if let Some(days) = o.booking_horizon_days {
                source = source.booking_horizon(chrono::Duration::days(days));
            }
            if let Some(s) = o.refresh_secs {
                syncer = syncer.refresh(
                    crate::FactSource::name(&source).to_owned(),
                    Duration::from_secs(s),
                );
            }
            if let Some(n) = o.reads_per_day {
                syncer = syncer.budget(
                    crate::FactSource::name(&source).to_owned(),
                    crate::Budget::per_day(n),
                );
            }
            syncer = syncer.source(source);
        }

        let r = &self.run;
        if let Some(secs) = r.poll_interval_secs {
            syncer = syncer.poll_interval(Duration::from_secs(secs));
        }
        if let Some(n) = r.concurrency {
            syncer = syncer.concurrency(n);
        }
        if let Some(s) = r.max_fact_age_secs {
            syncer = syncer.max_fact_age(Duration::from_secs(s));
        }
        if let Some(path) = &r.audit_log {
            syncer = syncer.audit(JsonLinesAudit::open(path)?);
        }
        Ok(syncer)
    }
}
