//! Typed OfficeRnD Flex v2 records.
//!
//! Conventions:
//! - Every record has a required `_id` ([`MemberId`], [`BookingId`], …):
//!   a record without one cannot be referred to and is reported as skipped.
//! - Date-only fields (`startDate`, `endDate`, `validFrom`, `validTo`, …)
//!   arrive as `YYYY-MM-DDT00:00:00.000Z` and are exposed as [`NaiveDate`]s:
//!   **local dates of the location**, to be read in its
//!   [`Location::timezone`] (an inclusive end date ends at the start of the
//!   next local day). Instants (`start`/`end` of bookings and check-ins,
//!   `createdAt`, `modifiedAt`) are [`DateTime<Utc>`].
//! - Enums keep unknown values (`Other(String)`) instead of failing.
//! - Optional fields are `Option` and tolerate `null` and absence; sparse
//!   booleans (`isCancelled`, …) default to `false`.
//!
//! ```
//! use officernd_client::models::{Membership, MembershipCalculatedStatus};
//!
//! let m: Membership = serde_json::from_str(r#"{
//!     "_id": "603dfbc260f4054084125d30", "name": "Private Office",
//!     "status": "approved", "calculatedStatus": "active",
//!     "plan": "603dfbc260f4054084125d31", "company": "603dfbc260f4054084125d32",
//!     "location": "603dfbc260f4054084125d33",
//!     "startDate": "2024-01-01T00:00:00.000Z", "endDate": "2024-06-30T00:00:00.000Z"
//! }"#).unwrap();
//! assert_eq!(m.calculated_status, Some(MembershipCalculatedStatus::Active));
//! assert_eq!(m.end_date.unwrap().to_string(), "2024-06-30");
//! assert!(m.member.is_none()); // company membership: every company member gets access
//! ```

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::de;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        ///
        /// A 24-hex Mongo ObjectId on the real service, kept as an opaque,
        /// non-empty string.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            /// The id as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_string())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if s.trim().is_empty() {
                    return Err(serde::de::Error::custom(concat!("empty ", stringify!($name))));
                }
                Ok(Self(s))
            }
        }
    )*};
}

id_type! {
    /// A member (person) id.
    ///
    /// Every id converts from `&str` and `String`, and into `String`:
    ///
    /// ```
    /// use officernd_client::models::MemberId;
    ///
    /// let id = MemberId::from("603dfbc260f4054084125d30");
    /// assert_eq!(String::from(id.clone()), "603dfbc260f4054084125d30");
    /// let raw: String = id.clone().into();
    /// assert_eq!(MemberId::from(raw), id);
    /// ```
    MemberId,
    /// A company ("team") id.
    CompanyId,
    /// A membership id.
    MembershipId,
    /// A plan id.
    PlanId,
    /// A location id.
    LocationId,
    /// A floor id.
    FloorId,
    /// A resource type id.
    ResourceTypeId,
    /// A resource (desk, office, meeting room) id.
    ResourceId,
    /// An assignment id.
    AssignmentId,
    /// A booking id.
    BookingId,
    /// A day-pass set id.
    PassId,
    /// A check-in id.
    CheckinId,
    /// A visitor id.
    VisitorId,
}

macro_rules! open_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $wire:literal),* $(,)? }) => {
        $(#[$doc])*
        ///
        /// Values this crate does not know are kept in `Other`.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this crate does not know (kept verbatim).
            Other(String),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => $name::$variant,)*
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok($name::from(s.as_str()))
            }
        }
    };
}

open_enum! {
    /// A member's status.
    MemberStatus {
        /// `active`
        Active => "active",
        /// `former`
        Former => "former",
        /// `pending`
        Pending => "pending",
        /// `contact`
        Contact => "contact",
        /// `not_approved`
        NotApproved => "not_approved",
        /// `drop-in`
        DropIn => "drop-in",
        /// `lead`
        Lead => "lead",
    }
}

open_enum! {
    /// A company's status.
    CompanyStatus {
        /// `active`
        Active => "active",
        /// `former`
        Former => "former",
        /// `pending`
        Pending => "pending",
        /// `inactive`
        Inactive => "inactive",
        /// `not_approved`
        NotApproved => "not_approved",
        /// `drop-in`
        DropIn => "drop-in",
        /// `lead`
        Lead => "lead",
    }
}

open_enum! {
    /// A membership's approval state (`status`).
    MembershipStatus {
        /// `approved`
        Approved => "approved",
        /// `not_approved`
        NotApproved => "not_approved",
    }
}

open_enum! {
    /// The platform's computed state of a membership (`calculatedStatus`):
    /// what access decisions should use.
    MembershipCalculatedStatus {
        /// `not_started`
        NotStarted => "not_started",
        /// `active`
        Active => "active",
        /// `expired`
        Expired => "expired",
        /// `not_approved`
        NotApproved => "not_approved",
    }
}

open_enum! {
    /// A membership's contract type.
    MembershipType {
        /// `month_to_month` (rolling)
        MonthToMonth => "month_to_month",
        /// `fixed` (has an end date)
        Fixed => "fixed",
    }
}

open_enum! {
    /// A day-pass set's status.
    PassStatus {
        /// `valid`
        Valid => "valid",
        /// `used`
        Used => "used",
        /// `expired`
        Expired => "expired",
        /// `pending`
        Pending => "pending",
    }
}

open_enum! {
    /// A resource type key (`type` of resources and resource types). The
    /// system types are listed; organizations may define their own.
    ResourceKind {
        /// `meeting_room` (bookable)
        MeetingRoom => "meeting_room",
        /// `team_room`: a private office (assignable)
        TeamRoom => "team_room",
        /// `desk`: a dedicated desk (assignable)
        Desk => "desk",
        /// `desk_tr`: a desk inside a private office (assignable)
        DeskTr => "desk_tr",
        /// `hotdesk` (bookable)
        Hotdesk => "hotdesk",
        /// `desk_na`: not available
        DeskNa => "desk_na",
    }
}

impl ResourceKind {
    /// What the system type allows when no [`ResourceType`] record says
    /// otherwise: `(assignable, bookable)`. Custom types: `(false, false)`.
    pub fn default_capabilities(&self) -> Capabilities {
        let (assignable, bookable) = match self {
            ResourceKind::MeetingRoom | ResourceKind::Hotdesk => (false, true),
            ResourceKind::TeamRoom | ResourceKind::Desk | ResourceKind::DeskTr => (true, false),
            _ => (false, false),
        };
        Capabilities {
            assignable,
            bookable,
        }
    }
}

/// Whether a resource can be assigned to memberships (long-term: offices,
/// desks) and/or booked on a calendar (meeting rooms, hot desks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Assignable to memberships (`canAssign`).
    pub assignable: bool,
    /// Bookable (`canBook`).
    pub bookable: bool,
}

/// Custom properties (`properties`): an open map.
pub type Properties = BTreeMap<String, serde_json::Value>;

/// A member (a person).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Member {
    /// Id.
    #[serde(rename = "_id")]
    pub id: MemberId,
    /// Full name (v2 has no separate first/last name).
    #[serde(default)]
    pub name: Option<String>,
    /// Email (missing on some real members).
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// The member's company, if any.
    #[serde(default)]
    pub company: Option<CompanyId>,
    /// Home location.
    #[serde(default)]
    pub location: Option<LocationId>,
    /// Status.
    #[serde(default)]
    pub status: Option<MemberStatus>,
    /// Start date (a local date).
    #[serde(default, deserialize_with = "de::opt_date_only")]
    pub start_date: Option<NaiveDate>,
    /// Billing person of the company.
    #[serde(default, deserialize_with = "de::flag")]
    pub is_billing_person: bool,
    /// Contact person of the company.
    #[serde(default, deserialize_with = "de::flag")]
    pub is_contact_person: bool,
    /// Tags.
    #[serde(default, deserialize_with = "de::null_default")]
    pub tags: Vec<String>,
    /// Custom properties.
    #[serde(default, deserialize_with = "de::null_default")]
    pub properties: Properties,
    /// Created at.
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last modified at (for incremental sync).
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub modified_at: Option<DateTime<Utc>>,
}

/// A company ("team" in v1).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Company {
    /// Id.
    #[serde(rename = "_id")]
    pub id: CompanyId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Home location.
    #[serde(default)]
    pub location: Option<LocationId>,
    /// Status.
    #[serde(default)]
    pub status: Option<CompanyStatus>,
    /// Start date (a local date).
    #[serde(default, deserialize_with = "de::opt_date_only")]
    pub start_date: Option<NaiveDate>,
    /// Tags.
    #[serde(default, deserialize_with = "de::null_default")]
    pub tags: Vec<String>,
    /// Custom properties.
    #[serde(default, deserialize_with = "de::null_default")]
    pub properties: Properties,
    /// Created at.
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last modified at.
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub modified_at: Option<DateTime<Utc>>,
}

/// A membership: a plan sold to a company (optionally for one member) or to
/// an individual.
///
/// `start_date` and the inclusive `end_date` are local dates of
/// `location`. With no `member`, the membership covers every member of
/// `company`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Membership {
    /// Id.
    #[serde(rename = "_id")]
    pub id: MembershipId,
    /// Name (usually the plan's).
    #[serde(default)]
    pub name: Option<String>,
    /// Billed to the member personally (no company).
    #[serde(default, deserialize_with = "de::flag")]
    pub is_personal: bool,
    /// Approval state.
    #[serde(default)]
    pub status: Option<MembershipStatus>,
    /// Computed state (use this for access).
    #[serde(default)]
    pub calculated_status: Option<MembershipCalculatedStatus>,
    /// Contract type.
    #[serde(default, rename = "type")]
    pub membership_type: Option<MembershipType>,
    /// Location.
    #[serde(default)]
    pub location: Option<LocationId>,
    /// Plan.
    #[serde(default)]
    pub plan: Option<PlanId>,
    /// Company.
    #[serde(default)]
    pub company: Option<CompanyId>,
    /// The member it is assigned to, if any.
    #[serde(default)]
    pub member: Option<MemberId>,
    /// First day (local date, required).
    #[serde(deserialize_with = "de::date_only")]
    pub start_date: NaiveDate,
    /// Last day, inclusive (local date); `None` = open-ended.
    #[serde(default, deserialize_with = "de::opt_date_only")]
    pub end_date: Option<NaiveDate>,
    /// Billing interval (`once`, `hour`, `day`, `month`).
    #[serde(default)]
    pub interval_length: Option<String>,
    /// Billing interval count.
    #[serde(default, deserialize_with = "de::opt_number")]
    pub interval_count: Option<f64>,
    /// Locked (invoiced).
    #[serde(default, deserialize_with = "de::flag")]
    pub is_locked: bool,
    /// Price.
    #[serde(default, deserialize_with = "de::opt_number")]
    pub price: Option<f64>,
    /// Where it was created (`admin`, `portal`, `public`, …).
    #[serde(default)]
    pub source: Option<String>,
    /// Custom properties.
    #[serde(default, deserialize_with = "de::null_default")]
    pub properties: Properties,
    /// Created at.
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last modified at.
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub modified_at: Option<DateTime<Utc>>,
}

impl Membership {
    /// Whether `date` (a local date of the location) lies within
    /// `start_date..=end_date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.start_date <= date && self.end_date.is_none_or(|end| date <= end)
    }
}

/// A plan (what a membership sells).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Plan {
    /// Id.
    #[serde(rename = "_id")]
    pub id: PlanId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Code.
    #[serde(default)]
    pub code: Option<String>,
    /// Type (`office`, `desk`, `hotdesk`, `service` or custom).
    #[serde(default, rename = "type")]
    pub plan_type: Option<String>,
    /// Locations it is sold at (empty: not restricted, as far as known).
    #[serde(default, deserialize_with = "de::null_default")]
    pub locations: Vec<LocationId>,
    /// Billing interval (`month`, `once`).
    #[serde(default)]
    pub interval_length: Option<String>,
    /// Price.
    #[serde(default, deserialize_with = "de::opt_number")]
    pub price: Option<f64>,
    /// Whether its passes make members count as active.
    #[serde(default, deserialize_with = "de::flag")]
    pub should_passes_grant_active_status: bool,
    /// Custom properties.
    #[serde(default, deserialize_with = "de::null_default")]
    pub properties: Properties,
}

/// A location (building), with its IANA time zone.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Location {
    /// Id.
    #[serde(rename = "_id")]
    pub id: LocationId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// IANA zone (`timezone`, e.g. `Europe/Lisbon`): the zone every local
    /// date of this location is read in. An unknown zone name fails the
    /// record (it is reported as skipped in a listing).
    #[serde(default, deserialize_with = "de::opt_tz")]
    pub timezone: Option<Tz>,
    /// Open.
    #[serde(default, deserialize_with = "de::flag")]
    pub is_open: bool,
    /// Public.
    #[serde(default, deserialize_with = "de::flag")]
    pub is_public: bool,
    /// Code.
    #[serde(default)]
    pub code: Option<String>,
    /// Custom properties.
    #[serde(default, deserialize_with = "de::null_default")]
    pub properties: Properties,
}

/// A floor of a location.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Floor {
    /// Id.
    #[serde(rename = "_id")]
    pub id: FloorId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Floor label (a string on v2, e.g. `"1"`).
    #[serde(default, deserialize_with = "de::opt_string_or_number")]
    pub floor: Option<String>,
    /// Location.
    #[serde(default)]
    pub location: Option<LocationId>,
    /// Area in square millimetres.
    #[serde(default, deserialize_with = "de::opt_number")]
    pub area: Option<f64>,
    /// Open.
    #[serde(default, deserialize_with = "de::flag")]
    pub is_open: bool,
    /// Last modified at.
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub modified_at: Option<DateTime<Utc>>,
}

/// A resource type: whether resources of this `type` are assignable and/or
/// bookable.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceType {
    /// Id.
    #[serde(rename = "_id")]
    pub id: ResourceTypeId,
    /// Display title.
    #[serde(default)]
    pub title: Option<String>,
    /// The key resources refer to in their `type`.
    #[serde(rename = "type")]
    pub kind: ResourceKind,
    /// `time` or `date`.
    #[serde(default)]
    pub booking_mode: Option<String>,
    /// Check-in mode (`day`, `hour`, `half_day`, …).
    #[serde(default)]
    pub checkin_mode: Option<String>,
    /// Bookable on a calendar (absent = false).
    #[serde(default, deserialize_with = "de::flag")]
    pub can_book: bool,
    /// Assignable to memberships (absent = false).
    #[serde(default, deserialize_with = "de::flag")]
    pub can_assign: bool,
    /// Primary type.
    #[serde(default, deserialize_with = "de::flag")]
    pub is_primary: bool,
    /// Parent/child resources (meeting-room zones).
    #[serde(default, deserialize_with = "de::flag")]
    pub is_hierarchical: bool,
}

impl ResourceType {
    /// `canAssign` / `canBook` as [`Capabilities`].
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            assignable: self.can_assign,
            bookable: self.can_book,
        }
    }
}

/// A resource: an office, desk, meeting room, …
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Resource {
    /// Id.
    #[serde(rename = "_id")]
    pub id: ResourceId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Type key (see [`ResourceType`]).
    #[serde(rename = "type")]
    pub kind: ResourceKind,
    /// Location.
    #[serde(default)]
    pub location: Option<LocationId>,
    /// Floor (may be null).
    #[serde(default)]
    pub floor: Option<FloorId>,
    /// Parent resources.
    #[serde(default, deserialize_with = "de::null_default")]
    pub parents: Vec<ResourceId>,
    /// Booking privacy (`full`, `active_members`, `limited`).
    #[serde(default)]
    pub privacy: Option<String>,
    /// Custom properties.
    #[serde(default, deserialize_with = "de::null_default")]
    pub properties: Properties,
}

impl Resource {
    /// Assignable/bookable, from the organization's resource types (matched
    /// on `type`), falling back to the system type's defaults.
    ///
    /// ```
    /// use officernd_client::models::{Resource, ResourceType};
    ///
    /// let types: Vec<ResourceType> = serde_json::from_str(r#"[
    ///   {"_id":"5e37ebbc5bc88201b7aa5145","type":"hotdesk","canBook":false}
    /// ]"#).unwrap();
    /// let desk: Resource = serde_json::from_str(
    ///     r#"{"_id":"603dfbc260f4054084125d39","type":"hotdesk"}"#).unwrap();
    /// // this organization turned booking off for hot desks
    /// assert!(!desk.capabilities(&types).bookable);
    /// ```
    pub fn capabilities(&self, types: &[ResourceType]) -> Capabilities {
        types.iter().find(|t| t.kind == self.kind).map_or_else(
            || self.kind.default_capabilities(),
            ResourceType::capabilities,
        )
    }
}

/// An assignment of a membership to an assignable resource (desk, office).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Assignment {
    /// Id.
    #[serde(rename = "_id")]
    pub id: AssignmentId,
    /// The resource.
    pub resource: ResourceId,
    /// The membership.
    pub membership: MembershipId,
    /// First day (local date), if set.
    #[serde(default, deserialize_with = "de::opt_date_only")]
    pub start_date: Option<NaiveDate>,
    /// Last day, inclusive (local date); `None` = open-ended.
    #[serde(default, deserialize_with = "de::opt_date_only")]
    pub end_date: Option<NaiveDate>,
}

/// A booking's recurrence: an RRULE and excluded occurrences.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Recurrence {
    /// The RRULE, e.g. `FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=10`.
    #[serde(default)]
    pub rrule: Option<String>,
    /// Start instants of cancelled occurrences.
    #[serde(default, deserialize_with = "exdates")]
    pub exdates: Vec<DateTime<Utc>>,
}

fn exdates<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DateTime<Utc>>, D::Error> {
    let raw: Vec<String> = de::null_default(d)?;
    raw.iter()
        .map(|s| {
            DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| serde::de::Error::custom(format!("invalid exdate `{s}`: {e}")))
        })
        .collect()
}

/// Setup/cleanup buffers around a booking, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, Default)]
#[serde(default)]
#[non_exhaustive]
pub struct ServiceSlots {
    /// Minutes before the start.
    #[serde(deserialize_with = "de::opt_number")]
    pub before: Option<f64>,
    /// Minutes after the end.
    #[serde(deserialize_with = "de::opt_number")]
    pub after: Option<f64>,
}

/// A booking of a bookable resource. For a recurring booking, `start`/`end`
/// are the first occurrence and `recurrence` the rule: expand it with
/// [`crate::recurrence::expand`] or [`crate::Client::booking_occurrences`].
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Booking {
    /// Id.
    #[serde(rename = "_id")]
    pub id: BookingId,
    /// IANA zone of the resource/location; recurrences are expanded in it.
    #[serde(default, deserialize_with = "de::opt_tz")]
    pub timezone: Option<Tz>,
    /// Start instant.
    #[serde(deserialize_with = "de::instant")]
    pub start: DateTime<Utc>,
    /// End instant.
    #[serde(deserialize_with = "de::instant")]
    pub end: DateTime<Utc>,
    /// Recurrence, for a recurring series.
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
    /// Start of the whole series.
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub series_start: Option<DateTime<Utc>>,
    /// End of the last occurrence of the series.
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub series_end: Option<DateTime<Utc>>,
    /// Location.
    #[serde(default)]
    pub location: Option<LocationId>,
    /// The booker's company.
    #[serde(default)]
    pub company: Option<CompanyId>,
    /// The booker.
    #[serde(default)]
    pub member: Option<MemberId>,
    /// The booked resource.
    pub resource: ResourceId,
    /// Teammates invited.
    #[serde(default, deserialize_with = "de::null_default")]
    pub members: Vec<MemberId>,
    /// External visitors invited.
    #[serde(default, deserialize_with = "de::null_default")]
    pub visitors: Vec<VisitorId>,
    /// Cancelled (absent = false).
    #[serde(default, deserialize_with = "de::flag")]
    pub is_cancelled: bool,
    /// Tentative (absent = false).
    #[serde(default, deserialize_with = "de::flag")]
    pub is_tentative: bool,
    /// Free (absent = false).
    #[serde(default, deserialize_with = "de::flag")]
    pub is_free: bool,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Short reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// Setup/cleanup buffers.
    #[serde(default)]
    pub service_slots: Option<ServiceSlots>,
    /// Where it was made (`portal`, `admin`, …).
    #[serde(default)]
    pub source: Option<String>,
    /// Last modified at.
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub modified_at: Option<DateTime<Utc>>,
}

impl Booking {
    /// Whether this booking has a recurrence rule.
    pub fn is_recurring(&self) -> bool {
        self.recurrence
            .as_ref()
            .and_then(|r| r.rrule.as_deref())
            .is_some_and(|r| !r.trim().is_empty())
    }
}

/// One occurrence of a booking: the booking itself, or one expansion of a
/// recurring booking.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BookingOccurrence {
    /// The booking (series) id.
    pub booking: BookingId,
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant.
    pub end: DateTime<Utc>,
    /// The local wall-clock start in `timezone` (for display and audit).
    pub local_start: Option<chrono::NaiveDateTime>,
    /// The zone it was expanded in.
    pub timezone: Option<Tz>,
    /// The booked resource.
    pub resource: ResourceId,
    /// Location.
    pub location: Option<LocationId>,
    /// The booker.
    pub member: Option<MemberId>,
    /// The booker's company.
    pub company: Option<CompanyId>,
    /// Teammates.
    pub members: Vec<MemberId>,
    /// Visitors.
    pub visitors: Vec<VisitorId>,
    /// Cancelled.
    pub is_cancelled: bool,
    /// Tentative.
    pub is_tentative: bool,
    /// Title.
    pub title: Option<String>,
}

impl BookingOccurrence {
    pub(crate) fn of(
        b: &Booking,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        local: Option<chrono::NaiveDateTime>,
    ) -> Self {
        Self {
            booking: b.id.clone(),
            start,
            end,
            local_start: local,
            timezone: b.timezone,
            resource: b.resource.clone(),
            location: b.location.clone(),
            member: b.member.clone(),
            company: b.company.clone(),
            members: b.members.clone(),
            visitors: b.visitors.clone(),
            is_cancelled: b.is_cancelled,
            is_tentative: b.is_tentative,
            title: b.title.clone(),
        }
    }
}

/// A visitor (invited to bookings).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Visitor {
    /// Id.
    #[serde(rename = "_id")]
    pub id: VisitorId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// The member who invited them.
    #[serde(default)]
    pub member: Option<MemberId>,
    /// The company.
    #[serde(default)]
    pub company: Option<CompanyId>,
    /// `preregistration` or `reception`.
    #[serde(default, rename = "type")]
    pub visitor_type: Option<String>,
}

/// Who a day-pass set belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PassOwner {
    /// A personal set, for one member.
    Member(MemberId),
    /// A set shared by every member of the company.
    Company(CompanyId),
    /// Neither member nor company is set.
    Unknown,
}

/// A set of day passes.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Pass {
    /// Id.
    #[serde(rename = "_id")]
    pub id: PassId,
    /// Passes granted.
    #[serde(default, deserialize_with = "de::opt_number")]
    pub count: Option<f64>,
    /// Passes used (fractional with half-day check-ins).
    #[serde(default, deserialize_with = "de::opt_number")]
    pub used_count: Option<f64>,
    /// `once` or `month`.
    #[serde(default)]
    pub interval_length: Option<String>,
    /// First valid day (local date).
    #[serde(default, deserialize_with = "de::opt_date_only")]
    pub valid_from: Option<NaiveDate>,
    /// Last valid day, inclusive (local date); `None` = no expiry.
    #[serde(default, deserialize_with = "de::opt_date_only")]
    pub valid_to: Option<NaiveDate>,
    /// Monthly sets: period start.
    #[serde(default, deserialize_with = "de::opt_date_only")]
    pub start_date: Option<NaiveDate>,
    /// Monthly sets: period end.
    #[serde(default, deserialize_with = "de::opt_date_only")]
    pub end_date: Option<NaiveDate>,
    /// Company.
    #[serde(default)]
    pub company: Option<CompanyId>,
    /// Member.
    #[serde(default)]
    pub member: Option<MemberId>,
    /// Personal (true) or shared by the company (false/absent).
    #[serde(default, deserialize_with = "de::flag")]
    pub is_personal: bool,
    /// Location, when the service sends one.
    #[serde(default)]
    pub location: Option<LocationId>,
    /// The membership that granted it.
    #[serde(default)]
    pub membership: Option<MembershipId>,
    /// Resource type it is for (e.g. `hotdesk`).
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: Option<PassStatus>,
    /// Last modified at.
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub modified_at: Option<DateTime<Utc>>,
}

impl Pass {
    /// Personal sets belong to their member; others are shared by the
    /// company ("absent `isPersonal`" counts as shared).
    pub fn owner(&self) -> PassOwner {
        match (&self.member, &self.company) {
            (Some(m), _) if self.is_personal => PassOwner::Member(m.clone()),
            (_, Some(c)) => PassOwner::Company(c.clone()),
            (Some(m), None) => PassOwner::Member(m.clone()),
            (None, None) => PassOwner::Unknown,
        }
    }

    /// Passes left (`count - usedCount`, not below zero).
    pub fn remaining(&self) -> f64 {
        (self.count.unwrap_or(0.0) - self.used_count.unwrap_or(0.0)).max(0.0)
    }
}

/// A check-in (read only).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Checkin {
    /// Id.
    #[serde(rename = "_id")]
    pub id: CheckinId,
    /// Check-in instant.
    #[serde(deserialize_with = "de::instant")]
    pub start: DateTime<Utc>,
    /// Check-out instant (absent while checked in).
    #[serde(default, deserialize_with = "de::opt_instant")]
    pub end: Option<DateTime<Utc>>,
    /// Location.
    #[serde(default)]
    pub location: Option<LocationId>,
    /// Company.
    #[serde(default)]
    pub company: Option<CompanyId>,
    /// Member.
    #[serde(default)]
    pub member: Option<MemberId>,
    /// Booking it belongs to.
    #[serde(default)]
    pub booking: Option<BookingId>,
    /// Pass it consumed.
    #[serde(default)]
    pub pass: Option<PassId>,
    /// Resource type.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Source.
    #[serde(default)]
    pub source: Option<String>,
}
