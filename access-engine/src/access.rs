//! The time-travel query: who holds which managed group at any instant, and why.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::desired;
use crate::facts::{Facts, Profile};
use crate::mapping::{GroupId, Mappings};
use crate::observed::Observed;
use crate::plan::want;
use crate::policy::Policy;
use crate::reason::{FactRef, Reason};
use crate::warning::Warning;

/// A group an identity holds at the instant, with the facts that grant it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAccess {
    /// The group.
    pub group: GroupId,
    /// The grants covering the instant.
    pub reasons: Vec<Reason>,
}

/// One identity's desired state at the instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityAccess {
    /// The owned external id.
    pub external_id: String,
    /// Name and contact.
    pub profile: Profile,
    /// Groups held at the instant (sorted).
    pub groups: Vec<GroupAccess>,
    /// The Brivo user must be suspended (directory state or policy).
    pub suspended: bool,
    /// The Brivo user must be deleted (directory state or policy).
    pub deleted: bool,
    /// Some grant is current or still to come.
    pub has_access_ahead: bool,
}

/// The desired state at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// The instant.
    pub at: DateTime<Utc>,
    /// Every identity the facts name, sorted by source then ids.
    pub identities: Vec<IdentityAccess>,
    /// The first instant after `at` at which this changes.
    pub next_change: Option<DateTime<Utc>>,
    /// What was skipped or odd in the input.
    pub warnings: Vec<Warning>,
}

impl Access {
    /// The identity with this external id, if any.
    pub fn identity(&self, external_id: &str) -> Option<&IdentityAccess> {
        self.identities
            .iter()
            .find(|i| i.external_id == external_id)
    }
}

/// Who should hold which managed group at instant `t`, with reasons. This
/// is the same computation [`crate::plan()`] diffs against Brivo. With
/// `observed`, mapped groups missing from Brivo are left out (as `plan`
/// does); without it every mapped group counts.
///
/// ```
/// use access_engine::*;
/// use chrono::{NaiveDate, TimeZone, Utc};
///
/// let mut facts = Facts::default();
/// facts.properties.push(Property::new("100", "America/New_York"));
/// facts.leases.push(
///     Lease::new("1345", "100", LeaseStatus::Future)
///         .with_move_in(NaiveDate::from_ymd_opt(2026, 3, 8))
///         .with_customer(Customer::new("77", CustomerType::Primary, Profile::new("Ada", "Lovelace"))),
/// );
/// let mut mappings = Mappings::default();
/// mappings.properties.insert("100".into(), vec![GroupId(7)]);
/// let policy = Policy::default();
/// let before = access_at(&facts, &mappings, &policy, None, Utc.with_ymd_and_hms(2026, 3, 8, 13, 0, 0).unwrap());
/// assert!(before.identities[0].groups.is_empty());
/// // 10:00 EDT on move-in day is 14:00Z (DST began at 07:00Z that morning).
/// assert_eq!(before.next_change, Some(Utc.with_ymd_and_hms(2026, 3, 8, 14, 0, 0).unwrap()));
/// let after = access_at(&facts, &mappings, &policy, None, Utc.with_ymd_and_hms(2026, 3, 8, 14, 0, 0).unwrap());
/// assert_eq!(after.identities[0].groups[0].group, GroupId(7));
/// assert_eq!(after.identities[0].groups[0].reasons[0].to_string(),
///     "lease 1345 Future, from 2026-03-08 10:00 America/New_York, perpetual");
/// ```
pub fn access_at(
    facts: &Facts,
    mappings: &Mappings,
    policy: &Policy,
    observed: Option<&Observed>,
    t: DateTime<Utc>,
) -> Access {
    let d = desired::build(
        facts,
        mappings,
        policy,
        observed.map(|o| o.groups.as_slice()),
    );
    let mut order: Vec<usize> = (0..d.identities.len()).collect();
    order.sort_unstable_by(|a, b| d.identities[*a].key.cmp(&d.identities[*b].key));
    let mut next_change: Option<DateTime<Utc>> = None;
    let mut groups = Vec::new();
    let mut identities = Vec::with_capacity(order.len());
    for i in order {
        let w = want(&d, policy, i, t, &mut groups);
        if let Some(n) = w.eval.next
            && next_change.is_none_or(|c| n < c)
        {
            next_change = Some(n);
        }
        let ident = &d.identities[i];
        identities.push(IdentityAccess {
            external_id: ident.key.external_id(&policy.ownership_prefix),
            profile: d.profile(i).clone(),
            groups: groups
                .iter()
                .map(|&g| GroupAccess {
                    group: g,
                    reasons: d.reasons(facts, i, g, t),
                })
                .collect(),
            suspended: w.suspended == Some(true),
            deleted: w.delete,
            has_access_ahead: w.eval.has_future,
        });
    }
    Access {
        at: t,
        identities,
        next_change,
        warnings: d.warnings.into_iter().collect(),
    }
}

/// A fact that names a person but grants them nothing, and why: the "why
/// not" beside [`access_at`]'s reasons. Time is not a reason here (a grant
/// that ended or has not begun is a grant, shown by [`access_at`]'s
/// `next_change` and [`crate::plan()`]'s reasons); what is here holds at
/// every instant until the facts, mappings or policy change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Exclusion {
    /// The external id the person would have (as in
    /// [`IdentityAccess::external_id`]).
    pub external_id: String,
    /// Name and contact.
    pub profile: Profile,
    /// The fact that names them.
    pub fact: FactRef,
    /// Why it grants nothing, e.g. "the resident's own status Cancelled
    /// admits nobody".
    pub why: String,
}

/// Every person the facts name that some fact grants nothing, with why
/// (see [`Exclusion`]). A person may also hold groups from other facts.
///
/// ```
/// use access_engine::*;
/// use chrono::NaiveDate;
///
/// let mut facts = Facts::default();
/// facts.properties.push(Property::new("100", "America/New_York"));
/// facts.leases.push(
///     Lease::new("1345", "100", LeaseStatus::Current)
///         .with_move_in(NaiveDate::from_ymd_opt(2026, 3, 8))
///         .with_customer(Customer::new("77", CustomerType::Primary, Profile::new("Ada", "Lovelace")))
///         .with_customer(Customer::new("78", CustomerType::Guarantor, Profile::new("Gus", "Lovelace"))),
/// );
/// let mut mappings = Mappings::default();
/// mappings.properties.insert("100".into(), vec![GroupId(7)]);
/// let why_not = exclusions(&facts, &mappings, &Policy::default(), None);
/// assert_eq!(why_not.len(), 1);
/// assert_eq!(why_not[0].profile.first_name, "Gus");
/// assert_eq!(why_not[0].why, "Guarantor customers are not admitted (policy.admitted_customer_types)");
/// ```
pub fn exclusions(
    facts: &Facts,
    mappings: &Mappings,
    policy: &Policy,
    observed: Option<&Observed>,
) -> Vec<Exclusion> {
    let d = desired::build_explained(
        facts,
        mappings,
        policy,
        observed.map(|o| o.groups.as_slice()),
    );
    let mut out: Vec<Exclusion> = d
        .excluded
        .iter()
        .map(|x| Exclusion {
            external_id: x.key.external_id(&policy.ownership_prefix),
            profile: x.profile.clone(),
            fact: x.fact.clone(),
            why: x.why.clone(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
