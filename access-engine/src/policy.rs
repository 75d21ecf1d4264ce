//! Policy: the knobs of the access rules and of the safety rules.

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use crate::leases::CustomerType;

/// Who may be removed from a managed group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Exclusivity {
    /// Everyone not desired in a managed group is removed (the default).
    #[default]
    All,
    /// Only users the integration owns are removed; others are left alone.
    OwnedOnly,
}

/// What to do with an owned user who has no access left (no current and no
/// upcoming grant).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[non_exhaustive]
pub enum NoAccessPolicy {
    /// Keep the user; access is revoked by leaving groups (the default).
    #[default]
    Keep,
    /// Suspend the user.
    Suspend,
    /// Delete the user.
    Delete,
}

/// The mass-revocation safety threshold. When a plan's revocations (group
/// removals, suspensions, deletions) exceed `max_count`, or exceed
/// `max_share` of the observed managed memberships (once there are at
/// least `share_floor` of them), all of them are held until an operator
/// approves them for one run (see [`crate::Baseline::approved`]).
///
/// Per scope, a property, location or directory whose people with access
/// drop by more than `max_scope_drop` since the last run (and by at least
/// `scope_drop_floor` people) is held likewise, as is one that empties.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RevocationThreshold {
    /// Most revocations one plan may carry (default 500).
    pub max_count: Option<usize>,
    /// Largest share (0.0–1.0) of observed managed memberships one plan may
    /// revoke (default 0.25).
    pub max_share: Option<f64>,
    /// `max_share` applies from this many revocations on (default 10), so
    /// a small building's ordinary move-out is not a mass revocation.
    pub share_floor: usize,
    /// Largest share (0.0–1.0) of a scope's people with access that may go
    /// in one run (default 0.25).
    pub max_scope_drop: Option<f64>,
    /// `max_scope_drop` applies from a drop of this many people (default 5).
    pub scope_drop_floor: usize,
}

impl Default for RevocationThreshold {
    fn default() -> Self {
        RevocationThreshold {
            max_count: Some(500),
            max_share: Some(0.25),
            share_floor: 10,
            max_scope_drop: Some(0.25),
            scope_drop_floor: 5,
        }
    }
}

impl RevocationThreshold {
    /// No limits at all (for tests and benchmarks; not for production).
    pub fn none() -> Self {
        RevocationThreshold {
            max_count: None,
            max_share: None,
            share_floor: 0,
            max_scope_drop: None,
            scope_drop_floor: 0,
        }
    }
}

/// The policy. Every field has a default, so a config file names only what it changes.
///
/// ```
/// use access_engine::Policy;
/// let p: Policy = serde_json::from_str(r#"{"start_time": "09:00:00", "booking_lead_minutes": 30}"#).unwrap();
/// assert_eq!(p.end_time.to_string(), "16:00:00");
/// assert_eq!(p.ownership_prefix, "sync");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Policy {
    /// Local time access starts on a move-in date (default 10:00).
    pub start_time: NaiveTime,
    /// Local time access ends on a move-out date (default 16:00).
    pub end_time: NaiveTime,
    /// Minutes of access before the move-in start time (default 0).
    pub early_access_minutes: u32,
    /// Minutes of access after the move-out end time (default 0).
    pub grace_minutes: u32,
    /// Minutes before a booking starts that access begins (default 15).
    pub booking_lead_minutes: u32,
    /// Minutes after a booking ends that access lasts (default 15).
    pub booking_lag_minutes: u32,
    /// Customer types that get access (default Primary, Co-Applicant, Occupant).
    pub admitted_customer_types: Vec<CustomerType>,
    /// Whether booking visitors get access (default no).
    pub visitors_admitted: bool,
    /// Namespace of owned external ids (default `sync`).
    pub ownership_prefix: String,
    /// Who is removed from managed groups.
    pub exclusivity: Exclusivity,
    /// What happens to an owned user with no access left.
    pub no_access: NoAccessPolicy,
    /// Adopt an unowned user whose email matches exactly one identity (default off).
    pub adopt_by_email: bool,
    /// Brivo's limit of groups per user (default 16).
    pub max_groups_per_user: usize,
    /// The mass-revocation and per-scope drop thresholds.
    pub revocation_threshold: RevocationThreshold,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            start_time: NaiveTime::from_hms_opt(10, 0, 0).unwrap_or(NaiveTime::MIN),
            end_time: NaiveTime::from_hms_opt(16, 0, 0).unwrap_or(NaiveTime::MIN),
            early_access_minutes: 0,
            grace_minutes: 0,
            booking_lead_minutes: 15,
            booking_lag_minutes: 15,
            admitted_customer_types: vec![
                CustomerType::Primary,
                CustomerType::CoApplicant,
                CustomerType::Occupant,
            ],
            visitors_admitted: false,
            ownership_prefix: "sync".to_owned(),
            exclusivity: Exclusivity::All,
            no_access: NoAccessPolicy::Keep,
            adopt_by_email: false,
            max_groups_per_user: 16,
            revocation_threshold: RevocationThreshold::default(),
        }
    }
}
