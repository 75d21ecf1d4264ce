//! `getCustomers` (`customers` service).

use chrono::NaiveDate;
use serde::Deserialize;

use crate::client::{Call, Client};
use crate::de::{self, Record};
use crate::envelope::{Output, Params, decode_body};
use crate::error::Error;
use crate::model::{CustomerId, CustomerType, LeaseId, LeaseStatus, PropertyId, SkippedRecord};

/// Parameters of `getCustomers`. By default Entrata returns residents whose
/// lease is Current or Notice.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CustomersRequest {
    /// The property (required).
    pub property_id: PropertyId,
    /// Only these customers.
    pub customer_ids: Vec<CustomerId>,
    /// Only customers whose lease has one of these status type ids.
    pub lease_status_type_ids: Vec<u32>,
    /// Only customers who agreed to the terms.
    pub is_agreed_to_terms_only: Option<bool>,
    /// `companyIdentificationTypeIds`.
    pub company_identification_type_ids: Vec<u64>,
}

impl CustomersRequest {
    /// The customers of a property.
    pub fn new(property_id: PropertyId) -> Self {
        Self {
            property_id,
            customer_ids: Vec::new(),
            lease_status_type_ids: Vec::new(),
            is_agreed_to_terms_only: None,
            company_identification_type_ids: Vec::new(),
        }
    }

    /// Only customers whose lease is in these statuses.
    #[must_use]
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = LeaseStatus>) -> Self {
        self.lease_status_type_ids = statuses.into_iter().filter_map(|s| s.type_id()).collect();
        self
    }

    /// Only these customers.
    #[must_use]
    pub fn customer_ids(mut self, ids: impl IntoIterator<Item = CustomerId>) -> Self {
        self.customer_ids = ids.into_iter().collect();
        self
    }
}

/// A customer of a property, from `getCustomers` (MITS-style, PascalCase).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct PropertyCustomer {
    /// `@attributes`: the id and external id.
    #[serde(rename = "@attributes")]
    pub attributes: CustomerAttributes,
    /// The leases the customer is on, each with its status and the
    /// customer's role on it.
    #[serde(rename = "LeaseId", default, deserialize_with = "de::list")]
    pub leases: Vec<CustomerLease>,
    /// First name.
    #[serde(rename = "FirstName", default, deserialize_with = "de::text")]
    pub first_name: Option<String>,
    /// Middle name.
    #[serde(rename = "MiddleName", default, deserialize_with = "de::text")]
    pub middle_name: Option<String>,
    /// Last name.
    #[serde(rename = "LastName", default, deserialize_with = "de::text")]
    pub last_name: Option<String>,
    /// Unit number.
    #[serde(rename = "UnitNumber", default, deserialize_with = "de::text")]
    pub unit_number: Option<String>,
    /// Building name.
    #[serde(rename = "BuildingName", default, deserialize_with = "de::text")]
    pub building_name: Option<String>,
    /// Email.
    #[serde(
        rename = "Email",
        alias = "EmailAddress",
        default,
        deserialize_with = "de::text"
    )]
    pub email: Option<String>,
    /// Phone.
    #[serde(rename = "PhoneNumber", default, deserialize_with = "de::text")]
    pub phone_number: Option<String>,
    /// Street.
    #[serde(rename = "Address", default, deserialize_with = "de::text")]
    pub address: Option<String>,
    /// City.
    #[serde(rename = "City", default, deserialize_with = "de::text")]
    pub city: Option<String>,
    /// State.
    #[serde(rename = "State", default, deserialize_with = "de::text")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(rename = "PostalCode", default, deserialize_with = "de::text")]
    pub postal_code: Option<String>,
    /// When the customer approved the terms.
    #[serde(
        rename = "TermsApprovedDate",
        default,
        deserialize_with = "de::opt_date"
    )]
    pub terms_approved_date: Option<NaiveDate>,
    /// Move-in date, where sent.
    #[serde(rename = "MoveInDate", default, deserialize_with = "de::opt_date")]
    pub move_in_date: Option<NaiveDate>,
    /// Move-out date, where sent.
    #[serde(rename = "MoveOutDate", default, deserialize_with = "de::opt_date")]
    pub move_out_date: Option<NaiveDate>,
}

impl PropertyCustomer {
    /// The customer id.
    pub fn id(&self) -> CustomerId {
        self.attributes.id
    }
}

impl Record for PropertyCustomer {
    const KIND: &'static str = "customer";
    fn record_id(&self) -> Option<String> {
        Some(self.attributes.id.to_string())
    }
}

/// The `@attributes` of a [`PropertyCustomer`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CustomerAttributes {
    /// The customer id.
    #[serde(rename = "Id", alias = "id")]
    pub id: CustomerId,
    /// An external id, if set.
    #[serde(rename = "ExternalId", default, deserialize_with = "de::text")]
    pub external_id: Option<String>,
}

/// One lease of a [`PropertyCustomer`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CustomerLease {
    /// The identifications (normally one: the lease id and its status).
    #[serde(rename = "Identification", deserialize_with = "de::list")]
    pub identification: Vec<LeaseIdentification>,
    /// The customer's role on this lease.
    #[serde(rename = "CustomerType", deserialize_with = "CustomerType::opt")]
    pub customer_type: Option<CustomerType>,
}

impl CustomerLease {
    /// The lease id.
    pub fn lease_id(&self) -> Option<LeaseId> {
        self.identification.iter().find_map(|i| i.id_value)
    }

    /// The lease's status, as the identification says.
    pub fn status(&self) -> Option<LeaseStatus> {
        self.identification
            .iter()
            .find_map(|i| i.attributes.as_ref()?.status.clone())
    }
}

/// A MITS identification of a lease.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LeaseIdentification {
    /// The lease id.
    #[serde(rename = "IDValue", deserialize_with = "de::opt_id")]
    pub id_value: Option<LeaseId>,
    /// Its attributes.
    #[serde(rename = "@attributes")]
    pub attributes: Option<LeaseIdentificationAttributes>,
}

/// The `@attributes` of a [`LeaseIdentification`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LeaseIdentificationAttributes {
    /// E.g. `"Lease Id"`.
    #[serde(rename = "IDType", deserialize_with = "de::text")]
    pub id_type: Option<String>,
    /// The lease's status.
    #[serde(rename = "Status", deserialize_with = "LeaseStatus::opt")]
    pub status: Option<LeaseStatus>,
}

/// The answer of `getCustomers`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Customers {
    /// The customers that decoded.
    #[serde(
        rename = "Customers",
        alias = "customers",
        default,
        deserialize_with = "de::tolerant_wrapped"
    )]
    pub customers: Vec<PropertyCustomer>,
    /// Customers that could not be decoded.
    #[serde(skip)]
    pub skipped: Vec<SkippedRecord>,
}

impl Output for Customers {
    const EXPECTED: &'static [&'static str] = &["Customers", "customers"];

    fn attach_skipped(&mut self, skipped: Vec<SkippedRecord>) {
        self.skipped = skipped;
    }
}

/// The `getCustomers` method (service `customers`, r1).
///
/// ```
/// use entrata_client::{CustomerType, GetCustomers, LeaseStatus};
///
/// let body = br#"{"response":{"requestId":"15","code":200,"result":{"Customers":{"Customer":[{
///   "@attributes":{"Id":"6526235","ExternalId":"x1"},
///   "LeaseId":[{"Identification":[{"IDValue":"5424549","@attributes":{"IDType":"Lease Id","Status":"Current"}}],
///               "CustomerType":"Primary"}],
///   "FirstName":"Jane","LastName":"Doe","Email":"jane.doe@example.com"}]}}}}"#;
/// let customers = GetCustomers::decode(body)?;
/// let c = &customers.customers[0];
/// assert_eq!(c.id().get(), 6526235);
/// assert_eq!(c.leases[0].lease_id().map(|l| l.get()), Some(5424549));
/// assert_eq!(c.leases[0].status(), Some(LeaseStatus::Current));
/// assert_eq!(c.leases[0].customer_type, Some(CustomerType::Primary));
/// # Ok::<(), entrata_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct GetCustomers;

impl GetCustomers {
    /// The remote method's name.
    pub const NAME: &'static str = "getCustomers";

    /// Decodes a `getCustomers` response body.
    pub fn decode(body: &[u8]) -> Result<Customers, Error> {
        decode_body(Self::NAME, 200, body)
    }
}

impl Client {
    /// `getCustomers`: the customers of a property.
    pub async fn get_customers(&self, request: &CustomersRequest) -> Result<Customers, Error> {
        let mut p = Params::new();
        p.text("propertyId", Some(request.property_id))
            .list("customerIds", &request.customer_ids)
            .list("leaseStatusTypeIds", &request.lease_status_type_ids)
            .flag("isAgreedToTermsOnly", request.is_agreed_to_terms_only)
            .list(
                "companyIdentificationTypeIds",
                &request.company_identification_type_ids,
            );
        self.call(&Call {
            service: "customers",
            name: GetCustomers::NAME,
            version: "r1",
            params: p,
            page: None,
        })
        .await
    }
}
