//! A downstream user's integration, written only against the published API.
//!
//! A property manager keeps its own rent roll (a JSON export) and its doors
//! in Brivo. This crate feeds the rent roll to `access-sync` as a
//! [`FactSource`], builds the Brivo client on its own `reqwest::Client`, and
//! decides what to do after each run from the typed errors.
//!
//! ```
//! let roll = downstream::RentRoll::from_json(r#"{
//!   "property": {"id": "elm-st", "zone": "America/Chicago"},
//!   "rows": [{"lease": "L1", "status": "current", "resident": "R1",
//!             "first_name": "Ada", "last_name": "Byron", "move_in": "2026-01-15"}]
//! }"#).unwrap();
//! assert_eq!(roll.rows(), 1);
//! ```

use std::time::Duration;

use access_engine::{
    Customer, CustomerType, Facts, GroupId, Lease, LeaseStatus, Mappings, Profile, Property, Scope,
    Source,
};
use access_sync::{
    ErrorKind, FactSource, Outcome, SourceBatch, SourceError, SyncError, SyncReport, async_trait,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

/// The rent roll as the property manager's system exports it.
#[derive(Debug, Clone, Deserialize)]
pub struct RentRoll {
    property: RollProperty,
    rows: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
struct RollProperty {
    id: String,
    zone: String,
}

/// One row; decoded row by row so that one bad row is skipped and reported,
/// not fatal to the rest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    lease: String,
    status: String,
    resident: String,
    first_name: String,
    last_name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    move_in: Option<NaiveDate>,
    #[serde(default)]
    move_out: Option<NaiveDate>,
}

impl RentRoll {
    /// Reads an export.
    ///
    /// # Errors
    /// The JSON text if the export as a whole is unreadable (a bad row is
    /// not an error here: [`FactSource::fetch`] skips and reports it).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// How many rows the export holds, good or bad.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// The mapping an operator would write: every admitted resident of the
    /// property opens these Brivo groups.
    pub fn mappings(&self, groups: &[i64]) -> Mappings {
        let mut m = Mappings::default();
        m.properties.insert(
            self.property.id.clone(),
            groups.iter().copied().map(GroupId::from).collect(),
        );
        m
    }

    fn facts(&self) -> (Facts, Vec<String>) {
        let mut facts = Facts::default();
        let mut notes = Vec::new();
        facts
            .properties
            .push(Property::new(&self.property.id, &self.property.zone));
        for (i, value) in self.rows.iter().enumerate() {
            let row = match Row::deserialize(value) {
                Ok(row) => row,
                Err(e) => {
                    notes.push(format!("row {i} skipped: {e}"));
                    continue;
                }
            };
            let mut profile = Profile::new(row.first_name, row.last_name);
            if let Some(email) = row.email {
                profile = profile.with_email(email);
            }
            let resident = Customer::new(row.resident, CustomerType::Primary, profile);
            let lease = Lease::new(row.lease, &self.property.id, status(&row.status))
                .with_move_in(row.move_in)
                .with_move_out(row.move_out)
                .with_customer(resident);
            facts.leases.push(lease);
        }
        (facts, notes)
    }
}

/// The rent roll's statuses in the engine's terms. One it does not know is
/// kept as `Other`, which the engine never admits.
fn status(s: &str) -> LeaseStatus {
    match s.to_ascii_lowercase().as_str() {
        "future" => LeaseStatus::Future,
        "current" => LeaseStatus::Current,
        "notice" => LeaseStatus::Notice,
        "past" => LeaseStatus::Past,
        "cancelled" => LeaseStatus::Cancelled,
        _ => LeaseStatus::Other(s.to_owned()),
    }
}

#[async_trait]
impl FactSource for RentRoll {
    fn name(&self) -> &str {
        "rent-roll"
    }

    fn scope(&self) -> Scope {
        Scope::Source(Source::Entrata)
    }

    async fn fetch(&self, _now: DateTime<Utc>) -> Result<SourceBatch, SourceError> {
        let (facts, notes) = self.facts();
        let mut batch = SourceBatch::new(facts);
        batch.notes = notes;
        Ok(batch)
    }
}

/// Brivo's credentials, as the operator keeps them.
pub struct BrivoSettings {
    /// API base URL, e.g. `https://api.brivo.com/v1/api`.
    pub api_url: String,
    /// Token URL base, e.g. `https://auth.brivo.com`.
    pub auth_url: String,
    /// The five secrets of Brivo's password grant.
    pub credentials: brivo_client::Credentials,
}

/// A Brivo client on our own `reqwest::Client`: our user agent and
/// timeouts (a proxy or a private CA would go here too). Redirects must be
/// off: the client refuses an HTTP client that would carry its credentials
/// to another host.
///
/// # Errors
/// Building the HTTP client, or the Brivo client's own checks (an
/// unparsable or plain-http URL).
pub fn brivo_client(
    settings: BrivoSettings,
) -> Result<brivo_client::Client, Box<dyn std::error::Error + Send + Sync>> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("elm-street-doors/1.0")
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()?;
    let client = brivo_client::Client::builder(settings.credentials)
        .base_url(settings.api_url)
        .auth_url(settings.auth_url)
        .http_client(http)
        .timeout(Duration::from_secs(10))
        .build()?;
    Ok(client)
}

/// What the operator does after a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Nothing: every action went through and every source was read.
    Nothing,
    /// Wait and run again: a throttle, an outage, another runner's lock.
    RetryLater(String),
    /// Someone must act: credentials or permissions refused, a saved plan
    /// refused, or the rent roll has rows that were skipped.
    PageOperator(String),
    /// The SDK or the data broke a rule it should not: report it.
    ReportBug(String),
}

/// Decides from a run's typed errors, never from their text.
pub fn triage(result: &Result<SyncReport, SyncError>) -> Next {
    let report = match result {
        Ok(report) => report,
        Err(SyncError::Panicked(why)) => return Next::ReportBug(why.clone()),
        Err(e @ (SyncError::Stale(_) | SyncError::Locked { .. })) => {
            return Next::RetryLater(e.to_string());
        }
        Err(e) => return by_kind(e.kind(), e.to_string()),
    };
    // Source failures first: they hold revocations until fixed.
    for source in &report.sources {
        for e in source.all_errors() {
            if let Next::PageOperator(why) = by_kind(e.kind(), e.to_string()) {
                return Next::PageOperator(why);
            }
        }
        if let Some(note) = source.notes.first() {
            return Next::PageOperator(format!("{}: {note}", source.name));
        }
    }
    let mut next = Next::Nothing;
    for result in &report.results {
        if let Outcome::Failed { error } = &result.outcome {
            match by_kind(error.kind(), format!("{}: {error}", result.action)) {
                page @ Next::PageOperator(_) => return page,
                other => next = other,
            }
        }
    }
    next
}

fn by_kind(kind: ErrorKind, why: String) -> Next {
    match kind {
        k if k.is_retryable() => Next::RetryLater(why),
        ErrorKind::Budget => Next::RetryLater(why),
        ErrorKind::Auth | ErrorKind::Config | ErrorKind::Rejected => Next::PageOperator(why),
        // NotFound, Decode, Other and any kind added later
        _ => Next::ReportBug(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_row_is_skipped_and_named_and_the_rest_kept() {
        let roll = RentRoll::from_json(
            r#"{"property": {"id": "p", "zone": "America/Chicago"}, "rows": [
                {"lease": "L1", "status": "current", "resident": "R1", "first_name": "A", "last_name": "B"},
                {"lease": "L2", "status": "current", "resident": "R2", "first_name": "C", "last_name": "D", "move_in": "15/01/2026"}
            ]}"#,
        )
        .expect("the export reads");
        let (facts, notes) = roll.facts();
        assert_eq!(facts.leases.len(), 1);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("row 1 skipped"), "{notes:?}");
    }

    #[test]
    fn kinds_decide_the_next_step() {
        let throttled = SyncError::Observe(access_sync::BackendError::from(
            brivo_client::Error::Throttled {
                method: "list_users",
                status: 429,
                retry_after: None,
            },
        ));
        assert!(matches!(triage(&Err(throttled)), Next::RetryLater(_)));
        assert!(matches!(
            triage(&Err(SyncError::Panicked("boom".into()))),
            Next::ReportBug(_)
        ));
    }
}
