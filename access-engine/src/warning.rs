//! Warnings: what the engine skipped or could not decide, never a failure.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::facts::Scope;
use crate::mapping::GroupId;
use crate::observed::BrivoUserId;
use crate::reason::FactKind;

/// Something the plan reports but does not fail on. A bad record is skipped;
/// the rest of the plan stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Warning {
    /// A property with leases that grant but no mapped group (property, building or unit).
    UnmappedProperty {
        /// Property id.
        property_id: String,
    },
    /// A membership plan with no mapped group.
    UnmappedPlan {
        /// Plan id.
        plan_id: String,
    },
    /// A resource (with its floor and location) with no mapped group.
    UnmappedResource {
        /// Resource id.
        resource_id: String,
    },
    /// A location with day passes but no day-pass groups.
    UnmappedLocation {
        /// Location id.
        location_id: String,
    },
    /// A directory with users but no mapped group.
    UnmappedDirectory {
        /// Directory id.
        directory_id: String,
    },
    /// A zone name chrono-tz does not know, or a property or location given
    /// several times with different zones (`zone` then lists them, sorted:
    /// `"America/New_York, Europe/London (given 2 times with different
    /// zones)"`): the scope's facts are skipped and revocations fed by it
    /// are held, whatever the order of the records.
    UnknownZone {
        /// The property or location.
        scope: Scope,
        /// The zone as given.
        zone: String,
    },
    /// A fact refers to a property or location that is not in the batch: it
    /// is skipped and revocations fed by that scope are held.
    UnknownScope {
        /// The fact.
        kind: FactKind,
        /// The fact's id.
        id: String,
        /// The missing property or location.
        scope: Scope,
    },
    /// A fact refers to a member, company or membership that is not in the batch.
    UnknownReference {
        /// The fact.
        kind: FactKind,
        /// The fact's id.
        id: String,
        /// What is missing, e.g. `member 42`.
        missing: String,
    },
    /// The same identity appears in several facts with different profiles;
    /// the least profile (in sort order) is used.
    DuplicateIdentity {
        /// The external id.
        external_id: String,
    },
    /// Several Brivo users carry the same owned external id; the lowest id is
    /// used, the others are treated as unowned.
    DuplicateExternalId {
        /// The external id.
        external_id: String,
        /// The users carrying it.
        users: Vec<BrivoUserId>,
    },
    /// A mapped group that does not exist in Brivo: nothing is planned against it.
    MissingGroup {
        /// The group.
        group: GroupId,
    },
    /// A record that cannot be interpreted was skipped; revocations of the
    /// groups it could have granted are held for the people it names. A
    /// membership id given several times with different contents makes
    /// each of those records bad (equal repeats are one membership).
    BadRecord {
        /// The fact.
        kind: FactKind,
        /// The fact's id.
        id: String,
        /// What is wrong.
        problem: String,
    },
    /// A scope the runner marked incomplete (a failed or partial fetch, a
    /// property with no known zone, ...): revocations it feeds are held.
    IncompleteScope {
        /// The scope.
        scope: Scope,
        /// Why it is incomplete.
        reason: String,
    },
    /// A scope changed more than expected since the last run (absent from
    /// the batch, emptied, shrunk beyond the policy's share): revocations it
    /// feeds are held until it recovers or an operator approves it.
    UnexpectedScope {
        /// The scope.
        scope: Scope,
        /// What changed.
        detail: String,
    },
    /// A status the engine does not know: the record grants nothing, and
    /// the revocations it could feed are held.
    UnknownStatus {
        /// The fact.
        kind: FactKind,
        /// The fact's id.
        id: String,
        /// The status as given.
        status: String,
    },
    /// Building mappings exist, but leases of this property carry no
    /// building id (Entrata's getLeases r2 sends none), so no building
    /// mapping can apply to them: map their units instead, or supply the
    /// building on each lease.
    NoBuilding {
        /// Property id.
        property_id: String,
    },
    /// Adopt-by-email found a Brivo user with the identity's email but may
    /// not adopt it: it carries an external id (another integration's, or
    /// a second copy of one of ours), or the runner found it in groups this
    /// integration does not manage or holding credentials. A user of the
    /// identity's own is created instead; the two share an email.
    AdoptionRefused {
        /// The Brivo user not adopted.
        user: BrivoUserId,
        /// Why.
        reason: String,
    },
    /// Policy `same_person` would make one person of records that cannot
    /// be one (an email that names two residents, links and emails that
    /// chain two residents together): none of them is merged.
    SamePersonConflict {
        /// The records, as `entrata:5009`, `officernd:m1`.
        records: Vec<String>,
        /// Why they are not merged.
        why: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnmappedProperty { property_id } => {
                write!(f, "property {property_id} is not mapped to any group")
            }
            Warning::UnmappedPlan { plan_id } => {
                write!(f, "plan {plan_id} is not mapped to any group")
            }
            Warning::UnmappedResource { resource_id } => {
                write!(f, "resource {resource_id} is not mapped to any group")
            }
            Warning::UnmappedLocation { location_id } => {
                write!(f, "location {location_id} has no day-pass groups")
            }
            Warning::UnmappedDirectory { directory_id } => {
                write!(f, "directory {directory_id} is not mapped to any group")
            }
            Warning::UnknownZone { scope, zone } => {
                write!(
                    f,
                    "{scope}: unknown time zone {zone:?}; its facts are skipped"
                )
            }
            Warning::UnknownScope { kind, id, scope } => {
                write!(f, "{kind} {id}: {scope} is not in the batch; skipped")
            }
            Warning::UnknownReference { kind, id, missing } => {
                write!(f, "{kind} {id}: {missing} is not in the batch; skipped")
            }
            Warning::DuplicateIdentity { external_id } => {
                write!(
                    f,
                    "duplicate identity {external_id} with different profiles"
                )
            }
            Warning::DuplicateExternalId { external_id, users } => {
                write!(
                    f,
                    "external id {external_id} is carried by {} users:",
                    users.len()
                )?;
                for u in users {
                    write!(f, " {}", u.0)?;
                }
                Ok(())
            }
            Warning::MissingGroup { group } => {
                write!(f, "{group} is mapped but does not exist in Brivo")
            }
            Warning::BadRecord { kind, id, problem } => {
                write!(f, "{kind} {id} skipped: {problem}")
            }
            Warning::IncompleteScope { scope, reason } => {
                write!(
                    f,
                    "{scope} is incomplete ({reason}); its revocations are held"
                )
            }
            Warning::UnexpectedScope { scope, detail } => write!(
                f,
                "{scope} {detail}; its revocations are held until it recovers or is approved (scope:{})",
                scope.key()
            ),
            Warning::UnknownStatus { kind, id, status } => write!(
                f,
                "{kind} {id}: unknown status {status:?}; grants nothing, its revocations are held"
            ),
            Warning::NoBuilding { property_id } => write!(
                f,
                "leases of property {property_id} carry no building id, so building mappings cannot apply to them (map their units instead)"
            ),
            Warning::AdoptionRefused { user, reason } => write!(
                f,
                "user {} has a wanted email but is not adopted ({reason}); a new user is created",
                user.0
            ),
            Warning::SamePersonConflict { records, why } => write!(
                f,
                "{} are not merged ({why}); link the right ones in same_person.links",
                records.join(", ")
            ),
        }
    }
}
