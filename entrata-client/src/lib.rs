//! Typed async client for Entrata's JSON-RPC web services: the reads an
//! access-control integration needs (leases, customers, properties, units,
//! property time zones).
//!
//! WIP docs.
#![warn(missing_docs)]

mod client;
mod customers;
mod de;
mod envelope;
mod error;
mod lease_details;
mod leases;
mod model;
mod properties;
mod rate_limit;
mod status;
mod units;

pub use access_http::{CallSnapshot, RetryPolicy};
pub use client::{Client, ClientBuilder, ClientConfig, Credentials};
pub use customers::{
    CustomerAttributes, CustomerLease, Customers, CustomersRequest, GetCustomers,
    LeaseIdentification, LeaseIdentificationAttributes, PropertyCustomer,
};
pub use error::Error;
pub use lease_details::{
    ChargeInterval, DetailCharges, ExpiringLease, ExpiringLeases, ExpiringLeasesRequest,
    GetExpiringLeases, GetLeaseDetails, IdAttributes, LeaseDetail, LeaseDetailsPage,
    LeaseDetailsRequest, LeaseDetailsVersion, Resident,
};
pub use leases::{
    Address, Application, Customer, GetLeases, Lease, LeaseInterval, Leases, LeasesPage,
    LeasesRequest, LeasesVersion, Phone, ScheduledCharge, UnitSpace,
};
pub use model::{
    ApplicationId, BuildingId, CustomerId, CustomerType, FloorPlanId, InvalidMoney, LeaseId,
    LeaseIntervalId, LeaseIntervalType, LeaseStatus, Money, PropertyId, SkippedRecord, UnitId,
    UnitSpaceId, UnitTypeId,
};
pub use properties::{
    GetMitsPropertyUnits, GetProperties, IlsIdentification, LeaseTerm, MitsProperty,
    MitsPropertyUnits, MitsPropertyUnitsRequest, Properties, PropertiesRequest, Property,
    PropertyAddress, iana_time_zone,
};
pub use rate_limit::{RateLimitBucket, RateLimitSnapshot, RatePeriod};
pub use status::{GetStatus, Status};
pub use units::{
    FloorplanKey, FloorplanKeyAttributes, GetPropertyUnits, GetUnitTypes, PropertyUnitSpace,
    PropertyUnits, PropertyUnitsRequest, Unit, UnitType, UnitTypeFloorplan, UnitTypeIdentification,
    UnitTypes, UnitsProperty,
};
