//! Pure access planner: leases, memberships, bookings and day passes in, an
//! exact, time-zone-correct Brivo grant/revoke plan out.
//!
//! `access-engine` has no I/O, no async, no clock and no randomness: every
//! input is an argument, `now` included, and the same input gives the same
//! [`Plan`], byte for byte, whatever the order of the input vectors, repeated
//! records included (a member or membership id, a property or location given
//! twice: see [`Warning`]). (The
//! only concurrency is internal: for large inputs [`plan()`] works on a
//! second, scoped thread when one can be spawned — Brivo's side while the
//! desired state is built, then half of the identities; the plan is the same
//! either way.)
//!
//! ```text
//! Facts + Mappings + Policy + Observed (Brivo) + now ──plan()──> Plan
//! ```
//!
//! * [`Facts`]: Entrata leases and customers, OfficeRnD memberships,
//!   assignments, booking occurrences and day passes, directory users, and
//!   which parts of the batch are incomplete ([`Completeness`]).
//! * [`Mappings`]: which Brivo groups each property, building, unit, plan,
//!   location, floor, resource or directory grants. Their union is the set of
//!   managed groups.
//! * [`Policy`]: times of day, buffers, admitted customer types, ownership
//!   prefix, exclusivity, suspend/delete policy, revocation threshold.
//! * [`Observed`]: Brivo's users (with their managed-group memberships) and
//!   the managed groups that exist.
//!
//! The [`Plan`] lists ordered [`Action`]s (create, adopt, update profile,
//! unsuspend, one atomic group change per user, suspend, delete), each with
//! [`Reason`]s; [`Held`] items withheld by a safety rule; `next_change`, the
//! instant the runner should wake; and [`Warning`]s. [`access_at`] answers
//! "who holds what at instant t, and why" from the same computation.
//!
//! # The rules in brief
//!
//! * Leases: a lease that is Applicant, Cancelled or Denied grants nothing;
//!   each admitted resident (default Primary, Co-Applicant, Occupant) is
//!   admitted by their own status (Future, Current, Notice; Past only for
//!   what its dates still cover), from the later of the lease's and their
//!   own move-in at 10:00 local less the early buffer to the earlier of the
//!   lease's and their own move-out at 16:00 local plus grace; no move-out
//!   is perpetual. A transfer or renewal is two leases; windows may overlap.
//! * Memberships grant the plan's groups over their inclusive local dates,
//!   to the member or, with none, the whole company; assignments add the
//!   resource's, floor's and location's groups; bookings grant the resource's
//!   groups from start − lead to end + lag; day passes grant the location's
//!   day-pass groups on their valid local days while `used < count`.
//! * Directory users: Active → groups; Suspended → suspended; Disabled → all
//!   managed memberships revoked; Deleted → deleted if owned.
//! * Ownership: only users with an external id in the policy's namespace are
//!   ever updated, suspended or deleted; others are only removed from managed
//!   groups (or left alone with [`Exclusivity::OwnedOnly`]). Unmanaged groups
//!   are never named.
//! * Safety: revocations that depend on an incomplete scope are held; so
//!   are those of a mapped scope that is absent, names no one where the
//!   last run's facts named people, or shrank beyond the policy's share
//!   (see [`Baseline`]); a bad record holds only the groups it could have
//!   fed; beyond the revocation threshold all revocations are held; each
//!   held item names its rule and, if approvable, its one-run approval id;
//!   a user who would exceed Brivo's 16 groups has its additions held.
//! * Time: see [`time`] for the daylight-saving rule.
//!
//! # Example
//!
//! ```
//! use access_engine::*;
//! use chrono::{NaiveDate, TimeZone, Utc};
//!
//! let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
//! let mut facts = Facts::default();
//! facts.properties.push(Property::new("100", "America/New_York"));
//! facts.leases.push(
//!     Lease::new("1345", "100", LeaseStatus::Current)
//!         .with_unit("4B")
//!         .with_move_in(date(2026, 3, 8))
//!         .with_customer(Customer::new("77", CustomerType::Primary,
//!             Profile::new("Ada", "Lovelace").with_email("ada@example.com")))
//!         .with_customer(Customer::new("78", CustomerType::Guarantor,
//!             Profile::new("Charles", "Babbage"))),
//! );
//! facts.leases.push(
//!     Lease::new("1200", "100", LeaseStatus::Past)
//!         .with_move_in(date(2025, 1, 1))
//!         .with_move_out(date(2026, 2, 28))
//!         .with_customer(Customer::new("50", CustomerType::Primary, Profile::new("Alan", "Turing"))),
//! );
//! let mut mappings = Mappings::default();
//! mappings.properties.insert("100".into(), vec![GroupId(10)]);
//! mappings.units.insert("4B".into(), vec![GroupId(11)]);
//! let observed = Observed::new(
//!     vec![ObservedUser::new(BrivoUserId(900))
//!         .with_external_id("sync:entrata:50")
//!         .with_name("Alan", "Turing")
//!         .with_groups([GroupId(10)])],
//!     vec![
//!         ObservedGroup::new(GroupId(10), "Main door"),
//!         ObservedGroup::new(GroupId(11), "Unit 4B"),
//!     ],
//! );
//! let now = Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0).unwrap();
//! let plan = plan(&facts, &mappings, &Policy::default(), &observed, now);
//! println!("{plan}");
//!
//! // Ada is created and given both groups; Babbage (a guarantor) gets nothing;
//! // Turing moved out and leaves the door group.
//! assert!(matches!(&plan.actions[0], Action::CreateUser { external_id, .. }
//!     if external_id == "sync:entrata:77"));
//! let text = plan.to_string();
//! assert!(text.contains("lease 1345 Current, from 2026-03-08 10:00 America/New_York, perpetual"));
//! assert!(text.contains("ended: lease 1200 Past, from 2025-01-01 10:00 America/New_York, until 2026-02-28 16:00 America/New_York"));
//!
//! // Serializable and deterministic: a saved dry run can be checked for staleness.
//! let json = serde_json::to_string(&plan).unwrap();
//! let again: Plan = serde_json::from_str(&json).unwrap();
//! assert_eq!(again, plan);
//! assert!(plan.check_observed(&observed).is_ok());
//! ```
#![warn(missing_docs)]

pub mod access;
pub mod coworking;
mod desired;
pub mod directory;
pub mod facts;
mod hash;
mod identity;
pub mod leases;
pub mod mapping;
pub mod observed;
#[doc(hidden)]
pub mod oracle;
pub mod plan;
pub mod policy;
pub mod reason;
pub mod time;
pub mod warning;

pub use access::{Access, Exclusion, GroupAccess, IdentityAccess, access_at, exclusions};
pub use coworking::{
    Assignment, Booking, DayPassSet, Location, Member, Membership, MembershipStatus, PassHolder,
    Visitor,
};
pub use directory::{DirectoryState, DirectoryUser};
pub use facts::{Baseline, Completeness, Facts, Profile, Scope, Source, ZoneSource};
pub use leases::{Customer, CustomerType, Lease, LeaseStatus, Property};
pub use mapping::{GroupId, Mappings};
pub use observed::{BrivoUserId, CredentialWindow, Observed, ObservedGroup, ObservedUser};
pub use plan::{
    Action, GroupChange, Held, HeldItem, HoldRule, ORDER_HASH_VERSION, Plan, PlanMeta, PlanRefused,
    ProfileField, ScopeReport, StalePlan, UserRef, check_approval_id, config_digest, plan,
};
pub use policy::{
    Exclusivity, InvalidPolicy, MAX_POLICY_MINUTES, MAX_PREFIX_LEN, NoAccessPolicy, Policy,
    RevocationThreshold, SamePerson,
};
pub use reason::{FactKind, FactRef, Reason, Rule, Window};
pub use time::{Edge, resolve};
pub use warning::Warning;

/// The README's example is compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
