//! Policy: the knobs of the access rules and of the safety rules.

use chrono::{NaiveTime, Timelike as _};
use serde::{Deserialize, Serialize};

use crate::facts::Source;
use crate::identity::IdKey;
use crate::leases::CustomerType;
use crate::plan::ProfileField;

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
    /// Whether a booking's visitors (guests invited to it) get access for
    /// it, as OfficeRnD's own door integrations give it (default yes; set
    /// false to admit members only).
    pub visitors_admitted: bool,
    /// Namespace of owned external ids (default `sync`).
    pub ownership_prefix: String,
    /// Who is removed from managed groups.
    pub exclusivity: Exclusivity,
    /// What happens to an owned user with no access left.
    pub no_access: NoAccessPolicy,
    /// Adopt an unowned user whose email matches exactly one identity (default off).
    /// Never a user carrying any external id; by default never one the runner
    /// finds in groups this integration does not manage or holding credentials
    /// (a staff member whose email a resident typed would otherwise become
    /// ours, and be deleted at move-out under `no_access: Delete`).
    pub adopt_by_email: bool,
    /// With `adopt_by_email`: also adopt users in groups this integration
    /// does not manage (default off).
    pub adopt_with_unmanaged_groups: bool,
    /// With `adopt_by_email`: also adopt users that hold credentials
    /// (default off).
    pub adopt_with_credentials: bool,
    /// The profile fields kept in step with the facts on owned users (default
    /// all four). A field left out is written when the user is created (or
    /// adopted: not even then) and never again, so an administrator's edit
    /// in Brivo stands: `["FirstName", "LastName"]` is OfficeRnD's own
    /// behaviour for email and phone.
    pub profile_kept_in_step: Vec<ProfileField>,
    /// Invite each owned user with access and an email to Brivo Mobile Pass,
    /// once (default off: it emails residents). An operator re-issues one
    /// with the approval `invite:<Brivo user id>`.
    pub invite_mobile_pass: bool,
    /// Keep each owned user's credentials valid exactly while they have
    /// access (`effectiveFrom`/`effectiveTo` on every credential they
    /// hold; no end while a grant is perpetual), so that Brivo itself
    /// ends access at move-out if the runner stops (default off: it writes
    /// to every owned user's credentials once). A group removal still
    /// needs the runner: this is the second line of defence, not the first.
    pub credential_windows: bool,
    /// Give each owned user with access one card from the account's card
    /// bank: an unassigned card whose reference id (the printed number)
    /// starts with this prefix, lowest first (default none). Once per user;
    /// cards an administrator hands out are never touched, and a pool that
    /// runs dry is reported, not guessed around.
    pub card_pool: Option<String>,
    /// The sources whose people get credentials from the integration (the
    /// Mobile Pass invitation, the card): default all three. A coworking
    /// space whose members get passes from OfficeRnD's own app, say, leaves
    /// `OfficeRnd` out. Credential windows apply to every owned user.
    pub credential_sources: Vec<Source>,
    /// When records of different sources are one person, who then has one
    /// Brivo user holding the union of their grants (default: never).
    pub same_person: SamePerson,
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
            visitors_admitted: true,
            ownership_prefix: "sync".to_owned(),
            exclusivity: Exclusivity::All,
            no_access: NoAccessPolicy::Keep,
            adopt_by_email: false,
            adopt_with_unmanaged_groups: false,
            adopt_with_credentials: false,
            profile_kept_in_step: vec![
                ProfileField::FirstName,
                ProfileField::LastName,
                ProfileField::Email,
                ProfileField::Phone,
            ],
            invite_mobile_pass: false,
            credential_windows: false,
            card_pool: None,
            credential_sources: vec![Source::Entrata, Source::OfficeRnd, Source::Directory],
            same_person: SamePerson::default(),
            max_groups_per_user: 16,
            revocation_threshold: RevocationThreshold::default(),
        }
    }
}

/// When an Entrata resident and an OfficeRnD member are one person: one
/// Brivo user, with the union of their grants (each group's reasons name
/// its own facts). The operator chooses; the engine never guesses.
///
/// The person's user carries the first of their identities in the order
/// Entrata, OfficeRnD (then by id). A user the other record already has is
/// given that id (`rekey`), or, when both records have one, retired once
/// the first holds the person's groups: never a lockout in between.
/// Directory users are not merged: their platform's lifecycle (suspend,
/// delete the user) must not reach a resident's access.
///
/// ```
/// use access_engine::{Policy, Source};
/// let p: Policy = serde_json::from_str(r#"{"same_person": {
///     "links": [["entrata:5009", "officernd:64b00000000000000000d001"]],
///     "by_email": ["Entrata", "OfficeRnd"]
/// }}"#).unwrap();
/// assert_eq!(p.same_person.by_email, [Source::Entrata, Source::OfficeRnd]);
/// assert!(p.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SamePerson {
    /// Pairs of records that are one person, each named as its external id
    /// without the prefix: `entrata:{customerId}`, `officernd:{memberId}`.
    pub links: Vec<[String; 2]>,
    /// Sources whose emails are trusted to name a person (at least two, or
    /// none): a resident and a member with the same email (trimmed, any
    /// case) are one person when that email names exactly one record of
    /// each. An email that names two records of one source merges nothing
    /// and is warned about (`SamePersonConflict`).
    pub by_email: Vec<Source>,
}

impl SamePerson {
    /// Whether any rule merges anything.
    pub(crate) fn is_empty(&self) -> bool {
        self.links.is_empty() && self.by_email.is_empty()
    }
}

/// The longest lead, lag, early-access or grace period a policy may set,
/// in minutes (7 days): more is surely a unit mistake (seconds for minutes).
pub const MAX_POLICY_MINUTES: u32 = 7 * 24 * 60;

/// The longest ownership prefix, in bytes.
pub const MAX_PREFIX_LEN: usize = 64;

/// A policy value out of range: `field` is its path inside the policy
/// (e.g. `revocation_threshold.max_share`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy.{field}: {problem}")]
#[non_exhaustive]
pub struct InvalidPolicy {
    /// The field's path inside the policy.
    pub field: &'static str,
    /// What is wrong and what is allowed.
    pub problem: String,
}

impl InvalidPolicy {
    fn new(field: &'static str, problem: impl Into<String>) -> Self {
        InvalidPolicy {
            field,
            problem: problem.into(),
        }
    }
}

fn share(field: &'static str, value: Option<f64>) -> Result<(), InvalidPolicy> {
    match value {
        Some(v) if !(0.0..=1.0).contains(&v) => Err(InvalidPolicy::new(
            field,
            format!("{v} is not a share: use a number from 0.0 to 1.0 (e.g. 0.25 for 25 %)"),
        )),
        _ => Ok(()),
    }
}

impl Policy {
    /// Checks every value is in range, so a typo cannot silently widen or
    /// disable access (unknown fields are already refused when parsing).
    ///
    /// ```
    /// use access_engine::Policy;
    /// let mut p = Policy::default();
    /// p.max_groups_per_user = 40;
    /// assert_eq!(p.validate().unwrap_err().field, "max_groups_per_user");
    /// ```
    ///
    /// # Errors
    /// The first field out of range, naming it and the allowed range.
    pub fn validate(&self) -> Result<(), InvalidPolicy> {
        for (field, t) in [("start_time", self.start_time), ("end_time", self.end_time)] {
            // chrono represents a leap second as nanoseconds >= 1e9
            if t.nanosecond() >= 1_000_000_000 {
                return Err(InvalidPolicy::new(
                    field,
                    format!("{t} is a leap second: use a time of day from 00:00:00 to 23:59:59"),
                ));
            }
        }
        for (field, minutes) in [
            ("early_access_minutes", self.early_access_minutes),
            ("grace_minutes", self.grace_minutes),
            ("booking_lead_minutes", self.booking_lead_minutes),
            ("booking_lag_minutes", self.booking_lag_minutes),
        ] {
            if minutes > MAX_POLICY_MINUTES {
                return Err(InvalidPolicy::new(
                    field,
                    format!(
                        "{minutes} minutes is more than 7 days ({MAX_POLICY_MINUTES}); the value is in minutes"
                    ),
                ));
            }
        }
        if !(1..=16).contains(&self.max_groups_per_user) {
            return Err(InvalidPolicy::new(
                "max_groups_per_user",
                format!(
                    "{} is out of range: use 1 to 16 (Brivo's limit is 16)",
                    self.max_groups_per_user
                ),
            ));
        }
        let p = &self.ownership_prefix;
        if p.is_empty()
            || p.len() > MAX_PREFIX_LEN
            || p.chars()
                .any(|c| c == ':' || c.is_whitespace() || c.is_control())
        {
            return Err(InvalidPolicy::new(
                "ownership_prefix",
                format!(
                    "must be 1 to {MAX_PREFIX_LEN} bytes without `:`, spaces or control characters (e.g. `sync`)"
                ),
            ));
        }
        if let Some(pool) = &self.card_pool
            && (pool.trim().is_empty() || pool.len() > 64 || pool.chars().any(char::is_control))
        {
            return Err(InvalidPolicy::new(
                "card_pool",
                "must be the printed prefix of the pool's cards, 1 to 64 characters (e.g. `HV-`)",
            ));
        }
        let field = "same_person.links";
        let mut named = std::collections::BTreeSet::new();
        for (n, link) in self.same_person.links.iter().enumerate() {
            for id in link {
                if IdKey::parse_bare(id).is_none() {
                    return Err(InvalidPolicy::new(
                        field,
                        format!(
                            "link {n}: {id:?} names no resident or member: use `entrata:<customer id>` or `officernd:<member id>`"
                        ),
                    ));
                }
            }
            if link[0] == link[1] {
                return Err(InvalidPolicy::new(
                    field,
                    format!("link {n} names {:?} twice", link[0]),
                ));
            }
            let kind = |id: &str| id.split(':').next().unwrap_or_default().to_owned();
            if kind(&link[0]) == kind(&link[1]) {
                return Err(InvalidPolicy::new(
                    field,
                    format!(
                        "link {n} joins two records of one source: a link is one resident and one member"
                    ),
                ));
            }
            for id in link {
                if !named.insert(id.as_str()) {
                    return Err(InvalidPolicy::new(
                        field,
                        format!("{id:?} is in two links: a record is one person"),
                    ));
                }
            }
        }
        let email = &self.same_person.by_email;
        if email.contains(&Source::Directory) {
            return Err(InvalidPolicy::new(
                "same_person.by_email",
                "Directory users are not merged (their platform suspends and deletes the Brivo user): use Entrata and OfficeRnd",
            ));
        }
        if !email.is_empty()
            && (!email.contains(&Source::Entrata) || !email.contains(&Source::OfficeRnd))
        {
            return Err(InvalidPolicy::new(
                "same_person.by_email",
                "names one source: emails merge records of two sources, so name both Entrata and OfficeRnd (or none)",
            ));
        }
        let r = &self.revocation_threshold;
        share("revocation_threshold.max_share", r.max_share)?;
        share("revocation_threshold.max_scope_drop", r.max_scope_drop)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_is_valid() {
        assert_eq!(Policy::default().validate(), Ok(()));
    }

    #[test]
    fn each_range_names_its_field() {
        type Spoil = fn(&mut Policy);
        let bad: Vec<(&str, Spoil)> = vec![
            ("start_time", |p| {
                p.start_time = NaiveTime::from_hms_milli_opt(23, 59, 59, 1_500).unwrap_or_default();
            }),
            ("early_access_minutes", |p| {
                p.early_access_minutes = MAX_POLICY_MINUTES + 1
            }),
            ("grace_minutes", |p| p.grace_minutes = u32::MAX),
            ("booking_lead_minutes", |p| p.booking_lead_minutes = 20_000),
            ("booking_lag_minutes", |p| p.booking_lag_minutes = 20_000),
            ("max_groups_per_user", |p| p.max_groups_per_user = 0),
            ("max_groups_per_user", |p| p.max_groups_per_user = 17),
            ("ownership_prefix", |p| p.ownership_prefix = String::new()),
            ("ownership_prefix", |p| p.ownership_prefix = "a:b".into()),
            ("ownership_prefix", |p| p.ownership_prefix = "x".repeat(65)),
            ("revocation_threshold.max_share", |p| {
                p.revocation_threshold.max_share = Some(1.5);
            }),
            ("same_person.links", |p| {
                p.same_person.links = vec![["entrata:1".into(), "directory:hq:u1".into()]];
            }),
            ("same_person.links", |p| {
                p.same_person.links = vec![["entrata:1".into(), "entrata:1".into()]];
            }),
            ("same_person.links", |p| {
                p.same_person.links = vec![["entrata:1:2".into(), "officernd:m1".into()]];
            }),
            ("same_person.links", |p| {
                p.same_person.links = vec![["entrata:1".into(), "entrata:2".into()]];
            }),
            ("same_person.links", |p| {
                p.same_person.links = vec![
                    ["entrata:1".into(), "officernd:m1".into()],
                    ["entrata:2".into(), "officernd:m1".into()],
                ];
            }),
            ("same_person.by_email", |p| {
                p.same_person.by_email = vec![Source::Entrata];
            }),
            ("same_person.by_email", |p| {
                p.same_person.by_email = vec![Source::Entrata, Source::Directory];
            }),
            ("revocation_threshold.max_share", |p| {
                p.revocation_threshold.max_share = Some(f64::NAN);
            }),
            ("revocation_threshold.max_scope_drop", |p| {
                p.revocation_threshold.max_scope_drop = Some(-0.1);
            }),
        ];
        for (field, spoil) in bad {
            let mut p = Policy::default();
            spoil(&mut p);
            let e = p.validate().expect_err(field);
            assert_eq!(e.field, field);
            assert!(
                e.to_string().starts_with(&format!("policy.{field}: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn the_bounds_themselves_are_valid() {
        let p = Policy {
            early_access_minutes: MAX_POLICY_MINUTES,
            max_groups_per_user: 1,
            revocation_threshold: RevocationThreshold {
                max_share: Some(0.0),
                max_scope_drop: Some(1.0),
                ..RevocationThreshold::default()
            },
            start_time: NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default(),
            ..Policy::default()
        };
        assert_eq!(p.validate(), Ok(()));
    }
}
