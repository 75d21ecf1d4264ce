//! `getLeases` (r1 and r2), `leases` service.

use chrono::{DateTime, FixedOffset, NaiveDate};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;

use crate::client::{Call, Client, Fingerprint, Paged};
use crate::de::{self, Record};
use crate::envelope::{Output, Params, decode_body};
use crate::error::Error;
use crate::model::{
    ApplicationId, BuildingId, CustomerId, CustomerType, FloorPlanId, LeaseId, LeaseIntervalId,
    LeaseIntervalType, LeaseStatus, Money, PropertyId, SkippedRecord, UnitId, UnitSpaceId,
    opt_money,
};

/// Which revision of `getLeases` to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LeasesVersion {
    /// r1: flat building, unit-space and transfer fields; no customers.
    R1,
    /// r2 (default): customers, unit spaces, scheduled charges, intervals.
    #[default]
    R2,
}

impl LeasesVersion {
    fn as_str(self) -> &'static str {
        match self {
            Self::R1 => "r1",
            Self::R2 => "r2",
        }
    }
}

/// Parameters of `getLeases`. Only `property_id` is required.
///
/// ```
/// use chrono::NaiveDate;
/// use entrata_client::{LeaseStatus, LeasesRequest, PropertyId};
///
/// let d = |m, day| NaiveDate::from_ymd_opt(2025, m, day).unwrap();
/// let req = LeasesRequest::new(PropertyId(739084))
///     .statuses([LeaseStatus::Current, LeaseStatus::Notice, LeaseStatus::Future])
///     .move_in_between(Some(d(1, 1)), Some(d(12, 31)))
///     .include_lease_history(true);
/// assert_eq!(req.lease_status_type_ids, vec![4, 5, 3]);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LeasesRequest {
    /// The property (required; one per call).
    pub property_id: PropertyId,
    /// r1 or r2 (default r2).
    pub version: LeasesVersion,
    /// Only leases of this application.
    pub application_id: Option<ApplicationId>,
    /// Only leases of this customer.
    pub customer_id: Option<CustomerId>,
    /// Only these `leaseStatusTypeIds` (see [`LeaseStatus::type_id`]).
    pub lease_status_type_ids: Vec<u32>,
    /// Only these leases.
    pub lease_ids: Vec<LeaseId>,
    /// Only leases with scheduled charges of these AR codes.
    pub scheduled_ar_code_ids: Vec<u64>,
    /// Only this unit number.
    pub unit_number: Option<String>,
    /// Only this building.
    pub building_name: Option<String>,
    /// Move-in from (inclusive).
    pub move_in_date_from: Option<NaiveDate>,
    /// Move-in to (inclusive).
    pub move_in_date_to: Option<NaiveDate>,
    /// Lease expiring from.
    pub lease_expiring_date_from: Option<NaiveDate>,
    /// Lease expiring to.
    pub lease_expiring_date_to: Option<NaiveDate>,
    /// Move-out from.
    pub move_out_date_from: Option<NaiveDate>,
    /// Move-out to.
    pub move_out_date_to: Option<NaiveDate>,
    /// `includeOtherIncomeLeases`.
    pub include_other_income_leases: Option<bool>,
    /// `residentFriendlyMode`.
    pub resident_friendly_mode: Option<bool>,
    /// `includeLeaseHistory`: prior intervals (renewals, transfers) too.
    pub include_lease_history: Option<bool>,
    /// `includeArTransactions`.
    pub include_ar_transactions: Option<bool>,
}

impl LeasesRequest {
    /// All leases of a property (Entrata's default statuses).
    pub fn new(property_id: PropertyId) -> Self {
        Self {
            property_id,
            version: LeasesVersion::R2,
            application_id: None,
            customer_id: None,
            lease_status_type_ids: Vec::new(),
            lease_ids: Vec::new(),
            scheduled_ar_code_ids: Vec::new(),
            unit_number: None,
            building_name: None,
            move_in_date_from: None,
            move_in_date_to: None,
            lease_expiring_date_from: None,
            lease_expiring_date_to: None,
            move_out_date_from: None,
            move_out_date_to: None,
            include_other_income_leases: None,
            resident_friendly_mode: None,
            include_lease_history: None,
            include_ar_transactions: None,
        }
    }

    /// Calls r1 or r2.
    #[must_use]
    pub fn version(mut self, version: LeasesVersion) -> Self {
        self.version = version;
        self
    }

    /// Only leases in these statuses (unknown statuses are ignored).
    #[must_use]
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = LeaseStatus>) -> Self {
        self.lease_status_type_ids = statuses.into_iter().filter_map(|s| s.type_id()).collect();
        self
    }

    /// Only these leases.
    #[must_use]
    pub fn lease_ids(mut self, ids: impl IntoIterator<Item = LeaseId>) -> Self {
        self.lease_ids = ids.into_iter().collect();
        self
    }

    /// Only leases of this customer.
    #[must_use]
    pub fn customer_id(mut self, id: CustomerId) -> Self {
        self.customer_id = Some(id);
        self
    }

    /// Only leases of this application.
    #[must_use]
    pub fn application_id(mut self, id: ApplicationId) -> Self {
        self.application_id = Some(id);
        self
    }

    /// Only this unit number.
    #[must_use]
    pub fn unit_number(mut self, unit: impl Into<String>) -> Self {
        self.unit_number = Some(unit.into());
        self
    }

    /// Only this building.
    #[must_use]
    pub fn building_name(mut self, building: impl Into<String>) -> Self {
        self.building_name = Some(building.into());
        self
    }

    /// Move-in dates in a range (either end open).
    #[must_use]
    pub fn move_in_between(mut self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Self {
        self.move_in_date_from = from;
        self.move_in_date_to = to;
        self
    }

    /// Move-out dates in a range.
    #[must_use]
    pub fn move_out_between(mut self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Self {
        self.move_out_date_from = from;
        self.move_out_date_to = to;
        self
    }

    /// Lease expiry dates in a range.
    #[must_use]
    pub fn expiring_between(mut self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Self {
        self.lease_expiring_date_from = from;
        self.lease_expiring_date_to = to;
        self
    }

    /// `includeLeaseHistory`.
    #[must_use]
    pub fn include_lease_history(mut self, on: bool) -> Self {
        self.include_lease_history = Some(on);
        self
    }

    /// `includeOtherIncomeLeases`.
    #[must_use]
    pub fn include_other_income_leases(mut self, on: bool) -> Self {
        self.include_other_income_leases = Some(on);
        self
    }

    /// `includeArTransactions`.
    #[must_use]
    pub fn include_ar_transactions(mut self, on: bool) -> Self {
        self.include_ar_transactions = Some(on);
        self
    }

    /// `residentFriendlyMode`.
    #[must_use]
    pub fn resident_friendly_mode(mut self, on: bool) -> Self {
        self.resident_friendly_mode = Some(on);
        self
    }

    pub(crate) fn to_call(&self) -> Call {
        let mut p = Params::new();
        p.text("propertyId", Some(self.property_id))
            .text("applicationId", self.application_id)
            .text("customerId", self.customer_id)
            .list("leaseStatusTypeIds", &self.lease_status_type_ids)
            .list("leaseIds", &self.lease_ids)
            .list("scheduledArCodeIds", &self.scheduled_ar_code_ids)
            .text("unitNumber", self.unit_number.as_deref())
            .text("buildingName", self.building_name.as_deref())
            .date("moveInDateFrom", self.move_in_date_from)
            .date("moveInDateTo", self.move_in_date_to)
            .date("leaseExpiringDateFrom", self.lease_expiring_date_from)
            .date("leaseExpiringDateTo", self.lease_expiring_date_to)
            .date("moveOutDateFrom", self.move_out_date_from)
            .date("moveOutDateTo", self.move_out_date_to)
            .flag("includeOtherIncomeLeases", self.include_other_income_leases)
            .flag("residentFriendlyMode", self.resident_friendly_mode)
            .flag("includeLeaseHistory", self.include_lease_history)
            .flag("includeArTransactions", self.include_ar_transactions);
        Call {
            service: "leases",
            name: GetLeases::NAME,
            version: self.version.as_str(),
            params: p,
            page: None,
        }
    }
}

/// A lease, from `getLeases` r1 or r2 (fields absent from the revision
/// called are `None` or empty).
///
/// The fields an access integration needs: [`id`](Self::id),
/// [`property_id`](Self::property_id), the unit ([`unit_id`](Self::unit_id),
/// [`building_id`](Self::building_id), [`unit_spaces`](Self::unit_spaces)),
/// [`status`](Self::status), [`move_in_date`](Self::move_in_date),
/// [`move_out_date`](Self::move_out_date), [`lease_intervals`](Self::lease_intervals)
/// (renewals and transfers), the transfer fields and
/// [`customers`](Self::customers). Dates are the property's local dates.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Lease {
    /// The lease id.
    pub id: LeaseId,
    /// The property.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub property_id: Option<PropertyId>,
    /// The property's name.
    #[serde(default, deserialize_with = "de::text")]
    pub property_name: Option<String>,
    /// `leaseStatusTypeId` (1–6; see [`LeaseStatus::from_type_id`]).
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub lease_status_type_id: Option<u32>,
    /// `leaseStatus` text, where the revision sends it.
    #[serde(default, deserialize_with = "LeaseStatus::opt")]
    pub lease_status: Option<LeaseStatus>,
    /// Status of the current interval (`Current`, `Future`, `Notice`).
    #[serde(default, deserialize_with = "LeaseStatus::opt")]
    pub lease_interval_status: Option<LeaseStatus>,
    /// E.g. `"Renewed"`, `"In Collections, Skip"`.
    #[serde(default, deserialize_with = "de::text")]
    pub lease_sub_status: Option<String>,
    /// E.g. `"Standard"`.
    #[serde(default, deserialize_with = "de::text")]
    pub lease_type: Option<String>,
    /// 10 Student, 1 Conventional, 12 Flexible, ...
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub occupancy_type_id: Option<u32>,
    /// `"Student"`, `"Conventional"`, ...
    #[serde(default, deserialize_with = "de::text")]
    pub occupancy_type: Option<String>,
    /// Month-to-month.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub is_month_to_month: Option<bool>,
    /// The current interval.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub lease_interval_id: Option<LeaseIntervalId>,
    /// The floor plan.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub floor_plan_id: Option<FloorPlanId>,
    /// The floor plan's name.
    #[serde(default, deserialize_with = "de::text")]
    pub floor_plan_name: Option<String>,
    /// E.g. `"Per Bedroom"`.
    #[serde(default, deserialize_with = "de::text")]
    pub space_configuration: Option<String>,
    /// The building (r1).
    #[serde(default, deserialize_with = "de::opt_id")]
    pub building_id: Option<BuildingId>,
    /// The building's name (r1, and a filter in both).
    #[serde(default, deserialize_with = "de::text")]
    pub building_name: Option<String>,
    /// The unit.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub unit_id: Option<UnitId>,
    /// The unit number, where sent (see also
    /// [`unit_number_space`](Self::unit_number_space)).
    #[serde(default, deserialize_with = "de::text")]
    pub unit_number: Option<String>,
    /// The unit and space number (r1), e.g. `"101-A"`.
    #[serde(default, deserialize_with = "de::text")]
    pub unit_number_space: Option<String>,
    /// The unit space (r1, flat).
    #[serde(default, deserialize_with = "de::opt_id")]
    pub unit_space_id: Option<UnitSpaceId>,
    /// The unit spaces (beds) the lease holds (r2).
    #[serde(default, deserialize_with = "de::wrapped")]
    pub unit_spaces: Vec<UnitSpace>,
    /// Move-in date.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub move_in_date: Option<NaiveDate>,
    /// Move-out date: scheduled once notice is given, actual once moved out.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub move_out_date: Option<NaiveDate>,
    /// Notice date, where sent.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub notice_date: Option<NaiveDate>,
    /// Lease start date, where sent at lease level.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub lease_start_date: Option<NaiveDate>,
    /// Lease end date, where sent at lease level (else see
    /// [`current_interval`](Self::current_interval)).
    #[serde(default, deserialize_with = "de::opt_date")]
    pub lease_end_date: Option<NaiveDate>,
    /// The start of the first interval of a renewed lease.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub original_lease_start_date: Option<NaiveDate>,
    /// Termination start date (r1).
    #[serde(default, deserialize_with = "de::opt_date")]
    pub termination_start_date: Option<NaiveDate>,
    /// Transfer date, for a lease transferred to another unit.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub transfer_date: Option<NaiveDate>,
    /// The lease this one was transferred to (r1).
    #[serde(default, deserialize_with = "de::opt_id")]
    pub transfer_lease_id: Option<LeaseId>,
    /// The property of that lease (r1).
    #[serde(default, deserialize_with = "de::opt_id")]
    pub transfer_lease_property_id: Option<PropertyId>,
    /// The lease this one came from (transfers).
    #[serde(default, deserialize_with = "de::opt_id")]
    pub parent_lease_id: Option<LeaseId>,
    /// E.g. `"Renewable"`.
    #[serde(default, deserialize_with = "de::text")]
    pub is_renewal_blacklist: Option<String>,
    /// E.g. `"Allow All Payment Types"`.
    #[serde(default, deserialize_with = "de::text")]
    pub payment_allowance_type: Option<String>,
    /// The people on the lease (r2). A malformed customer is skipped and
    /// reported, not fatal for the lease.
    #[serde(default, deserialize_with = "de::tolerant_wrapped")]
    pub customers: Vec<Customer>,
    /// Scheduled charges (r2).
    #[serde(default, deserialize_with = "de::wrapped")]
    pub scheduled_charges: Vec<ScheduledCharge>,
    /// Intervals: the application, renewals, transfers.
    #[serde(default, deserialize_with = "de::wrapped")]
    pub lease_intervals: Vec<LeaseInterval>,
}

impl Lease {
    /// The lease status: from `leaseStatusTypeId`, else the `leaseStatus`
    /// text, else the current interval's status.
    pub fn status(&self) -> LeaseStatus {
        if let Some(id) = self.lease_status_type_id {
            return LeaseStatus::from_type_id(id);
        }
        self.lease_status
            .clone()
            .or_else(|| self.lease_interval_status.clone())
            .unwrap_or_else(|| LeaseStatus::Other(String::new()))
    }

    /// The interval named by `leaseIntervalId`, else the last one listed.
    pub fn current_interval(&self) -> Option<&LeaseInterval> {
        self.lease_interval_id
            .and_then(|id| self.lease_intervals.iter().find(|i| i.id == id))
            .or_else(|| self.lease_intervals.last())
    }

    /// The unit number: `unitNumber`, else r1's `unitNumberSpace`.
    pub fn unit(&self) -> Option<&str> {
        self.unit_number
            .as_deref()
            .or(self.unit_number_space.as_deref())
    }

    /// The renewal intervals.
    pub fn renewals(&self) -> impl Iterator<Item = &LeaseInterval> {
        self.lease_intervals
            .iter()
            .filter(|i| i.kind() == Some(LeaseIntervalType::Renewal))
    }

    /// The transfer intervals.
    pub fn transfers(&self) -> impl Iterator<Item = &LeaseInterval> {
        self.lease_intervals
            .iter()
            .filter(|i| i.kind() == Some(LeaseIntervalType::Transfer))
    }

    /// The end date of the lease: the lease-level end date, else the
    /// current interval's.
    pub fn end_date(&self) -> Option<NaiveDate> {
        self.lease_end_date
            .or_else(|| self.current_interval().and_then(LeaseInterval::end))
    }
}

impl Record for Lease {
    const KIND: &'static str = "lease";
    fn record_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

/// A unit space (a bed in a shared unit).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UnitSpace {
    /// The unit space id.
    #[serde(deserialize_with = "de::id")]
    pub unit_space_id: UnitSpaceId,
    /// Its label (e.g. `"508"`).
    #[serde(default, deserialize_with = "de::text")]
    pub unit_space: Option<String>,
}

/// A person on a lease.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Customer {
    /// The customer id.
    pub id: CustomerId,
    /// The role on the lease (Primary, Co-Applicant, Occupant, Guarantor).
    #[serde(default, deserialize_with = "CustomerType::opt")]
    pub customer_type: Option<CustomerType>,
    /// E.g. `"Primary"`, `"Roommate"`, `"Spouse"`, `"Child"`, `"Guarantor"`.
    #[serde(default, deserialize_with = "de::text")]
    pub relationship_name: Option<String>,
    /// First name.
    #[serde(default, deserialize_with = "de::text")]
    pub first_name: Option<String>,
    /// Middle name.
    #[serde(default, deserialize_with = "de::text")]
    pub middle_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "de::text")]
    pub last_name: Option<String>,
    /// `"Last, First"`.
    #[serde(default, deserialize_with = "de::text")]
    pub name_full: Option<String>,
    /// Email.
    #[serde(default, deserialize_with = "de::text")]
    pub email_address: Option<String>,
    /// This customer's status on the lease.
    #[serde(default, deserialize_with = "LeaseStatus::opt")]
    pub lease_customer_status: Option<LeaseStatus>,
    /// This customer's move-in date.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub move_in_date: Option<NaiveDate>,
    /// This customer's own move-out date (a roommate leaving early).
    #[serde(default, deserialize_with = "de::opt_date")]
    pub move_out_date: Option<NaiveDate>,
    /// Phones.
    #[serde(default, deserialize_with = "de::wrapped")]
    pub phones: Vec<Phone>,
    /// Addresses.
    #[serde(default, deserialize_with = "de::wrapped")]
    pub addresses: Vec<Address>,
}

impl Customer {
    /// The first phone number, preferring one typed "Primary".
    pub fn phone(&self) -> Option<&str> {
        self.phones
            .iter()
            .find(|p| {
                p.phone_type_name
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case("primary"))
            })
            .or_else(|| self.phones.first())
            .and_then(|p| p.phone_number.as_deref())
    }

    /// `"First Last"`, or `nameFull` when the parts are missing.
    pub fn display_name(&self) -> String {
        match (&self.first_name, &self.last_name) {
            (Some(f), Some(l)) => format!("{f} {l}"),
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (None, None) => self.name_full.clone().unwrap_or_default(),
        }
    }
}

impl Record for Customer {
    const KIND: &'static str = "customer";
    fn record_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

/// A phone number.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Phone {
    /// E.g. `"Primary"`.
    #[serde(deserialize_with = "de::text")]
    pub phone_type_name: Option<String>,
    /// E.g. `"mobile"`, `"work"`.
    #[serde(deserialize_with = "de::text")]
    pub phone_type: Option<String>,
    /// The number, as sent.
    #[serde(deserialize_with = "de::text")]
    pub phone_number: Option<String>,
    /// The country calling code.
    #[serde(deserialize_with = "de::text")]
    pub country_code: Option<String>,
}

/// A postal address of a customer.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Address {
    /// E.g. `"Previous"`, `"Forwarding"`, `"Current"`.
    #[serde(deserialize_with = "de::text")]
    pub address_type: Option<String>,
    /// Street.
    #[serde(deserialize_with = "de::text")]
    pub street_line: Option<String>,
    /// City.
    #[serde(deserialize_with = "de::text")]
    pub city: Option<String>,
    /// State.
    #[serde(deserialize_with = "de::text")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(deserialize_with = "de::text")]
    pub postal_code: Option<String>,
    /// Country.
    #[serde(deserialize_with = "de::text")]
    pub country_name: Option<String>,
}

/// A scheduled charge (r2).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ScheduledCharge {
    /// The charge id.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub id: Option<u64>,
    /// E.g. `"Monthly"`, `"Once"`.
    #[serde(default, deserialize_with = "de::text")]
    pub frequency: Option<String>,
    /// The interval it belongs to.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub lease_interval_id: Option<LeaseIntervalId>,
    /// The charge code id.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub charge_code_id: Option<u64>,
    /// Start date.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub start_date: Option<NaiveDate>,
    /// End date.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub end_date: Option<NaiveDate>,
    /// E.g. `"Base Rent"`, `"other"`.
    #[serde(default, deserialize_with = "de::text")]
    pub charge_type: Option<String>,
    /// E.g. `"Lot Parking"`.
    #[serde(default, deserialize_with = "de::text")]
    pub charge_code: Option<String>,
    /// The amount (unreadable amounts are `None`).
    #[serde(default, deserialize_with = "opt_money")]
    pub amount: Option<Money>,
    /// E.g. `"Base"`, `"Add-On"`.
    #[serde(default, deserialize_with = "de::text")]
    pub charge_usage: Option<String>,
    /// Description.
    #[serde(default, deserialize_with = "de::text")]
    pub description: Option<String>,
}

/// A lease interval: the application period, a renewal, a transfer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LeaseInterval {
    /// The interval id.
    pub id: LeaseIntervalId,
    /// Start date (r2 `startDate`; see [`start`](Self::start)).
    #[serde(default, deserialize_with = "de::opt_date")]
    pub start_date: Option<NaiveDate>,
    /// End date (r2 `endDate`; see [`end`](Self::end)).
    #[serde(default, deserialize_with = "de::opt_date")]
    pub end_date: Option<NaiveDate>,
    /// Start date as r1 names it (`leaseStartDate`).
    #[serde(default, deserialize_with = "de::opt_date")]
    pub lease_start_date: Option<NaiveDate>,
    /// End date as r1 names it (`leaseEndDate`).
    #[serde(default, deserialize_with = "de::opt_date")]
    pub lease_end_date: Option<NaiveDate>,
    /// 1 Application, 3 Renewal, 5 Transfer.
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub lease_interval_type_id: Option<u32>,
    /// `"Application"`, `"Renewal"`, `"Transfer"`.
    #[serde(default, deserialize_with = "de::text")]
    pub lease_interval_type_name: Option<String>,
    /// The interval's status id (4 Current, ...).
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub lease_interval_status_type_id: Option<u32>,
    /// The interval's status name.
    #[serde(default, deserialize_with = "de::text")]
    pub lease_interval_status_type_name: Option<String>,
    /// The application behind it.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub application_id: Option<ApplicationId>,
    /// When the application was completed.
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub application_completed_on: Option<DateTime<FixedOffset>>,
    /// When the lease was approved (r1 puts it here).
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub lease_approved_on: Option<DateTime<FixedOffset>>,
    /// When the interval was created.
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub interval_date_time: Option<DateTime<FixedOffset>>,
    /// Applications of the interval.
    #[serde(default, deserialize_with = "de::wrapped")]
    pub applications: Vec<Application>,
}

impl LeaseInterval {
    /// The start date, whichever revision sent it.
    pub fn start(&self) -> Option<NaiveDate> {
        self.start_date.or(self.lease_start_date)
    }

    /// The end date, whichever revision sent it.
    pub fn end(&self) -> Option<NaiveDate> {
        self.end_date.or(self.lease_end_date)
    }

    /// What kind of interval: from the type name, else the type id.
    pub fn kind(&self) -> Option<LeaseIntervalType> {
        self.lease_interval_type_name
            .as_deref()
            .map(LeaseIntervalType::from_name)
            .or_else(|| {
                self.lease_interval_type_id
                    .and_then(LeaseIntervalType::from_type_id)
            })
    }

    /// The interval's status.
    pub fn status(&self) -> Option<LeaseStatus> {
        self.lease_interval_status_type_name
            .as_deref()
            .map(LeaseStatus::from_name)
            .or_else(|| {
                self.lease_interval_status_type_id
                    .map(LeaseStatus::from_type_id)
            })
    }
}

/// An application of a lease interval.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Application {
    /// The application id.
    pub id: ApplicationId,
    /// When the lease was approved.
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub lease_approved_on: Option<DateTime<FixedOffset>>,
    /// The lease term's name (e.g. `"2024/2025"`).
    #[serde(default, deserialize_with = "de::text")]
    pub lease_term: Option<String>,
    /// When the application was completed.
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub application_completed_on: Option<DateTime<FixedOffset>>,
    /// Start of the lease it applies for.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub lease_start_date: Option<NaiveDate>,
    /// End of the lease it applies for.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub lease_end_date: Option<NaiveDate>,
    /// Whether it belongs to the active interval.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub is_active_lease_interval: Option<bool>,
}

/// One page of `getLeases`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LeasesPage {
    /// The currency of amounts (r2), e.g. `"USD"`.
    #[serde(default, deserialize_with = "de::text")]
    pub currency_code: Option<String>,
    /// The leases that decoded.
    #[serde(default, deserialize_with = "de::tolerant_wrapped")]
    pub leases: Vec<Lease>,
    /// Leases (and customers inside leases) that could not be decoded.
    #[serde(skip)]
    pub skipped: Vec<SkippedRecord>,
}

impl Output for LeasesPage {
    const EXPECTED: &'static [&'static str] = &["leases"];

    fn attach_skipped(&mut self, skipped: Vec<SkippedRecord>) {
        self.skipped = skipped;
    }
}

impl Paged for LeasesPage {
    fn record_count(&self) -> usize {
        self.leases.len() + self.skipped.iter().filter(|s| s.parent.is_none()).count()
    }
    fn fingerprint(&self) -> Fingerprint {
        (
            self.record_count(),
            self.leases.first().map(|l| l.id.to_string()),
            self.leases.last().map(|l| l.id.to_string()),
        )
    }
}

/// All leases of a listing, collected from every page, with how the
/// listing went.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Leases {
    /// The leases.
    pub leases: Vec<Lease>,
    /// Records that could not be decoded, from every page.
    pub skipped: Vec<SkippedRecord>,
    /// Pages requested: a final empty page and pages discarded by a restart
    /// at a page-size cap included.
    pub pages: u32,
    /// The number of records the service announced (`X-Total-Count`), when
    /// it sent one; the listing then holds exactly that many (leases plus
    /// top-level skipped records).
    pub total: Option<u64>,
    /// The page size finally used: the configured `per_page`, or the
    /// smaller cap the server turned out to apply.
    pub page_size: u32,
}

/// The `getLeases` method (service `leases`, r1 and r2).
///
/// [`GetLeases::decode`] reads a saved response body without a network
/// call, e.g. to replay a capture:
///
/// ```
/// use entrata_client::{GetLeases, LeaseStatus, CustomerType};
///
/// let body = br#"{"response":{"requestId":"15","code":200,"result":{"currencyCode":"USD",
///   "leases":{"lease":[{"id":"13458104","leaseStatusTypeId":"4","propertyId":"739084",
///     "moveInDate":"08/16/2024","unitId":"4087610",
///     "customers":{"customer":[{"id":18058344,"customerType":"Primary","firstName":"Jane",
///        "lastName":"Doe","moveOutDate":"05/31/2025"}]},
///     "leaseIntervals":{"leaseInterval":[{"id":17121616,"startDate":"08/16/2024",
///        "endDate":"07/30/2025","leaseIntervalTypeId":3,"leaseIntervalTypeName":"Renewal"}]}}]}}}}"#;
/// let page = GetLeases::decode(body)?;
/// let lease = &page.leases[0];
/// assert_eq!(lease.id.get(), 13458104);
/// assert_eq!(lease.status(), LeaseStatus::Current);
/// assert_eq!(lease.customers[0].customer_type, Some(CustomerType::Primary));
/// assert_eq!(lease.renewals().count(), 1);
/// assert_eq!(lease.end_date().unwrap().to_string(), "2025-07-30");
/// # Ok::<(), entrata_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct GetLeases;

impl GetLeases {
    /// The remote method's name.
    pub const NAME: &'static str = "getLeases";

    /// Decodes a `getLeases` (r1 or r2) response body.
    pub fn decode(body: &[u8]) -> Result<LeasesPage, Error> {
        decode_body(Self::NAME, 200, body)
    }
}

impl Client {
    /// One page of `getLeases` (`page_no` from 1, `per_page` from the
    /// client's config).
    pub async fn get_leases_page(
        &self,
        request: &LeasesRequest,
        page: u32,
    ) -> Result<LeasesPage, Error> {
        let mut call = request.to_call();
        call.page = Some((page.max(1), self.config().per_page));
        self.call(&call).await
    }

    /// `getLeases` page by page, lazily, as a stream of pages (which carry
    /// the skipped records). The paging rules are those of
    /// [`leases`](Self::leases).
    pub fn lease_pages(
        &self,
        request: &LeasesRequest,
    ) -> BoxStream<'static, Result<LeasesPage, Error>> {
        self.pages(request.to_call())
            .map_ok(|listed| listed.page)
            .boxed()
    }

    /// `getLeases` as a lazy stream of leases, across pages. It ends after
    /// the first error. The stream is boxed (`Send`, `Unpin`, `'static`): it
    /// can be polled without pinning, stored, or moved into a task. Skipped records are logged (`tracing` warn); use
    /// [`lease_pages`](Self::lease_pages) or [`all_leases`](Self::all_leases)
    /// to get them.
    ///
    /// # Paging
    ///
    /// Pages are asked for with `page_no` and `per_page` (the client's
    /// [`per_page`](crate::ClientBuilder::per_page)) in the query string.
    /// Entrata may cap the page size below what was asked, and may or may
    /// not send `X-Total-Count`, so a listing never ends just because a page
    /// came back short:
    ///
    /// - **With `X-Total-Count`**, the listing stops once it holds that many
    ///   records. An empty page before that, more records than that, or a
    ///   total that changes between pages is an [`Error::Pagination`] naming
    ///   the numbers.
    /// - **Without it**, a first page shorter than the most records the
    ///   server has returned on one page of this method before (on this
    ///   client and its clones) is the whole list: a cap is at least that.
    ///   Another short page is confirmed by asking for the next
    ///   one — after a short *first* page of `k` records, asked with
    ///   `per_page = k`, so that it starts right after them even on a server
    ///   that offsets pages by the size asked for: an empty page ends the
    ///   listing. If instead more records come,
    ///   the server capped the page size: the listing starts again from
    ///   page 1 with `per_page` set to the size of that short first page
    ///   (records read so far are discarded, never yielded), and reads until
    ///   an empty page. Any further inconsistency is an
    ///   [`Error::Pagination`]. The cap is remembered: later listings of the
    ///   same method on this client (and its clones) start with it.
    /// - A page with **more** records than `per_page` means the server
    ///   ignores paging: that page is the whole list.
    /// - A page **identical** to the previous one ends the listing when the
    ///   previous page was short (the server ignores `page_no`; the repeat
    ///   is dropped), and is an [`Error::Pagination`] otherwise.
    /// - More than [`max_pages`](crate::ClientBuilder::max_pages) pages is
    ///   an [`Error::Pagination`].
    ///
    /// A short page is held back until the next page shows it was the
    /// last, so every lease this stream yields belongs to the listing. The
    /// cost is one extra call per listing when no total is sent.
    ///
    /// ```no_run
    /// use futures::TryStreamExt;
    /// use entrata_client::{Client, LeasesRequest, PropertyId};
    ///
    /// # async fn run(client: Client) -> Result<(), entrata_client::Error> {
    /// let mut leases = client.leases(&LeasesRequest::new(PropertyId(739084)));
    /// while let Some(lease) = leases.try_next().await? {
    ///     println!("{} {:?} {:?}", lease.id, lease.status(), lease.move_in_date);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn leases(&self, request: &LeasesRequest) -> BoxStream<'static, Result<Lease, Error>> {
        self.lease_pages(request)
            .map_ok(|page| futures::stream::iter(page.leases.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Every lease of the listing, with the skipped records of every page,
    /// the service's total and the page size used. The paging rules are
    /// those of [`leases`](Self::leases): any error means the listing is
    /// incomplete, and nothing is returned.
    ///
    /// ```no_run
    /// use entrata_client::{Client, LeaseStatus, LeasesRequest, PropertyId};
    ///
    /// # async fn run(client: Client) -> Result<(), entrata_client::Error> {
    /// let request = LeasesRequest::new(PropertyId(739084))
    ///     .statuses([LeaseStatus::Current, LeaseStatus::Notice, LeaseStatus::Future]);
    /// let all = client.all_leases(&request).await?;
    /// println!(
    ///     "{} leases ({} unreadable) in {} pages of {}; the service announced {:?}",
    ///     all.leases.len(), all.skipped.len(), all.pages, all.page_size, all.total,
    /// );
    /// # Ok(()) }
    /// ```
    pub async fn all_leases(&self, request: &LeasesRequest) -> Result<Leases, Error> {
        let mut out = Leases {
            page_size: self.config().per_page,
            ..Leases::default()
        };
        let mut pages = std::pin::pin!(self.pages::<LeasesPage>(request.to_call()));
        while let Some(listed) = pages.next().await {
            let listed = listed?;
            out.pages = listed.requested;
            out.total = listed.total;
            out.page_size = listed.page_size;
            out.leases.extend(listed.page.leases);
            out.skipped.extend(listed.page.skipped);
        }
        Ok(out)
    }
}
