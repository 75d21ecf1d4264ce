//! Typed list filters, one per endpoint.
//!
//! OfficeRnD v2 list endpoints reject unknown query parameters with
//! `400 "property X should not exist"`, so each endpoint has its own query
//! type offering only the filters that endpoint documents. They render as
//! `field=value`, `field[$in]=a,b` and `field[$gte]=<ISO instant>`; the
//! client adds `$limit` and `$cursorNext`.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use officernd_client::query::MembersQuery;
//! use officernd_client::models::{CompanyId, MemberStatus};
//!
//! let q = MembersQuery::new()
//!     .company(CompanyId::new("603dfbc260f4054084125d33"))
//!     .status_in([MemberStatus::Active, MemberStatus::Pending])
//!     .modified_since(Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap());
//! assert_eq!(q.to_pairs(), vec![
//!     ("company".to_string(), "603dfbc260f4054084125d33".to_string()),
//!     ("status[$in]".to_string(), "active,pending".to_string()),
//!     ("modifiedAt[$gte]".to_string(), "2026-06-01T00:00:00.000Z".to_string()),
//! ]);
//! ```

use chrono::{DateTime, SecondsFormat, Utc};

use crate::models::{
    CompanyId, LocationId, MemberId, MemberStatus, MembershipId, PlanId, ResourceId, ResourceKind,
};

/// A comparison on an instant field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cmp {
    /// `$gt`
    Gt,
    /// `$gte`
    Gte,
    /// `$lt`
    Lt,
    /// `$lte`
    Lte,
}

impl Cmp {
    fn op(self) -> &'static str {
        match self {
            Cmp::Gt => "$gt",
            Cmp::Gte => "$gte",
            Cmp::Lt => "$lt",
            Cmp::Lte => "$lte",
        }
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Pairs(Vec<(String, String)>);

impl Pairs {
    fn set(&mut self, key: &str, value: String) {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_string(), value));
    }
    fn cmp(&mut self, field: &str, cmp: Cmp, t: DateTime<Utc>) {
        self.set(&format!("{field}[{}]", cmp.op()), iso(t));
    }
}

macro_rules! query_type {
    ($(#[$doc:meta])* $name:ident { $($body:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            pairs: Pairs,
        }

        impl $name {
            /// No filter: everything.
            pub fn new() -> Self {
                Self::default()
            }

            /// The query parameters this renders to (without `$limit` and
            /// `$cursorNext`).
            pub fn to_pairs(&self) -> Vec<(String, String)> {
                self.pairs.0.clone()
            }

            $($body)*
        }
    };
}

macro_rules! eq_filter {
    ($(#[$doc:meta])* $fn:ident, $field:literal, $ty:ty) => {
        $(#[$doc])*
        pub fn $fn(mut self, value: $ty) -> Self {
            self.pairs.set($field, value.to_string());
            self
        }
    };
}

macro_rules! instant_filter {
    ($(#[$doc:meta])* $fn:ident, $since:ident, $field:literal) => {
        $(#[$doc])*
        pub fn $fn(mut self, cmp: Cmp, at: DateTime<Utc>) -> Self {
            self.pairs.cmp($field, cmp, at);
            self
        }

        #[doc = concat!("`", $field, "[$gte]=at`: records changed since `at` (incremental sync).")]
        pub fn $since(self, at: DateTime<Utc>) -> Self {
            self.$fn(Cmp::Gte, at)
        }
    };
}

query_type! {
    /// Filters for `GET /members`.
    MembersQuery {
        eq_filter!(/// Exact email.
            email, "email", &str);
        eq_filter!(/// Exact name.
            name, "name", &str);
        eq_filter!(/// Company.
            company, "company", CompanyId);
        eq_filter!(/// Home location.
            location, "location", LocationId);
        /// Any of these statuses (`status[$in]`).
        pub fn status_in(mut self, statuses: impl IntoIterator<Item = MemberStatus>) -> Self {
            let list: Vec<String> = statuses.into_iter().map(|s| s.as_str().to_string()).collect();
            self.pairs.set("status[$in]", list.join(","));
            self
        }
        instant_filter!(/// Compare `modifiedAt`.
            modified_at, modified_since, "modifiedAt");
        instant_filter!(/// Compare `createdAt`.
            created_at, created_since, "createdAt");
    }
}

query_type! {
    /// Filters for `GET /companies`.
    CompaniesQuery {
        eq_filter!(/// Exact name.
            name, "name", &str);
        eq_filter!(/// Location.
            location, "location", LocationId);
        instant_filter!(/// Compare `modifiedAt`.
            modified_at, modified_since, "modifiedAt");
    }
}

query_type! {
    /// Filters for `GET /memberships`.
    ///
    /// `modifiedAt` filters were seen rejected with 400 on memberships by
    /// one organization and used by others: on
    /// [`Error::is_rejected_parameter`](crate::Error::is_rejected_parameter),
    /// fall back to a full listing.
    MembershipsQuery {
        eq_filter!(/// Member.
            member, "member", MemberId);
        eq_filter!(/// Company.
            company, "company", CompanyId);
        eq_filter!(/// Location.
            location, "location", LocationId);
        eq_filter!(/// Plan.
            plan, "plan", PlanId);
        instant_filter!(/// Compare `modifiedAt` (see the type docs).
            modified_at, modified_since, "modifiedAt");
    }
}

query_type! {
    /// Filters for `GET /locations`.
    LocationsQuery {
        eq_filter!(/// Exact name.
            name, "name", &str);
        eq_filter!(/// Open or not.
            is_open, "isOpen", bool);
    }
}

query_type! {
    /// Filters for `GET /floors`.
    FloorsQuery {
        eq_filter!(/// Location.
            location, "location", LocationId);
        instant_filter!(/// Compare `modifiedAt`.
            modified_at, modified_since, "modifiedAt");
    }
}

query_type! {
    /// Filters for `GET /resources`.
    ResourcesQuery {
        eq_filter!(/// Resource type key (e.g. `meeting_room`).
            kind, "type", ResourceKind);
        eq_filter!(/// Location.
            location, "location", LocationId);
    }
}

query_type! {
    /// Filters for `GET /assignments`. OfficeRnD may require one of the two
    /// (there is reportedly no bulk list): fan out per resource or per
    /// membership.
    AssignmentsQuery {
        eq_filter!(/// Resource.
            resource, "resource", ResourceId);
        eq_filter!(/// Membership.
            membership, "membership", MembershipId);
    }
}

query_type! {
    /// Filters for `GET /bookings`. Bookings are filtered by series bounds
    /// (`seriesStart`/`seriesEnd`); the API rejects `start`/`end` filters.
    BookingsQuery {
        eq_filter!(/// Resource.
            resource, "resource", ResourceId);
        eq_filter!(/// Location.
            location, "location", LocationId);
        eq_filter!(/// Booker.
            member, "member", MemberId);
        eq_filter!(/// Booker's company.
            company, "company", CompanyId);
        instant_filter!(/// Compare `seriesStart`.
            series_start, series_start_since, "seriesStart");
        instant_filter!(/// Compare `seriesEnd`.
            series_end, series_end_since, "seriesEnd");
        instant_filter!(/// Compare `modifiedAt`.
            modified_at, modified_since, "modifiedAt");
    }
}

query_type! {
    /// Filters for `GET /passes`.
    PassesQuery {
        eq_filter!(/// Member.
            member, "member", MemberId);
        eq_filter!(/// Company.
            company, "company", CompanyId);
    }
}

query_type! {
    /// Filters for `GET /checkins`.
    CheckinsQuery {
        eq_filter!(/// Member.
            member, "member", MemberId);
        eq_filter!(/// Company.
            company, "company", CompanyId);
        eq_filter!(/// Location.
            location, "location", LocationId);
        instant_filter!(/// Compare `start`.
            start, start_since, "start");
        instant_filter!(/// Compare `end`.
            end, end_since, "end");
    }
}

query_type! {
    /// Filters for `GET /visitors`: none. OfficeRnD documents no filter for this
    /// list (`visitorscontroller_getitems` lists only its scope), and its list
    /// endpoints answer `400 "property … should not exist"` to any parameter they
    /// do not know, so offering `member` or `company` here would only produce
    /// failed calls. Page through all visitors and filter locally.
    VisitorsQuery {}
}

query_type! {
    /// An endpoint without filters.
    EmptyQuery {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn setting_a_filter_twice_keeps_the_last_value() {
        let q = BookingsQuery::new()
            .resource(ResourceId::new("a"))
            .resource(ResourceId::new("b"))
            .series_start(Cmp::Lt, Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap());
        assert_eq!(
            q.to_pairs(),
            vec![
                ("resource".into(), "b".into()),
                ("seriesStart[$lt]".into(), "2026-01-02T03:04:05.000Z".into())
            ]
        );
    }
}
