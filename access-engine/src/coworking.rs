//! OfficeRnD Flex facts: locations, members, memberships, assignments,
//! booking occurrences and day-pass sets.
//!
//! Rules (see the crate docs): an approved membership grants its plan's
//! groups from its start date to the end of its inclusive end date, to its
//! member or, with no member, to every member of its company; an assignment
//! grants the resource's, floor's and location's groups within the
//! membership window; a booking that is not cancelled grants the resource's
//! groups to its booker, members and (if the policy admits them) visitors
//! from start less lead to end plus lag; a day-pass set grants the location's
//! day-pass groups on its valid local days while `used < count`.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::facts::{Profile, ZoneSource};

/// An OfficeRnD location with its IANA zone name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// Location id.
    pub id: String,
    /// IANA zone name, e.g. `Europe/London`.
    pub zone: String,
    /// Where the zone came from (reported in the plan).
    #[serde(default, skip_serializing_if = "ZoneSource::is_given")]
    pub zone_source: ZoneSource,
}

impl Location {
    /// A location in `zone` (an IANA name).
    pub fn new(id: impl Into<String>, zone: impl Into<String>) -> Self {
        Location {
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

/// An OfficeRnD member (a person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Member {
    /// Member id.
    pub id: String,
    /// The member's company (team), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// Name and contact.
    pub profile: Profile,
}

impl Member {
    /// A member with no company.
    pub fn new(id: impl Into<String>, profile: Profile) -> Self {
        Member {
            id: id.into(),
            company_id: None,
            profile,
        }
    }

    /// Sets the member's company.
    #[must_use]
    pub fn with_company(mut self, company_id: impl Into<String>) -> Self {
        self.company_id = Some(company_id.into());
        self
    }
}

/// A membership's `calculatedStatus`. Only `NotApproved` (and unknown values)
/// grant nothing; the others are derived from the dates, which decide.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MembershipStatus {
    /// `active`.
    Active,
    /// `not_started`.
    NotStarted,
    /// `expired`.
    Expired,
    /// `not_approved`: grants nothing.
    NotApproved,
    /// Anything else: grants nothing and is reported.
    Other(String),
}

impl fmt::Display for MembershipStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MembershipStatus::Active => "active",
            MembershipStatus::NotStarted => "not_started",
            MembershipStatus::Expired => "expired",
            MembershipStatus::NotApproved => "not_approved",
            MembershipStatus::Other(s) => s,
        })
    }
}

/// An OfficeRnD membership.
///
/// ```
/// use access_engine::{Membership, MembershipStatus};
/// use chrono::NaiveDate;
/// let m = Membership::new("ms1", "plan1", "loc1", MembershipStatus::Active)
///     .with_member("m1")
///     .with_start(NaiveDate::from_ymd_opt(2026, 1, 1));
/// assert_eq!(m.member_id.as_deref(), Some("m1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Membership {
    /// Membership id.
    pub id: String,
    /// Plan id (see [`crate::Mappings::plans`]).
    pub plan_id: String,
    /// The company, used when there is no member (team membership).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// The member, if the membership is personal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// The location whose zone the dates are in.
    pub location_id: String,
    /// `calculatedStatus`.
    pub status: MembershipStatus,
    /// First day (local, inclusive). Required.
    #[serde(default)]
    pub start: Option<NaiveDate>,
    /// Last day (local, inclusive); `None` is perpetual.
    #[serde(default)]
    pub end: Option<NaiveDate>,
}

impl Membership {
    /// A membership with no member, company or dates yet.
    pub fn new(
        id: impl Into<String>,
        plan_id: impl Into<String>,
        location_id: impl Into<String>,
        status: MembershipStatus,
    ) -> Self {
        Membership {
            id: id.into(),
            plan_id: plan_id.into(),
            company_id: None,
            member_id: None,
            location_id: location_id.into(),
            status,
            start: None,
            end: None,
        }
    }

    /// Sets the member (a personal membership).
    #[must_use]
    pub fn with_member(mut self, member_id: impl Into<String>) -> Self {
        self.member_id = Some(member_id.into());
        self
    }

    /// Sets the company (a team membership when there is no member).
    #[must_use]
    pub fn with_company(mut self, company_id: impl Into<String>) -> Self {
        self.company_id = Some(company_id.into());
        self
    }

    /// Sets the first day.
    #[must_use]
    pub fn with_start(mut self, date: impl Into<Option<NaiveDate>>) -> Self {
        self.start = date.into();
        self
    }

    /// Sets the last day.
    #[must_use]
    pub fn with_end(mut self, date: impl Into<Option<NaiveDate>>) -> Self {
        self.end = date.into();
        self
    }
}

/// A desk or office assignment of a membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Assignment {
    /// Assignment id.
    pub id: String,
    /// The membership it belongs to.
    pub membership_id: String,
    /// The desk or office.
    pub resource_id: String,
    /// The resource's floor, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_id: Option<String>,
    /// The resource's location.
    pub location_id: String,
}

impl Assignment {
    /// An assignment of `resource_id` (at `location_id`) to a membership.
    pub fn new(
        id: impl Into<String>,
        membership_id: impl Into<String>,
        resource_id: impl Into<String>,
        location_id: impl Into<String>,
    ) -> Self {
        Assignment {
            id: id.into(),
            membership_id: membership_id.into(),
            resource_id: resource_id.into(),
            floor_id: None,
            location_id: location_id.into(),
        }
    }

    /// Sets the resource's floor.
    #[must_use]
    pub fn with_floor(mut self, floor_id: impl Into<String>) -> Self {
        self.floor_id = Some(floor_id.into());
        self
    }
}

/// A visitor on a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Visitor {
    /// Visitor id.
    pub id: String,
    /// Full name ("First Last").
    pub name: String,
    /// Email, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Visitor {
    /// A visitor with a full name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Visitor {
            id: id.into(),
            name: name.into(),
            email: None,
        }
    }

    /// Sets the email.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }
}

/// One occurrence of a booking of a bookable resource.
///
/// ```
/// use access_engine::Booking;
/// use chrono::{TimeZone, Utc};
/// let b = Booking::new("b1", "room", "loc1",
///         Utc.with_ymd_and_hms(2026, 12, 2, 22, 0, 0).unwrap(),
///         Utc.with_ymd_and_hms(2026, 12, 2, 23, 0, 0).unwrap())
///     .with_booker("m1");
/// assert!(!b.cancelled);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Booking {
    /// Occurrence id (unique per occurrence).
    pub id: String,
    /// The bookable resource.
    pub resource_id: String,
    /// The resource's location (its zone is used to show the window).
    pub location_id: String,
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant.
    pub end: DateTime<Utc>,
    /// The member who booked, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booker_id: Option<String>,
    /// Members attending.
    #[serde(default)]
    pub member_ids: Vec<String>,
    /// Visitors attending.
    #[serde(default)]
    pub visitors: Vec<Visitor>,
    /// Cancelled occurrences grant nothing.
    #[serde(default)]
    pub cancelled: bool,
}

impl Booking {
    /// An occurrence from `start` to `end` with nobody on it yet.
    pub fn new(
        id: impl Into<String>,
        resource_id: impl Into<String>,
        location_id: impl Into<String>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Self {
        Booking {
            id: id.into(),
            resource_id: resource_id.into(),
            location_id: location_id.into(),
            start,
            end,
            booker_id: None,
            member_ids: Vec::new(),
            visitors: Vec::new(),
            cancelled: false,
        }
    }

    /// Sets the member who booked.
    #[must_use]
    pub fn with_booker(mut self, member_id: impl Into<String>) -> Self {
        self.booker_id = Some(member_id.into());
        self
    }

    /// Adds an attending member.
    #[must_use]
    pub fn with_member(mut self, member_id: impl Into<String>) -> Self {
        self.member_ids.push(member_id.into());
        self
    }

    /// Adds a visitor.
    #[must_use]
    pub fn with_visitor(mut self, visitor: Visitor) -> Self {
        self.visitors.push(visitor);
        self
    }

    /// Marks the occurrence cancelled (or not).
    #[must_use]
    pub fn with_cancelled(mut self, cancelled: bool) -> Self {
        self.cancelled = cancelled;
        self
    }
}

/// Who may use a day-pass set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PassHolder {
    /// One member.
    Member(String),
    /// Every member of a company (a shared set).
    Company(String),
}

/// A set of day passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DayPassSet {
    /// Set id.
    pub id: String,
    /// The holder.
    pub holder: PassHolder,
    /// The location (day-pass groups come from [`crate::Mappings::day_pass_locations`]).
    pub location_id: String,
    /// First valid local day (inclusive).
    pub valid_from: NaiveDate,
    /// Last valid local day (inclusive).
    pub valid_to: NaiveDate,
    /// Passes in the set.
    pub count: u32,
    /// Passes used; grants only while `used < count`.
    pub used: u32,
}

impl DayPassSet {
    /// A set of `count` unused passes valid on the local days `valid_from..=valid_to`.
    pub fn new(
        id: impl Into<String>,
        holder: PassHolder,
        location_id: impl Into<String>,
        valid_from: NaiveDate,
        valid_to: NaiveDate,
        count: u32,
    ) -> Self {
        DayPassSet {
            id: id.into(),
            holder,
            location_id: location_id.into(),
            valid_from,
            valid_to,
            count,
            used: 0,
        }
    }

    /// Sets how many passes were used.
    #[must_use]
    pub fn with_used(mut self, used: u32) -> Self {
        self.used = used;
        self
    }
}
