//! `getLeaseDetails` (r1, r2) and `getExpiringLeases` (`leases` service).

use chrono::NaiveDate;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;

use crate::client::{Call, Client, Fingerprint, Paged};
use crate::de::{self, Record};
use crate::envelope::{Output, Params, decode_body};
use crate::error::Error;
use crate::model::{
    CustomerId, LeaseId, LeaseIntervalId, LeaseStatus, PropertyId, SkippedRecord, UnitId,
};

/// Which revision of `getLeaseDetails` to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LeaseDetailsVersion {
    /// r1: one lease (`lease_id` required).
    R1,
    /// r2 (default): paginated; `lease_id` optional.
    #[default]
    R2,
}

/// Parameters of `getLeaseDetails`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseDetailsRequest {
    /// The property (required).
    pub property_id: PropertyId,
    /// The lease (required by r1).
    pub lease_id: Option<LeaseId>,
    /// r1 or r2.
    pub version: LeaseDetailsVersion,
    /// Only these lease status type ids (r2).
    pub lease_status_type_ids: Vec<u32>,
    /// `includeAddOns`.
    pub include_add_ons: Option<bool>,
    /// `includeCharge`.
    pub include_charge: Option<bool>,
}

impl LeaseDetailsRequest {
    /// Details of the leases of a property.
    pub fn new(property_id: PropertyId) -> Self {
        Self {
            property_id,
            lease_id: None,
            version: LeaseDetailsVersion::R2,
            lease_status_type_ids: Vec::new(),
            include_add_ons: None,
            include_charge: None,
        }
    }

    /// Only this lease.
    #[must_use]
    pub fn lease_id(mut self, id: LeaseId) -> Self {
        self.lease_id = Some(id);
        self
    }

    /// r1 or r2.
    #[must_use]
    pub fn version(mut self, version: LeaseDetailsVersion) -> Self {
        self.version = version;
        self
    }

    /// `includeCharge`.
    #[must_use]
    pub fn include_charge(mut self, on: bool) -> Self {
        self.include_charge = Some(on);
        self
    }

    fn to_call(&self) -> Result<Call, Error> {
        if self.version == LeaseDetailsVersion::R1 && self.lease_id.is_none() {
            return Err(Error::InvalidRequest {
                method: GetLeaseDetails::NAME,
                message: "getLeaseDetails r1 needs a lease id".to_owned(),
            });
        }
        let mut p = Params::new();
        p.text("propertyId", Some(self.property_id))
            .text("leaseId", self.lease_id)
            .list("leaseStatusTypeIds", &self.lease_status_type_ids)
            .flag("includeAddOns", self.include_add_ons)
            .flag("includeCharge", self.include_charge);
        Ok(Call {
            service: "leases",
            name: GetLeaseDetails::NAME,
            version: match self.version {
                LeaseDetailsVersion::R1 => "r1",
                LeaseDetailsVersion::R2 => "r2",
            },
            params: p,
            page: None,
        })
    }
}

/// A lease's details, from `getLeaseDetails`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LeaseDetail {
    /// The lease id.
    pub lease_id: LeaseId,
    /// The resident's name.
    #[serde(default, deserialize_with = "de::text")]
    pub name: Option<String>,
    /// The unit.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub property_unit_id: Option<UnitId>,
    /// The unit number.
    #[serde(default, deserialize_with = "de::text")]
    pub unit_number: Option<String>,
    /// Scheduled charges grouped by interval.
    #[serde(default)]
    pub scheduled_charges: Option<DetailCharges>,
}

impl Record for LeaseDetail {
    const KIND: &'static str = "lease";
    fn record_id(&self) -> Option<String> {
        Some(self.lease_id.to_string())
    }
}

/// `scheduledCharges` of a lease detail.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DetailCharges {
    /// Recurring charges, per interval.
    #[serde(rename = "recurringCharge", deserialize_with = "de::list")]
    pub recurring: Vec<ChargeInterval>,
    /// One-time charges, per interval.
    #[serde(rename = "oneTimeCharge", deserialize_with = "de::list")]
    pub one_time: Vec<ChargeInterval>,
}

/// The interval a group of charges belongs to.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ChargeInterval {
    /// The interval.
    #[serde(deserialize_with = "de::opt_id")]
    pub lease_interval_id: Option<LeaseIntervalId>,
    /// Its status (e.g. `"Notice"`).
    #[serde(deserialize_with = "LeaseStatus::opt")]
    pub lease_interval_status: Option<LeaseStatus>,
    /// Its type (e.g. `"Month to Month"`).
    #[serde(deserialize_with = "de::text")]
    pub lease_interval_type: Option<String>,
    /// Start.
    #[serde(deserialize_with = "de::opt_date")]
    pub lease_start_date: Option<NaiveDate>,
    /// End.
    #[serde(deserialize_with = "de::opt_date")]
    pub lease_end_date: Option<NaiveDate>,
}

/// One page of `getLeaseDetails`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct LeaseDetailsPage {
    /// The leases that decoded.
    #[serde(default, deserialize_with = "de::tolerant_wrapped")]
    pub leases: Vec<LeaseDetail>,
    /// Leases that could not be decoded.
    #[serde(skip)]
    pub skipped: Vec<SkippedRecord>,
}

impl Output for LeaseDetailsPage {
    const EXPECTED: &'static [&'static str] = &["leases"];

    fn attach_skipped(&mut self, skipped: Vec<SkippedRecord>) {
        self.skipped = skipped;
    }
}

impl Paged for LeaseDetailsPage {
    fn record_count(&self) -> usize {
        self.leases.len() + self.skipped.iter().filter(|s| s.parent.is_none()).count()
    }
    fn fingerprint(&self) -> Fingerprint {
        (
            self.record_count(),
            self.leases.first().map(|l| l.lease_id.to_string()),
            self.leases.last().map(|l| l.lease_id.to_string()),
        )
    }
}

/// Every lease detail of a `getLeaseDetails` r2 listing, collected from
/// every page, with how the listing went (as [`Leases`](crate::Leases)).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct LeaseDetails {
    /// The leases that decoded.
    pub leases: Vec<LeaseDetail>,
    /// Leases that could not be decoded, from every page.
    pub skipped: Vec<SkippedRecord>,
    /// Pages requested: a final empty page and pages discarded by a restart
    /// at a page-size cap included.
    pub pages: u32,
    /// The number of records the service announced (`X-Total-Count`), when
    /// it sent one.
    pub total: Option<u64>,
    /// The page size finally used.
    pub page_size: u32,
}

/// The `getLeaseDetails` method (service `leases`, r1 and r2).
///
/// ```
/// use entrata_client::GetLeaseDetails;
///
/// let page = GetLeaseDetails::decode(br#"{"response":{"requestId":"15","code":200,"result":{"leases":{"lease":{
///   "leaseId":"12269740","propertyUnitId":"3980420","unitNumber":"6285-D",
///   "scheduledCharges":{"recurringCharge":[{"leaseIntervalId":"123456","leaseIntervalStatus":"Notice",
///     "leaseIntervalType":"Month to Month","leaseStartDate":"08/01/2017","leaseEndDate":"11/09/2017"}]}}}}}}"#)?;
/// let lease = &page.leases[0];
/// assert_eq!(lease.lease_id.get(), 12269740);
/// assert_eq!(lease.scheduled_charges.as_ref().unwrap().recurring.len(), 1);
/// # Ok::<(), entrata_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct GetLeaseDetails;

impl GetLeaseDetails {
    /// The remote method's name.
    pub const NAME: &'static str = "getLeaseDetails";

    /// Decodes a `getLeaseDetails` response body.
    pub fn decode(body: &[u8]) -> Result<LeaseDetailsPage, Error> {
        decode_body(Self::NAME, 200, body)
    }
}

/// Parameters of `getExpiringLeases`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExpiringLeasesRequest {
    /// The property (required).
    pub property_id: PropertyId,
    /// Expiring from (optional).
    pub from_date: Option<NaiveDate>,
    /// Expiring up to (required by Entrata).
    pub to_date: NaiveDate,
    /// `isMonthToMonth`.
    pub is_month_to_month: Option<bool>,
    /// `showNoticeLeasesOnly` (legacy name; the gateway spec calls it
    /// `isWaitList`). Entrata errors if the property hides notice residents
    /// from renewals.
    pub show_notice_leases_only: Option<bool>,
}

impl ExpiringLeasesRequest {
    /// Leases of a property expiring up to `to_date`.
    pub fn new(property_id: PropertyId, to_date: NaiveDate) -> Self {
        Self {
            property_id,
            from_date: None,
            to_date,
            is_month_to_month: None,
            show_notice_leases_only: None,
        }
    }

    /// Expiring from this date.
    #[must_use]
    pub fn from_date(mut self, from: NaiveDate) -> Self {
        self.from_date = Some(from);
        self
    }
}

/// A lease about to expire, from `getExpiringLeases`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ExpiringLease {
    /// `@attributes`: the lease id.
    #[serde(rename = "@attributes")]
    pub attributes: IdAttributes<LeaseId>,
    /// The resident.
    #[serde(rename = "Resident", default)]
    pub resident: Option<Resident>,
    /// The unit.
    #[serde(rename = "Unit", default, deserialize_with = "de::text")]
    pub unit: Option<String>,
    /// The lease status.
    #[serde(rename = "LeaseStatus", default, deserialize_with = "LeaseStatus::opt")]
    pub lease_status: Option<LeaseStatus>,
    /// Start date.
    #[serde(rename = "LeaseStarts", default, deserialize_with = "de::opt_date")]
    pub lease_starts: Option<NaiveDate>,
    /// Expiry date.
    #[serde(rename = "LeaseExpires", default, deserialize_with = "de::opt_date")]
    pub lease_expires: Option<NaiveDate>,
    /// Notice date.
    #[serde(rename = "NoticeDate", default, deserialize_with = "de::opt_date")]
    pub notice_date: Option<NaiveDate>,
}

impl ExpiringLease {
    /// The lease id.
    pub fn id(&self) -> LeaseId {
        self.attributes.id
    }
}

impl Record for ExpiringLease {
    const KIND: &'static str = "lease";
    fn record_id(&self) -> Option<String> {
        Some(self.attributes.id.to_string())
    }
}

/// `{"@attributes": {"Id": ...}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct IdAttributes<T> {
    /// The id.
    #[serde(rename = "Id", alias = "id")]
    pub id: T,
}

/// The resident of an expiring lease.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Resident {
    /// `@attributes`: the customer id.
    #[serde(rename = "@attributes", default)]
    pub attributes: Option<IdAttributes<CustomerId>>,
    /// Name.
    #[serde(rename = "Name", default, deserialize_with = "de::text")]
    pub name: Option<String>,
    /// Phone.
    #[serde(rename = "PhoneNumber", default, deserialize_with = "de::text")]
    pub phone_number: Option<String>,
    /// Email.
    #[serde(rename = "EmailAddress", default, deserialize_with = "de::text")]
    pub email_address: Option<String>,
}

/// The answer of `getExpiringLeases`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ExpiringLeases {
    /// The leases that decoded.
    #[serde(
        rename = "Leases",
        alias = "leases",
        default,
        deserialize_with = "de::tolerant_wrapped"
    )]
    pub leases: Vec<ExpiringLease>,
    /// Leases that could not be decoded.
    #[serde(skip)]
    pub skipped: Vec<SkippedRecord>,
}

impl Output for ExpiringLeases {
    const EXPECTED: &'static [&'static str] = &["Leases", "leases"];

    fn attach_skipped(&mut self, skipped: Vec<SkippedRecord>) {
        self.skipped = skipped;
    }
}

/// The `getExpiringLeases` method (service `leases`, r1): renewal candidates.
///
/// ```
/// use entrata_client::GetExpiringLeases;
///
/// let body = br#"{"response":{"requestId":"15","result":{"Leases":{"Lease":[{"@attributes":{"Id":5641482},
///   "Resident":{"@attributes":{"Id":4940016},"Name":"Jane Doe"},"Unit":"14","LeaseStatus":"Current",
///   "LeaseStarts":"02/01/2013","LeaseExpires":"02/27/2013","NoticeDate":"02/11/2014"}]}}}}"#;
/// let leases = GetExpiringLeases::decode(body)?;
/// assert_eq!(leases.leases[0].id().get(), 5641482);
/// # Ok::<(), entrata_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct GetExpiringLeases;

impl GetExpiringLeases {
    /// The remote method's name.
    pub const NAME: &'static str = "getExpiringLeases";

    /// Decodes a `getExpiringLeases` response body.
    pub fn decode(body: &[u8]) -> Result<ExpiringLeases, Error> {
        decode_body(Self::NAME, 200, body)
    }
}

impl Client {
    /// One page of `getLeaseDetails` (r1 is not paginated: ask for page 1).
    pub async fn get_lease_details_page(
        &self,
        request: &LeaseDetailsRequest,
        page: u32,
    ) -> Result<LeaseDetailsPage, Error> {
        let mut call = request.to_call()?;
        if request.version == LeaseDetailsVersion::R2 {
            call.page = Some((page.max(1), self.config().per_page));
        }
        self.call(&call).await
    }

    /// `getLeaseDetails` r2 as a lazy stream of pages, with the paging
    /// rules of [`Client::leases`]. r1 is not paginated: one page, from one
    /// call.
    pub fn lease_detail_pages(
        &self,
        request: &LeaseDetailsRequest,
    ) -> BoxStream<'static, Result<LeaseDetailsPage, Error>> {
        match request.to_call() {
            Ok(call) if request.version == LeaseDetailsVersion::R2 => self
                .pages::<LeaseDetailsPage>(call)
                .map_ok(|listed| listed.page)
                .boxed(),
            Ok(call) => {
                let client = self.clone();
                futures::stream::once(async move { client.call(&call).await }).boxed()
            }
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    /// Every page of `getLeaseDetails` r2, concatenated (skipped records of
    /// every page included), with the service's total and the page size
    /// used. The paging rules are those of [`Client::leases`]. For r1 (one
    /// lease, not paginated) this is one call.
    ///
    /// ```no_run
    /// use entrata_client::{Client, LeaseDetailsRequest, PropertyId};
    ///
    /// # async fn run(client: Client) -> Result<(), entrata_client::Error> {
    /// let details = client.all_lease_details(&LeaseDetailsRequest::new(PropertyId(739084))).await?;
    /// println!("{} leases, total {:?}", details.leases.len(), details.total);
    /// # Ok(()) }
    /// ```
    pub async fn all_lease_details(
        &self,
        request: &LeaseDetailsRequest,
    ) -> Result<LeaseDetails, Error> {
        let mut all = LeaseDetails {
            page_size: self.config().per_page,
            ..LeaseDetails::default()
        };
        let call = request.to_call()?;
        if request.version == LeaseDetailsVersion::R1 {
            let page: LeaseDetailsPage = self.call(&call).await?;
            all.pages = 1;
            all.leases = page.leases;
            all.skipped = page.skipped;
            return Ok(all);
        }
        let mut pages = std::pin::pin!(self.pages::<LeaseDetailsPage>(call));
        while let Some(listed) = pages.next().await {
            let listed = listed?;
            all.pages = listed.requested;
            all.total = listed.total;
            all.page_size = listed.page_size;
            all.leases.extend(listed.page.leases);
            all.skipped.extend(listed.page.skipped);
        }
        Ok(all)
    }

    /// `getExpiringLeases`: leases of a property expiring by a date.
    pub async fn get_expiring_leases(
        &self,
        request: &ExpiringLeasesRequest,
    ) -> Result<ExpiringLeases, Error> {
        let mut p = Params::new();
        p.text("propertyId", Some(request.property_id))
            .date("fromDate", request.from_date)
            .date("toDate", Some(request.to_date))
            .flag("isMonthToMonth", request.is_month_to_month)
            .flag("showNoticeLeasesOnly", request.show_notice_leases_only);
        self.call(&Call {
            service: "leases",
            name: GetExpiringLeases::NAME,
            version: "r1",
            params: p,
            page: None,
        })
        .await
    }
}
