//! Benchmark support: deterministic portfolio generators shared by the
//! benches in `benches/` (and a Brivo `apply` simulator to build the
//! converged observed state).

pub mod month;
pub mod simulate;

use std::collections::BTreeMap;

use access_engine::{
    Action, Assignment, Booking, BrivoUserId, Customer, CustomerType, DayPassSet, Facts, GroupId,
    Lease, LeaseStatus, Location, Mappings, Member, Membership, MembershipStatus, Observed,
    ObservedGroup, ObservedUser, PassHolder, Plan, Policy, Profile, Property, UserRef, Visitor,
};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

/// Zones the generated properties and locations cycle through.
pub const ZONES: &[&str] = &[
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Sydney",
    "America/Santiago",
];

/// A generated portfolio with both observed states worth benchmarking.
pub struct Portfolio {
    /// The facts.
    pub facts: Facts,
    /// The mappings.
    pub mappings: Mappings,
    /// The policy (revocation threshold off, so nothing is held).
    pub policy: Policy,
    /// An empty Brivo (only the groups exist): every occupant is created.
    pub empty: Observed,
    /// Brivo already matching the desired state: the plan is empty.
    pub converged: Observed,
    /// The planning instant.
    pub now: DateTime<Utc>,
    /// Lease occupants (customers) in the facts.
    pub occupants: usize,
}

/// The instant every generated portfolio is planned at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0)
        .single()
        .expect("valid instant")
}

fn base_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date")
}

/// Leases with `occupants` customers in total across `occupants / 2000`
/// properties (at least one), 1–3 customers per lease, about 85 % Current,
/// the rest Future, Notice and Past; every property and building mapped.
pub fn lease_facts(occupants: usize) -> (Facts, Mappings) {
    let n_props = (occupants / 2000).max(1);
    let mut facts = Facts::default();
    facts.properties = (0..n_props)
        .map(|p| Property::new(format!("{}", 1000 + p), ZONES[p % ZONES.len()]))
        .collect();
    let mut mappings = Mappings::default();
    for p in 0..n_props {
        mappings
            .properties
            .insert(format!("{}", 1000 + p), vec![GroupId(10_000 + p as i64)]);
        mappings
            .buildings
            .insert(format!("B{p}"), vec![GroupId(500_000 + p as i64)]);
    }
    let mut leases = Vec::with_capacity(occupants / 2 + 1);
    let mut made = 0usize;
    let mut i = 0usize;
    let start = base_date();
    while made < occupants {
        let n = (1 + i % 3).min(occupants - made);
        let p = i % n_props;
        let (status, move_in, move_out) = match i % 20 {
            0 => (
                LeaseStatus::Future,
                start + Duration::days(900 + (i % 60) as i64),
                None,
            ),
            1 => (
                LeaseStatus::Notice,
                start + Duration::days((i % 700) as i64),
                Some(start + Duration::days(897 + (i % 90) as i64)),
            ),
            2 => (
                LeaseStatus::Past,
                start + Duration::days((i % 300) as i64),
                Some(start + Duration::days(400 + (i % 300) as i64)),
            ),
            _ => (
                LeaseStatus::Current,
                start + Duration::days((i % 880) as i64),
                None,
            ),
        };
        let customers = (0..n).map(|k| {
            let customer_type = match k {
                0 => CustomerType::Primary,
                1 => CustomerType::CoApplicant,
                _ => CustomerType::Occupant,
            };
            let mut profile = Profile::new(format!("First{}", made + k), format!("Last{}", i))
                .with_email(format!("r{}@example.com", made + k));
            profile.phone = (k == 0).then(|| format!("+1555{:07}", made % 10_000_000));
            Customer::new(format!("{}", 7_000_000 + made + k), customer_type, profile)
        });
        let lease = Lease::new(format!("{}", 100_000 + i), format!("{}", 1000 + p), status)
            .with_building(format!("B{p}"))
            .with_move_in(move_in)
            .with_move_out(move_out);
        leases.push(customers.fold(lease, Lease::with_customer));
        made += n;
        i += 1;
    }
    facts.leases = leases;
    (facts, mappings)
}

/// Adds a coworking mix to `facts`: `members` members in companies of 10,
/// one membership per member (every tenth a team membership with no
/// member), desk assignments, two bookings per ten members, day passes.
pub fn add_coworking(facts: &mut Facts, mappings: &mut Mappings, members: usize) {
    let n_locs = (members / 500).max(1);
    for l in 0..n_locs {
        let id = format!("loc{l}");
        facts
            .locations
            .push(Location::new(id.clone(), ZONES[l % ZONES.len()]));
        mappings
            .locations
            .insert(id.clone(), vec![GroupId(900_000 + l as i64)]);
        mappings
            .day_pass_locations
            .insert(id, vec![GroupId(910_000 + l as i64)]);
        mappings
            .floors
            .insert(format!("floor{l}"), vec![GroupId(920_000 + l as i64)]);
    }
    for plan in 0..5 {
        mappings
            .plans
            .insert(format!("plan{plan}"), vec![GroupId(930_000 + plan)]);
    }
    for r in 0..50 {
        mappings
            .resources
            .insert(format!("room{r}"), vec![GroupId(940_000 + r)]);
    }
    let now = now();
    for m in 0..members {
        let loc = m % n_locs;
        facts.members.push(
            Member::new(
                format!("mem{m}"),
                Profile::new(format!("Mem{m}"), "Ber").with_email(format!("m{m}@example.com")),
            )
            .with_company(format!("co{}", m / 10)),
        );
        let team = m % 10 == 0;
        let mut membership = Membership::new(
            format!("ms{m}"),
            format!("plan{}", m % 5),
            format!("loc{loc}"),
            MembershipStatus::Active,
        )
        .with_company(format!("co{}", m / 10))
        .with_start(base_date() + Duration::days((m % 800) as i64))
        .with_end((m % 7 == 0).then(|| base_date() + Duration::days(880 + (m % 30) as i64)));
        if !team {
            membership = membership.with_member(format!("mem{m}"));
        }
        facts.memberships.push(membership);
        if m % 3 == 0 {
            facts.assignments.push(
                Assignment::new(
                    format!("as{m}"),
                    format!("ms{m}"),
                    format!("desk{m}"),
                    format!("loc{loc}"),
                )
                .with_floor(format!("floor{loc}")),
            );
        }
        if m % 5 == 0 {
            for k in 0..2i64 {
                let start = now + Duration::hours((m % 48) as i64 - 24 + k * 3);
                facts.bookings.push(
                    Booking::new(
                        format!("bk{m}-{k}"),
                        format!("room{}", m % 50),
                        format!("loc{loc}"),
                        start,
                        start + Duration::hours(1),
                    )
                    .with_booker(format!("mem{m}"))
                    .with_member(format!("mem{}", (m + 1) % members))
                    .with_visitor(Visitor::new(format!("vis{m}"), format!("Visitor {m}")))
                    .with_cancelled(k == 1 && m % 15 == 0),
                );
            }
        }
        if m % 11 == 0 {
            let from = now.date_naive() - Duration::days((m % 5) as i64);
            let holder = if m % 2 == 0 {
                PassHolder::Member(format!("mem{m}"))
            } else {
                PassHolder::Company(format!("co{}", m / 10))
            };
            facts.day_passes.push(
                DayPassSet::new(
                    format!("dp{m}"),
                    holder,
                    format!("loc{loc}"),
                    from,
                    from + Duration::days(6),
                    5,
                )
                .with_used((m % 7) as u32),
            );
        }
    }
}

/// The policy used by the benches: defaults, threshold off.
pub fn policy() -> Policy {
    let mut policy = Policy::default();
    policy.revocation_threshold.max_count = None;
    policy.revocation_threshold.max_share = None;
    policy.visitors_admitted = true;
    policy
}

fn empty_observed(mappings: &Mappings) -> Observed {
    Observed::new(
        Vec::new(),
        mappings
            .managed_groups()
            .into_iter()
            .map(|id| ObservedGroup::new(id, format!("group {}", id.0)))
            .collect(),
    )
}

/// Applies a plan to an observed state as Brivo would.
pub fn apply(plan: &Plan, observed: &Observed) -> Observed {
    let mut users = observed.users.clone();
    let mut pos: BTreeMap<BrivoUserId, usize> =
        users.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
    let mut created: BTreeMap<&str, BrivoUserId> = BTreeMap::new();
    let mut next = users.iter().map(|u| u.id.0).max().unwrap_or(0) + 1;
    let mut deleted = Vec::new();
    for a in &plan.actions {
        match a {
            Action::CreateUser {
                external_id,
                profile,
                ..
            } => {
                let id = BrivoUserId(next);
                next += 1;
                created.insert(external_id, id);
                pos.insert(id, users.len());
                let mut u = ObservedUser::new(id)
                    .with_external_id(external_id.clone())
                    .with_name(profile.first_name.clone(), profile.last_name.clone());
                u.emails = profile.email.iter().cloned().collect();
                u.phones = profile.phone.iter().cloned().collect();
                users.push(u);
            }
            Action::UpdateProfile { user, profile, .. }
            | Action::AdoptUser { user, profile, .. } => {
                let u = &mut users[pos[user]];
                u.first_name = profile.first_name.clone();
                u.last_name = profile.last_name.clone();
                u.emails = profile.email.iter().cloned().collect();
                u.phones = profile.phone.iter().cloned().collect();
                if let Action::AdoptUser { external_id, .. } = a {
                    u.external_id = Some(external_id.clone());
                }
            }
            Action::SetExternalId {
                user, external_id, ..
            } => users[pos[user]].external_id = Some(external_id.clone()),
            Action::SetCredentialWindow { user, window, .. } => {
                let id = match user {
                    UserRef::Existing(id) => *id,
                    UserRef::New(ext) => created[ext.as_str()],
                };
                users[pos[&id]].credential_window = Some(*window)
            }
            Action::AssignCard { user, .. } => {
                let id = match user {
                    UserRef::Existing(id) => *id,
                    UserRef::New(ext) => created[ext.as_str()],
                };
                users[pos[&id]].card_assigned = true
            }
            Action::Unsuspend { user, .. } => users[pos[user]].suspended = false,
            Action::Suspend { user, .. } => users[pos[user]].suspended = true,
            Action::ChangeGroups { user, add, remove } => {
                let id = match user {
                    UserRef::Existing(id) => *id,
                    UserRef::New(ext) => created[ext.as_str()],
                };
                let u = &mut users[pos[&id]];
                u.groups.extend(add.iter().map(|c| c.group));
                u.groups.retain(|g| !remove.iter().any(|c| c.group == *g));
            }
            Action::Delete { user, .. } => deleted.push(*user),
            _ => {}
        }
    }
    users.retain(|u| !deleted.contains(&u.id));
    Observed::new(users, observed.groups.clone())
}

fn portfolio(facts: Facts, mappings: Mappings) -> Portfolio {
    let policy = policy();
    let now = now();
    let empty = empty_observed(&mappings);
    let first = access_engine::plan(&facts, &mappings, &policy, &empty, now);
    let converged = apply(&first, &empty);
    let occupants = facts.leases.iter().map(|l| l.customers.len()).sum();
    Portfolio {
        facts,
        mappings,
        policy,
        empty,
        converged,
        now,
        occupants,
    }
}

/// A lease-only portfolio of `occupants` occupants.
pub fn leases(occupants: usize) -> Portfolio {
    let (facts, mappings) = lease_facts(occupants);
    portfolio(facts, mappings)
}

/// A coworking mix: `occupants` lease occupants plus `members` coworking members.
pub fn mixed(occupants: usize, members: usize) -> Portfolio {
    let (mut facts, mut mappings) = lease_facts(occupants);
    add_coworking(&mut facts, &mut mappings, members);
    portfolio(facts, mappings)
}
