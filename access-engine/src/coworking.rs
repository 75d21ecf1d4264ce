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

use crate::facts::Profile;

/// An OfficeRnD location with its IANA zone name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Location id.
    pub id: String,
    /// IANA zone name, e.g. `Europe/London`.
    pub zone: String,
}

/// An OfficeRnD member (a person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Member id.
    pub id: String,
    /// The member's company (team), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// Name and contact.
    pub profile: Profile,
}

/// A membership's `calculatedStatus`. Only `NotApproved` (and unknown values)
/// grant nothing; the others are derived from the dates, which decide.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A desk or office assignment of a membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A visitor on a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    /// Visitor id.
    pub id: String,
    /// Full name ("First Last").
    pub name: String,
    /// Email, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One occurrence of a booking of a bookable resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Who may use a day-pass set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PassHolder {
    /// One member.
    Member(String),
    /// Every member of a company (a shared set).
    Company(String),
}

/// A set of day passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
