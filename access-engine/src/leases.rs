//! Entrata facts: properties, leases and the residents (customers) on them.
//!
//! Rules (see `docs/access-rules.md`):
//!
//! * A lease whose own status refuses (Applicant, Cancelled, Denied) grants
//!   nobody anything.
//! * Each resident is then admitted by **their own status** on the lease
//!   (`leaseCustomerStatus`), or the lease's when they carry none: Future,
//!   Current and Notice are admitted; Applicant, Cancelled and Denied grant
//!   nothing; Past grants only what its dates still cover, and a Past
//!   resident with no move-out date (theirs or the lease's) is a bad record.
//!   An unknown status grants nothing and holds what the record could feed.
//! * A resident's window runs from the **later** of the lease's and their
//!   own move-in (at the policy's start time, less the early-access buffer)
//!   to the **earlier** of the lease's and their own move-out (at the end
//!   time, plus grace); no move-out at all is perpetual.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::facts::{Profile, ZoneSource};

/// An Entrata property: its id and its IANA time zone name.
///
/// ```
/// use access_engine::{Property, ZoneSource};
/// let p = Property::new("100", "America/New_York").with_zone_source(ZoneSource::Configured);
/// assert_eq!(p.zone, "America/New_York");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Property {
    /// Entrata property id.
    pub id: String,
    /// IANA zone name, e.g. `America/New_York`.
    pub zone: String,
    /// Where the zone came from (reported in the plan).
    #[serde(default, skip_serializing_if = "ZoneSource::is_given")]
    pub zone_source: ZoneSource,
}

impl Property {
    /// A property in `zone` (an IANA name).
    pub fn new(id: impl Into<String>, zone: impl Into<String>) -> Self {
        Property {
            id: id.into(),
            zone: zone.into(),
            zone_source: ZoneSource::Given,
        }
    }

    /// Says where the zone came from.
    #[must_use]
    pub fn with_zone_source(mut self, source: ZoneSource) -> Self {
        self.zone_source = source;
        self
    }
}

/// Entrata lease status (`leaseStatusTypeIds`), also used for a resident's
/// own status on a lease (`leaseCustomerStatus`). Unknown values are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum LeaseStatus {
    /// Application in progress: grants nothing.
    Applicant,
    /// Cancelled: grants nothing.
    Cancelled,
    /// Application denied: grants nothing.
    Denied,
    /// Signed, not yet moved in.
    Future,
    /// Moved in.
    Current,
    /// Notice given: still grants until move-out.
    Notice,
    /// Moved out: grants only what its window still covers.
    Past,
    /// A status this engine does not know: grants nothing, is reported, and
    /// holds the revocations the record could feed.
    Other(String),
}

impl LeaseStatus {
    /// Whether this status grants nothing, whatever the dates.
    pub fn refuses(&self) -> bool {
        matches!(
            self,
            LeaseStatus::Applicant | LeaseStatus::Cancelled | LeaseStatus::Denied
        )
    }
}

impl fmt::Display for LeaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LeaseStatus::Applicant => "Applicant",
            LeaseStatus::Cancelled => "Cancelled",
            LeaseStatus::Denied => "Denied",
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
#[non_exhaustive]
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

/// A resident (customer) on a lease, with their own status and dates.
///
/// ```
/// use access_engine::{Customer, CustomerType, LeaseStatus, Profile};
/// use chrono::NaiveDate;
///
/// // A co-applicant who moves in a week after the lease starts.
/// let c = Customer::new("78", CustomerType::CoApplicant, Profile::new("Ada", "Lovelace"))
///     .with_status(LeaseStatus::Future)
///     .with_move_in(NaiveDate::from_ymd_opt(2026, 3, 15));
/// assert_eq!(c.status, Some(LeaseStatus::Future));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// Entrata customer id (never empty: an empty id is a bad record).
    pub id: String,
    /// Role on the lease.
    pub customer_type: CustomerType,
    /// Name and contact.
    pub profile: Profile,
    /// This resident's own status on the lease (`leaseCustomerStatus`);
    /// `None` follows the lease's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LeaseStatus>,
    /// This resident's own move-in date; the later of it and the lease's counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_in: Option<NaiveDate>,
    /// This resident's own move-out date; the earlier of it and the lease's counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_out: Option<NaiveDate>,
}

impl Customer {
    /// A resident who follows the lease's status and dates.
    pub fn new(id: impl Into<String>, customer_type: CustomerType, profile: Profile) -> Self {
        Customer {
            id: id.into(),
            customer_type,
            profile,
            status: None,
            move_in: None,
            move_out: None,
        }
    }

    /// Sets the resident's own status.
    #[must_use]
    pub fn with_status(mut self, status: LeaseStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the resident's own move-in date.
    #[must_use]
    pub fn with_move_in(mut self, date: impl Into<Option<NaiveDate>>) -> Self {
        self.move_in = date.into();
        self
    }

    /// Sets the resident's own move-out date.
    #[must_use]
    pub fn with_move_out(mut self, date: impl Into<Option<NaiveDate>>) -> Self {
        self.move_out = date.into();
        self
    }
}

/// An Entrata lease. A transfer or renewal is two leases; their windows may overlap.
///
/// ```
/// use access_engine::{Customer, CustomerType, Lease, LeaseStatus, Profile};
/// use chrono::NaiveDate;
///
/// let lease = Lease::new("1345", "100", LeaseStatus::Current)
///     .with_unit("4B")
///     .with_move_in(NaiveDate::from_ymd_opt(2026, 3, 8))
///     .with_customer(Customer::new("77", CustomerType::Primary, Profile::new("Ada", "Lovelace")));
/// assert_eq!(lease.customers.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
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
    /// Move-in date (local to the property). Required for statuses that
    /// grant, unless every resident carries their own.
    #[serde(default)]
    pub move_in: Option<NaiveDate>,
    /// Move-out date (local, inclusive). `None`: perpetual until one appears.
    #[serde(default)]
    pub move_out: Option<NaiveDate>,
    /// The residents on the lease.
    #[serde(default)]
    pub customers: Vec<Customer>,
}

impl Lease {
    /// A lease with no dates and no residents yet.
    pub fn new(id: impl Into<String>, property_id: impl Into<String>, status: LeaseStatus) -> Self {
        Lease {
            id: id.into(),
            property_id: property_id.into(),
            building_id: None,
            unit_id: None,
            status,
            move_in: None,
            move_out: None,
            customers: Vec::new(),
        }
    }

    /// Sets the building id.
    #[must_use]
    pub fn with_building(mut self, id: impl Into<String>) -> Self {
        self.building_id = Some(id.into());
        self
    }

    /// Sets the unit id.
    #[must_use]
    pub fn with_unit(mut self, id: impl Into<String>) -> Self {
        self.unit_id = Some(id.into());
        self
    }

    /// Sets the move-in date.
    #[must_use]
    pub fn with_move_in(mut self, date: impl Into<Option<NaiveDate>>) -> Self {
        self.move_in = date.into();
        self
    }

    /// Sets the move-out date.
    #[must_use]
    pub fn with_move_out(mut self, date: impl Into<Option<NaiveDate>>) -> Self {
        self.move_out = date.into();
        self
    }

    /// Adds a resident.
    #[must_use]
    pub fn with_customer(mut self, customer: Customer) -> Self {
        self.customers.push(customer);
        self
    }
}
