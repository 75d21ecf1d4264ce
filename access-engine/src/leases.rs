//! Entrata facts: properties, leases and their customers.
//!
//! Rules (see the crate docs): Applicant and Cancelled leases grant nothing;
//! Future, Current, Notice and Past leases grant their admitted customers the
//! property's (and building's, unit's) groups from move-in at the policy's
//! start time, less the early-access buffer, until move-out at the policy's
//! end time plus grace (perpetual without a move-out date). A customer's own
//! earlier move-out ends that customer's window alone.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::facts::Profile;

/// An Entrata property: its id and its IANA time zone name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    /// Entrata property id.
    pub id: String,
    /// IANA zone name, e.g. `America/New_York`.
    pub zone: String,
}

/// Entrata lease status (`leaseStatusTypeIds`). Unknown values are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LeaseStatus {
    /// Application in progress: grants nothing.
    Applicant,
    /// Cancelled: grants nothing.
    Cancelled,
    /// Signed, not yet moved in.
    Future,
    /// Moved in.
    Current,
    /// Notice given: still grants until move-out.
    Notice,
    /// Moved out: grants only what its window still covers.
    Past,
    /// A status this engine does not know: grants nothing and is reported.
    Other(String),
}

impl fmt::Display for LeaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LeaseStatus::Applicant => "Applicant",
            LeaseStatus::Cancelled => "Cancelled",
            LeaseStatus::Future => "Future",
            LeaseStatus::Current => "Current",
            LeaseStatus::Notice => "Notice",
            LeaseStatus::Past => "Past",
            LeaseStatus::Other(s) => s,
        })
    }
}

/// A customer's role on a lease (`customerType`). Unknown values are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CustomerType {
    /// The primary leaseholder.
    Primary,
    /// A co-applicant / responsible party.
    CoApplicant,
    /// A non-signing occupant.
    Occupant,
    /// A guarantor (not admitted by default).
    Guarantor,
    /// Any other type.
    Other(String),
}

impl fmt::Display for CustomerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CustomerType::Primary => "Primary",
            CustomerType::CoApplicant => "Co-Applicant",
            CustomerType::Occupant => "Occupant",
            CustomerType::Guarantor => "Guarantor",
            CustomerType::Other(s) => s,
        })
    }
}

/// A customer on a lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Entrata customer id.
    pub id: String,
    /// Role on the lease.
    pub customer_type: CustomerType,
    /// Name and contact.
    pub profile: Profile,
    /// This customer's own move-out date, when earlier than the lease's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_out: Option<NaiveDate>,
}

/// An Entrata lease. A transfer or renewal is two leases; their windows may overlap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Entrata lease id.
    pub id: String,
    /// The property's id (see [`Property`]).
    pub property_id: String,
    /// Building id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_id: Option<String>,
    /// Unit id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_id: Option<String>,
    /// Lease status.
    pub status: LeaseStatus,
    /// Move-in date (local to the property). Required for statuses that grant.
    #[serde(default)]
    pub move_in: Option<NaiveDate>,
    /// Move-out date (local, inclusive). `None`: perpetual until one appears.
    #[serde(default)]
    pub move_out: Option<NaiveDate>,
    /// The customers on the lease.
    pub customers: Vec<Customer>,
}
