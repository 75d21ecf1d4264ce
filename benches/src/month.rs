//! A reference portfolio for a month simulator: a sandbox [`Seed`] in the
//! three services' wire shapes, the [`Mappings`] that tie it to Brivo
//! groups, and a month of upstream [`Edit`]s (leases signed, notices given,
//! move-ins and move-outs processed, bookings made and cancelled,
//! memberships started and ended), each saying which Brivo access it should
//! change.
//!
//! Everything is deterministic from the `seed` argument of [`generate`]
//! (a splitmix64 stream, no `rand` dependency), so two runs of a simulator
//! see the same portfolio and the same edits in the same order.
//!
//! Assumptions the expectations rest on (the engine's defaults,
//! `access_engine::Policy::default()`): a resident's access opens at 10:00
//! local on the move-in date and closes at 16:00 local on the move-out
//! date; guarantors are not admitted; a booking grants its room's groups
//! from 15 minutes before its start to 15 minutes after its end; a
//! membership grants from the start of its first local day to the end of
//! its last. The ownership prefix is `sync`, so residents are keyed
//! `sync:entrata:{customerId}` and members `sync:officernd:{memberId}`.
//!
//! [`Seed`]: sandbox::Seed

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use access_engine::{GroupId, Mappings};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

/// The engine's default ownership prefix, which the expectations assume.
pub const PREFIX: &str = "sync";

/// How many Brivo groups the mappings name (fewer when the portfolio has
/// too few properties, locations and resources to map that many).
pub const MANAGED_GROUPS: usize = 40;

/// Brivo groups no mapping names (staff, vendors, …): the integration never
/// reads or writes them.
pub const UNMANAGED_GROUPS: &[&str] = &["Staff", "Vendors", "Emergency Services"];

/// The US zones properties cycle through, with a state and city that place
/// the zone from the address alone (Entrata's zone fallback).
const ZONES: &[(Tz, &str, &str, &str)] = &[
    (chrono_tz::America::New_York, "NY", "New York", "10001"),
    (chrono_tz::America::Chicago, "IL", "Chicago", "60601"),
    (chrono_tz::America::Denver, "CO", "Denver", "80202"),
    (chrono_tz::America::Phoenix, "AZ", "Phoenix", "85004"),
    (
        chrono_tz::America::Los_Angeles,
        "CA",
        "Los Angeles",
        "90028",
    ),
];

/// OfficeRnD locations: name, zone, state, city.
const LOCATIONS: &[(&str, Tz, &str, &str)] = &[
    (
        "Mile High Works",
        chrono_tz::America::Denver,
        "CO",
        "Denver",
    ),
    (
        "Hudson Yards Works",
        chrono_tz::America::New_York,
        "NY",
        "New York",
    ),
];

const FIRST: &[&str] = &[
    "Alice", "Bob", "Carmen", "Deepak", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kira",
    "Luis", "Mei", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara",
];
const LAST: &[&str] = &[
    "Nguyen",
    "Okafor",
    "Brooks",
    "Whitfield",
    "Garcia",
    "Kim",
    "Patel",
    "Schmidt",
    "Rossi",
    "Haddad",
    "Silva",
    "Cohen",
    "Larsen",
    "Moreau",
    "Tanaka",
    "Walsh",
    "Novak",
    "Diaz",
];

/// How big a portfolio to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioSize {
    /// Entrata properties.
    pub properties: usize,
    /// Entrata residents (customers on leases, guarantors included).
    pub residents: usize,
    /// OfficeRnD members.
    pub members: usize,
    /// OfficeRnD memberships (company and personal).
    pub memberships: usize,
    /// OfficeRnD resources (meeting rooms, offices, desks).
    pub resources: usize,
    /// Brivo users once the initial sync has created the integration's
    /// users (the rest are unowned staff and hand-made users).
    pub brivo_users: usize,
    /// Seeded move-ins (Future leases) plus move-outs (Notice leases)
    /// falling within the month.
    pub moves_per_month: usize,
    /// Meeting-room bookings a day.
    pub bookings_per_day: usize,
}

impl PortfolioSize {
    /// The reference portfolio: 20 properties, 10,000 residents, 5,000
    /// OfficeRnD members with 2,000 memberships and 350 resources, 12,000
    /// Brivo users, about 300 moves a month and 100 bookings a day.
    pub fn reference() -> Self {
        Self {
            properties: 20,
            residents: 10_000,
            members: 5_000,
            memberships: 2_000,
            resources: 350,
            brivo_users: 12_000,
            moves_per_month: 300,
            bookings_per_day: 100,
        }
    }

    /// A small portfolio for debug-build tests.
    pub fn small() -> Self {
        Self {
            properties: 2,
            residents: 60,
            members: 40,
            memberships: 20,
            resources: 6,
            brivo_users: 150,
            moves_per_month: 10,
            bookings_per_day: 4,
        }
    }
}

/// Which upstream service an edit is made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Entrata (leases).
    Entrata,
    /// OfficeRnD (memberships, bookings).
    OfficeRnd,
}

/// The data change of an [`Edit`], applied through the sandbox handles.
#[derive(Debug, Clone, PartialEq)]
pub enum EditChange {
    /// `sandbox.entrata().upsert_lease(lease)`: a getLeases r2 `lease` object.
    UpsertLease(Value),
    /// `sandbox.entrata().remove_lease(id)`.
    RemoveLease(String),
    /// `sandbox.officernd().upsert(collection, record)`.
    Upsert {
        /// The collection's URL segment (`"bookings"`, `"memberships"`, …).
        collection: &'static str,
        /// The whole record, v2 wire shape.
        record: Value,
    },
    /// `sandbox.officernd().remove(collection, id)`.
    Remove {
        /// The collection's URL segment.
        collection: &'static str,
        /// The record's `_id`.
        id: String,
    },
}

/// One change made upstream during the month.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// When it is made (a business-hour instant, local to its property or
    /// location), within `[start, start + days)`.
    pub at: DateTime<Utc>,
    /// Where it is made.
    pub service: Service,
    /// One line for reports, e.g. `lease 200017 (property 1003): notice given, move-out 11/20/2026`.
    pub what: String,
    /// The data change.
    pub change: EditChange,
    /// The Brivo access it should change: (integration external id, group,
    /// whether the user should be in the group), from
    /// [`effective`](Self::effective) on. Empty when the effect is not
    /// known in advance. A `false` for a person the integration never
    /// created holds trivially. A booking's `true` holds only until 15
    /// minutes after the booking ends.
    pub expect: Vec<(String, i64, bool)>,
    /// From when `expect` should hold: [`at`](Self::at), or the later
    /// instant the rule names (move-in at 10:00 local, move-out at 16:00
    /// local, a booking's start less 15 minutes, a membership's first day
    /// or the day after its last, in the place's zone).
    pub effective: DateTime<Utc>,
}

impl Edit {
    /// Makes the change in the sandbox (not through its HTTP API: upstream
    /// changes are not what the integration's calls are measured on).
    pub fn apply(&self, sandbox: &sandbox::Sandbox) {
        match &self.change {
            EditChange::UpsertLease(lease) => sandbox.entrata().upsert_lease(lease.clone()),
            EditChange::RemoveLease(id) => {
                sandbox.entrata().remove_lease(id);
            }
            EditChange::Upsert { collection, record } => {
                let ok = sandbox.officernd().upsert(collection, record.clone());
                debug_assert!(ok, "{collection} record without _id");
            }
            EditChange::Remove { collection, id } => {
                sandbox.officernd().remove(collection, id);
            }
        }
    }
}

/// The seed in its JSON form (what [`Portfolio::seed`] was parsed from),
/// for inspection and reports: the sandbox's `*.json` fixture layouts.
#[derive(Debug, Clone, PartialEq)]
pub struct WireSeed {
    /// `{"properties": […], "leases": […]}`.
    pub entrata: Value,
    /// One array per OfficeRnD collection.
    pub officernd: Value,
    /// `{"groups", "users", "groupMembers", …}`.
    pub brivo: Value,
}

/// A generated portfolio and its month of edits.
#[derive(Debug, Clone)]
pub struct Portfolio {
    /// The sandbox's initial data. Brivo holds the groups and unowned
    /// staff users only: the integration's users are made by the
    /// simulator's initial full sync on day 0.
    pub seed: sandbox::Seed,
    /// Properties, locations, plans, floors and rooms to groups; every
    /// mapped group is managed.
    pub mappings: Mappings,
    /// Day 0.
    pub start: DateTime<Utc>,
    /// The month's upstream changes, by time.
    pub edits: Vec<Edit>,
    /// Each Entrata property's zone (configure `EntrataSource::zone` with it).
    pub zones: Vec<(u64, Tz)>,
    /// The seed as JSON.
    pub wire: WireSeed,
    /// How many users the integration should own after its initial sync
    /// at `start`: admitted residents within their window and members
    /// holding a membership then. Staff users make up the rest of
    /// [`PortfolioSize::brivo_users`].
    pub integration_users_at_start: usize,
}

impl Portfolio {
    /// A few lines for reports: what the seed holds and the month's edits
    /// by kind.
    pub fn summary(&self) -> String {
        let n = |v: &Value, k: &str| v[k].as_array().map_or(0, Vec::len);
        let residents: usize = self.wire.entrata["leases"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| n(&l["customers"], "customer"))
            .sum();
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &self.edits {
            const KINDS: &[(&str, &str)] = &[
                ("new lease signed", "lease signed"),
                ("notice given", "notice given"),
                ("future lease cancelled", "future lease cancelled"),
                ("move-in processed", "move-in processed"),
                ("move-out processed", "move-out processed"),
                ("created:", "booking created"),
                ("cancelled (was", "booking cancelled"),
                ("starts Hot Desk", "membership started"),
                ("ends it", "membership ended"),
            ];
            let kind = KINDS
                .iter()
                .find(|(needle, _)| e.what.contains(needle))
                .map_or("other", |(_, k)| k);
            *kinds.entry(kind).or_default() += 1;
        }
        let mut out = format!(
            "{} properties, {} leases, {residents} residents; {} members, {} memberships, {} resources, {} bookings; \
             {} managed groups, {} Brivo groups, {} staff users, {} integration users expected after day 0\n{} edits:",
            n(&self.wire.entrata, "properties"),
            n(&self.wire.entrata, "leases"),
            n(&self.wire.officernd, "members"),
            n(&self.wire.officernd, "memberships"),
            n(&self.wire.officernd, "resources"),
            n(&self.wire.officernd, "bookings"),
            self.mappings.managed_groups().len(),
            n(&self.wire.brivo, "groups"),
            n(&self.wire.brivo, "users"),
            self.integration_users_at_start,
            self.edits.len(),
        );
        for (k, c) in kinds {
            let _ = write!(out, " {k} {c};");
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// randomness

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to
/// spread a portfolio.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    /// Uniform in `lo..hi` (`lo` when empty).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + (self.next() % (hi - lo) as u64) as i64
        }
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// Removes and returns a random element.
    fn take<T>(&mut self, items: &mut Vec<T>) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            let i = self.below(items.len());
            Some(items.swap_remove(i))
        }
    }
}

// ---------------------------------------------------------------------------------------
// time helpers

fn mdy(d: NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

/// OfficeRnD's instant form: `2026-12-02T22:00:00.000Z`.
fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

/// OfficeRnD's date-only form: `2026-11-01T00:00:00.000Z`.
fn day(d: NaiveDate) -> String {
    format!("{}T00:00:00.000Z", d.format("%Y-%m-%d"))
}

/// A local wall time in `tz` as an instant: the earlier of two (fall back)
/// or, with `later`, the later; a time in a gap moves past it.
fn local(tz: Tz, d: NaiveDate, h: u32, m: u32, later: bool) -> DateTime<Utc> {
    let mut t = d.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN));
    for _ in 0..4 {
        let r = tz.from_local_datetime(&t);
        let pick = if later { r.latest() } else { r.earliest() };
        if let Some(x) = pick {
            return x.with_timezone(&Utc);
        }
        t += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&t)
}

/// The month being generated: day 0 to `days`.
struct Month {
    start: DateTime<Utc>,
    days: u32,
}

impl Month {
    fn end(&self) -> DateTime<Utc> {
        self.start + Duration::days(i64::from(self.days))
    }
    fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end()
    }
    /// The local date of day `d` in `tz` (its midday).
    fn date(&self, tz: Tz, d: i64) -> NaiveDate {
        (self.start + Duration::days(d) + Duration::hours(12))
            .with_timezone(&tz)
            .date_naive()
    }
    /// The day index of a local date (inverse of [`date`](Self::date)).
    fn index(&self, tz: Tz, date: NaiveDate) -> i64 {
        (date - self.date(tz, 0)).num_days()
    }
    /// A random business-hour instant (08:00–18:00 local) on local date
    /// `date`, not before `not_before`, within the month; `None` if that
    /// date has no such instant.
    fn business_on(
        &self,
        rng: &mut Rng,
        tz: Tz,
        date: NaiveDate,
        not_before: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        for _ in 0..12 {
            let t = local(
                tz,
                date,
                rng.range(8, 18) as u32,
                rng.range(0, 60) as u32,
                false,
            );
            if self.contains(t) && t >= not_before {
                return Some(t);
            }
        }
        None
    }
    /// A random business-hour instant on day `d` (or, failing that, any
    /// instant of that day), within the month.
    fn business(&self, rng: &mut Rng, tz: Tz, d: i64) -> DateTime<Utc> {
        let d = d.clamp(0, i64::from(self.days.max(1)) - 1);
        self.business_on(rng, tz, self.date(tz, d), self.start)
            .unwrap_or_else(|| {
                self.start + Duration::days(d) + Duration::minutes(rng.range(0, 24 * 60))
            })
    }
}

// ---------------------------------------------------------------------------------------
// Entrata

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LeaseStatus {
    Cancelled,
    Future,
    Current,
    Notice,
    Past,
}

impl LeaseStatus {
    fn type_id(self) -> &'static str {
        match self {
            LeaseStatus::Cancelled => "2",
            LeaseStatus::Future => "3",
            LeaseStatus::Current => "4",
            LeaseStatus::Notice => "5",
            LeaseStatus::Past => "6",
        }
    }
    fn name(self) -> &'static str {
        match self {
            LeaseStatus::Cancelled => "Cancelled",
            LeaseStatus::Future => "Future",
            LeaseStatus::Current => "Current",
            LeaseStatus::Notice => "Notice",
            LeaseStatus::Past => "Past",
        }
    }
    /// A resident's own `leaseCustomerStatus` on a lease of this status (a
    /// resident on notice stays Current, as the recorded leases show).
    fn customer(self) -> &'static str {
        match self {
            LeaseStatus::Notice => "Current",
            s => s.name(),
        }
    }
}

#[derive(Debug, Clone)]
struct Cust {
    id: u64,
    kind: &'static str,
    relationship: &'static str,
    first: &'static str,
    last: &'static str,
}

impl Cust {
    fn admitted(&self) -> bool {
        self.kind != "Guarantor"
    }
    fn external_id(&self) -> String {
        format!("{PREFIX}:entrata:{}", self.id)
    }
}

#[derive(Debug, Clone)]
struct LeaseRec {
    id: u64,
    property: usize,
    unit: u64,
    status: LeaseStatus,
    move_in: NaiveDate,
    move_out: Option<NaiveDate>,
    customers: Vec<Cust>,
}

impl LeaseRec {
    fn json(&self, property_name: &str) -> Value {
        let customers: Vec<Value> = self
            .customers
            .iter()
            .map(|c| {
                let mut v = json!({
                    "id": c.id,
                    "customerType": c.kind,
                    "firstName": c.first,
                    "lastName": c.last,
                    "nameFull": format!("{}, {}", c.last, c.first),
                    "emailAddress": format!("{}.{}.{}@example.com", c.first.to_lowercase(), c.last.to_lowercase(), c.id),
                    "leaseCustomerStatus": self.status.customer(),
                    "relationshipName": c.relationship,
                    "moveInDate": mdy(self.move_in),
                    "paymentAllowanceType": "Allow All Payment Types",
                    "phones": {"phone": [{
                        "phoneTypeName": "Primary",
                        "phoneType": "mobile",
                        "phoneNumber": format!("555{:07}", c.id % 10_000_000),
                        "countryCode": 1
                    }]}
                });
                if let Some(out) = self.move_out {
                    v["moveOutDate"] = json!(mdy(out));
                }
                v
            })
            .collect();
        let end = self.move_out.unwrap_or(self.move_in + Duration::days(364));
        let interval = self.id + 700_000;
        let mut v = json!({
            "id": self.id.to_string(),
            "leaseStatusTypeId": self.status.type_id(),
            "propertyId": (1000 + self.property).to_string(),
            "moveInDate": mdy(self.move_in),
            "propertyName": property_name,
            "leaseIntervalStatus": self.status.name(),
            "occupancyTypeId": "1",
            "occupancyType": "Conventional",
            "isMonthToMonth": 0,
            "leaseIntervalId": interval.to_string(),
            "spaceConfiguration": "Conventional",
            "paymentAllowanceType": "Allow All Payment Types",
            "leaseType": "Standard",
            "customers": {"customer": customers},
            "unitId": self.unit.to_string(),
            "unitSpaces": {"unitSpace": [{"unitSpaceId": self.unit, "unitSpace": (self.unit % 10_000).to_string()}]},
            "leaseIntervals": {"leaseInterval": [{
                "id": interval,
                "startDate": mdy(self.move_in),
                "endDate": mdy(end),
                "leaseIntervalTypeId": 1,
                "leaseIntervalTypeName": "Application",
                "leaseIntervalStatusTypeId": self.status.type_id().parse::<u32>().unwrap_or(4),
                "leaseIntervalStatusTypeName": self.status.name(),
            }]},
        });
        if let Some(out) = self.move_out {
            v["moveOutDate"] = json!(mdy(out));
        }
        v
    }
}

fn property_name(p: usize) -> String {
    const NAMES: &[&str] = &[
        "Harbor View",
        "Prairie Commons",
        "Sunset Terrace",
        "Aspen Ridge",
        "Canyon Lofts",
    ];
    format!("{} {}", NAMES[p % NAMES.len()], p / NAMES.len() + 1)
}

fn property_json(p: usize) -> Value {
    let (_, state, city, zip) = ZONES[p % ZONES.len()];
    let street = format!("{} Main St", 100 + p);
    json!({
        "PropertyID": 1000 + p,
        "MarketingName": property_name(p),
        "Type": "Apartment",
        "YearBuilt": "2015",
        "Address": {
            "@attributes": {"AddressType": "property"},
            "Address": street,
            "City": city,
            "State": state,
            "PostalCode": zip,
            "Country": "US",
            "Email": "leasing@example.com"
        },
        "Addresses": {"Address": [{
            "AddressType": "Primary",
            "Address": street,
            "City": city,
            "StateCode": state,
            "PostalCode": zip,
            "Country": "US"
        }]},
        "IsDisabled": 0,
        "IsFeaturedProperty": 0
    })
}

/// Customers for a lease: 1–3, Primary first, then a co-applicant
/// (`Responsible` or `Co-Applicant`) or occupant, and sometimes a guarantor.
fn customers(rng: &mut Rng, n: usize, next_id: &mut u64) -> Vec<Cust> {
    (0..n)
        .map(|k| {
            let (kind, relationship) = match k {
                0 => ("Primary", "Primary"),
                1 => *rng.pick(&[
                    ("Responsible", "Spouse"),
                    ("Co-Applicant", "Roommate"),
                    ("Occupant", "Child"),
                ]),
                _ => *rng.pick(&[("Guarantor", "Guarantor"), ("Occupant", "Roommate")]),
            };
            *next_id += 1;
            Cust {
                id: *next_id,
                kind,
                relationship,
                first: rng.pick::<&str>(FIRST),
                last: rng.pick::<&str>(LAST),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// OfficeRnD

/// A 24-hex OfficeRnD id: `65`, a kind byte, a serial.
fn oid(kind: u8, n: usize) -> String {
    format!("65{kind:02x}{n:020x}")
}

const K_LOCATION: u8 = 0x01;
const K_FLOOR: u8 = 0x02;
const K_TYPE: u8 = 0x03;
const K_RESOURCE: u8 = 0x04;
const K_PLAN: u8 = 0x05;
const K_COMPANY: u8 = 0x06;
const K_MEMBER: u8 = 0x07;
const K_MEMBERSHIP: u8 = 0x08;
const K_ASSIGNMENT: u8 = 0x09;
const K_BOOKING: u8 = 0x0b;
const K_ADMIN: u8 = 0x0a;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RKind {
    Room,
    Office,
    Desk,
}

#[derive(Debug, Clone)]
struct Res {
    id: String,
    kind: RKind,
    location: usize,
    floor: String,
}

#[derive(Debug, Clone)]
struct Mem {
    id: String,
    name: String,
    company: Option<usize>,
    location: usize,
}

impl Mem {
    fn external_id(&self) -> String {
        format!("{PREFIX}:officernd:{}", self.id)
    }
}

/// A membership as generated: enough to render and to say what it grants.
#[derive(Debug, Clone)]
struct Ms {
    id: String,
    plan: usize,
    location: usize,
    member: Option<usize>,
    company: Option<usize>,
    start: NaiveDate,
    end: Option<NaiveDate>,
    status: &'static str,
    /// The assigned resource, if any.
    resource: Option<usize>,
}

/// Plans per location: Private Office, Dedicated Desk, Hot Desk.
const PLAN_KINDS: &[(&str, &str, &str, u32)] = &[
    ("Private Office", "PO", "team_room", 2400),
    ("Dedicated Desk", "DD", "desk", 450),
    ("Hot Desk", "HD", "hotdesk", 250),
];
const PO: usize = 0;
const DD: usize = 1;
const HD: usize = 2;

fn plan_index(location: usize, kind: usize) -> usize {
    location * PLAN_KINDS.len() + kind
}

fn membership_json(ms: &Ms, created: DateTime<Utc>) -> Value {
    let (name, _, _, price) = PLAN_KINDS[ms.plan % PLAN_KINDS.len()];
    let mut v = json!({
        "properties": {},
        "_id": ms.id,
        "name": name,
        "isPersonal": ms.member.is_some(),
        "status": "approved",
        "calculatedStatus": ms.status,
        "type": if ms.end.is_some() { "fixed" } else { "month_to_month" },
        "location": oid(K_LOCATION, ms.location),
        "plan": oid(K_PLAN, ms.plan),
        "startDate": day(ms.start),
        "intervalLength": "month",
        "intervalCount": 1,
        "isLocked": false,
        "price": price,
        "deposit": 0,
        "discountedPrice": price,
        "source": "admin",
        "createdAt": ts(created),
        "createdBy": oid(K_ADMIN, 1),
        "modifiedAt": ts(created),
        "modifiedBy": oid(K_ADMIN, 1),
    });
    if let Some(m) = ms.member {
        v["member"] = json!(oid(K_MEMBER, m + 1));
    }
    if let Some(c) = ms.company {
        v["company"] = json!(oid(K_COMPANY, c));
    }
    if let Some(e) = ms.end {
        v["endDate"] = json!(day(e));
    }
    v
}

/// A meeting-room booking as generated.
#[derive(Debug, Clone)]
struct Bk {
    id: String,
    room: usize,
    member: usize,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    cancelled: bool,
}

fn booking_json(b: &Bk, res: &[Res], members: &[Mem], created: DateTime<Utc>) -> Value {
    let r = &res[b.room];
    let m = &members[b.member];
    let mut v = json!({
        "properties": {},
        "_id": b.id,
        "timezone": LOCATIONS[r.location].1.name(),
        "start": ts(b.start),
        "end": ts(b.end),
        "seriesStart": ts(b.start),
        "seriesEnd": ts(b.end),
        "location": oid(K_LOCATION, r.location),
        "member": m.id,
        "resource": r.id,
        "fees": [],
        "reference": b.id[b.id.len() - 6..].to_uppercase(),
        "title": "Meeting",
        "visitors": [],
        "members": [],
        "serviceSlots": {"before": 0, "after": 0},
        "source": "portal",
        "createdAt": ts(created),
        "createdBy": oid(K_ADMIN, 1),
        "modifiedAt": ts(created),
        "modifiedBy": oid(K_ADMIN, 1),
    });
    if let Some(c) = m.company {
        v["company"] = json!(oid(K_COMPANY, c));
    }
    if b.cancelled {
        v["isCancelled"] = json!(true);
    }
    v
}

// ---------------------------------------------------------------------------------------
// the generator

/// The booking lead and lag of the default policy.
const BOOKING_SLACK: Duration = Duration::minutes(15);

/// Generates a portfolio of `size` and `days` days of edits from `start`,
/// deterministically from `seed`.
pub fn generate(size: &PortfolioSize, start: DateTime<Utc>, days: u32, seed: u64) -> Portfolio {
    let mut rng = Rng(seed ^ 0x6d6f_6e74_6873_696d); // "monthsim"
    let month = Month { start, days };
    let days_i = i64::from(days.max(1));
    let zone_of = |p: usize| ZONES[p % ZONES.len()].0;
    let mut edits: Vec<Edit> = Vec::new();

    // --- groups and mappings --------------------------------------------------------
    let mut mappings = Mappings::default();
    let mut groups: Vec<(i64, String)> = Vec::new();
    let mut next_group = 810_000i64;
    let mut new_group = |name: String, groups: &mut Vec<(i64, String)>| {
        next_group += 1;
        // Brivo caps group names at 35 characters.
        groups.push((next_group, name.chars().take(35).collect()));
        next_group
    };
    let mut property_groups: Vec<Vec<i64>> = Vec::new();
    for p in 0..size.properties {
        let mut gs = vec![new_group(
            format!("{} Residents", property_name(p)),
            &mut groups,
        )];
        if p % 4 == 0 {
            gs.push(new_group(
                format!("{} Amenities", property_name(p)),
                &mut groups,
            ));
        }
        mappings.properties.insert(
            (1000 + p).to_string(),
            gs.iter().copied().map(GroupId).collect(),
        );
        property_groups.push(gs);
    }

    // OfficeRnD: locations, floors, resources.
    let n_loc = if size.properties >= 10 { 2 } else { 1 };
    let floors_per_loc = if size.resources >= 50 { 2 } else { 1 };
    let rooms = (size.resources * 8 / 100).max(2).min(size.resources);
    let offices = (size.resources * 40 / 100).min(size.resources - rooms);
    let mut resources: Vec<Res> = Vec::with_capacity(size.resources);
    for i in 0..size.resources {
        let kind = if i < rooms {
            RKind::Room
        } else if i < rooms + offices {
            RKind::Office
        } else {
            RKind::Desk
        };
        let location = i % n_loc;
        let floor = (i / n_loc) % floors_per_loc;
        resources.push(Res {
            id: oid(K_RESOURCE, i + 1),
            kind,
            location,
            floor: oid(K_FLOOR, location * floors_per_loc + floor + 1),
        });
    }
    // Base groups per location: members (location + plans), meeting rooms,
    // offices, one per floor; then, while the budget lasts, a group per room.
    let mut loc_members = Vec::new();
    let mut loc_rooms = Vec::new();
    let mut loc_offices = Vec::new();
    for (l, (name, ..)) in LOCATIONS.iter().enumerate().take(n_loc) {
        let g = new_group(format!("{name} Members"), &mut groups);
        mappings
            .locations
            .insert(oid(K_LOCATION, l), vec![GroupId(g)]);
        for k in 0..PLAN_KINDS.len() {
            mappings
                .plans
                .insert(oid(K_PLAN, plan_index(l, k)), vec![GroupId(g)]);
        }
        loc_members.push(g);
        loc_rooms.push(new_group(format!("{name} Meeting Rooms"), &mut groups));
        loc_offices.push(new_group(format!("{name} Offices"), &mut groups));
        for f in 0..floors_per_loc {
            let g = new_group(format!("{name} Floor {}", f + 1), &mut groups);
            mappings
                .floors
                .insert(oid(K_FLOOR, l * floors_per_loc + f + 1), vec![GroupId(g)]);
        }
    }
    for r in &resources {
        match r.kind {
            RKind::Room => {
                let mut gs = vec![GroupId(loc_rooms[r.location])];
                if groups.len() < MANAGED_GROUPS {
                    let n = mappings.resources.len() + 1;
                    gs.push(GroupId(new_group(format!("Boardroom {n}"), &mut groups)));
                }
                mappings.resources.insert(r.id.clone(), gs);
            }
            RKind::Office => {
                mappings
                    .resources
                    .insert(r.id.clone(), vec![GroupId(loc_offices[r.location])]);
            }
            RKind::Desk => {}
        }
    }
    let managed: BTreeSet<i64> = groups.iter().map(|(g, _)| *g).collect();
    let mut unmanaged = Vec::new();
    for name in UNMANAGED_GROUPS {
        unmanaged.push(new_group((*name).to_owned(), &mut groups));
    }
    let groups_of_resource = |r: usize| -> Vec<i64> {
        mappings
            .resources
            .get(&resources[r].id)
            .map(|gs| gs.iter().map(|g| g.0).collect())
            .unwrap_or_default()
    };
    // What a membership grants: its plan's groups, and its assignment's
    // resource, floor and location groups.
    let grants = |ms: &Ms| -> BTreeSet<i64> {
        let mut out: BTreeSet<i64> = mappings
            .plans
            .get(&oid(K_PLAN, ms.plan))
            .into_iter()
            .flatten()
            .map(|g| g.0)
            .collect();
        if let Some(r) = ms.resource {
            out.extend(groups_of_resource(r));
            let res = &resources[r];
            if let Some(gs) = mappings.floors.get(&res.floor) {
                out.extend(gs.iter().map(|g| g.0));
            }
            if let Some(gs) = mappings.locations.get(&oid(K_LOCATION, res.location)) {
                out.extend(gs.iter().map(|g| g.0));
            }
        }
        out
    };

    // --- Entrata -------------------------------------------------------------------
    let mut leases: Vec<LeaseRec> = Vec::new();
    let mut next_customer = 3_000_000u64;
    let mut made = 0usize;
    while made < size.residents {
        let n = (1 + rng.below(3)).min(size.residents - made);
        let property = leases.len() % size.properties.max(1);
        let tz = zone_of(property);
        let today = month.date(tz, 0);
        leases.push(LeaseRec {
            id: 200_000 + leases.len() as u64,
            property,
            unit: (1000 + property as u64) * 10_000
                + (leases.len() / size.properties.max(1)) as u64,
            status: LeaseStatus::Current,
            move_in: today - Duration::days(rng.range(30, 1500)),
            move_out: None,
            customers: customers(&mut rng, n, &mut next_customer),
        });
        made += n;
    }
    // Seeded moves within the month: Notice (move-out) and Future (move-in)
    // leases; a few Past leases that moved out in the last 30 days.
    let n_out = size.moves_per_month / 2;
    let n_in = size.moves_per_month - n_out;
    let n_past = size.moves_per_month / 10 + 1;
    let mut current: Vec<usize> = (0..leases.len()).collect();
    let mut notice_leases = Vec::new();
    let mut future_leases = Vec::new();
    for _ in 0..n_out {
        let Some(i) = rng.take(&mut current) else {
            break;
        };
        let tz = zone_of(leases[i].property);
        leases[i].status = LeaseStatus::Notice;
        leases[i].move_out = Some(month.date(tz, rng.range(1, days_i)));
        notice_leases.push(i);
    }
    for _ in 0..n_in {
        let Some(i) = rng.take(&mut current) else {
            break;
        };
        let tz = zone_of(leases[i].property);
        leases[i].status = LeaseStatus::Future;
        leases[i].move_in = month.date(tz, rng.range(1, days_i));
        future_leases.push(i);
    }
    for _ in 0..n_past {
        let Some(i) = rng.take(&mut current) else {
            break;
        };
        let tz = zone_of(leases[i].property);
        leases[i].status = LeaseStatus::Past;
        let out = month.date(tz, 0) - Duration::days(rng.range(1, 30));
        leases[i].move_out = Some(out);
        leases[i].move_in = leases[i].move_in.min(out - Duration::days(200));
    }
    let seeded_leases = leases.clone();

    // --- OfficeRnD people -----------------------------------------------------------
    let n_company = (size.memberships / 10).max(1).min(offices.max(1));
    let n_company = n_company.min(size.memberships);
    let n_personal = size.memberships - n_company;
    let n_dd = n_personal.min(size.resources - rooms - offices);
    let mut members: Vec<Mem> = Vec::with_capacity(size.members);
    let mut company_members: Vec<Vec<usize>> = vec![Vec::new(); n_company];
    let room_for_companies = size.members.saturating_sub(n_personal).max(n_company);
    for (c, company) in company_members.iter_mut().enumerate() {
        let want = 2 + rng.below(5);
        let left = room_for_companies.saturating_sub(members.len());
        let left_companies = n_company - c;
        let n = want.min(left.saturating_sub(left_companies - 1)).max(1);
        for _ in 0..n {
            if members.len() >= size.members {
                break;
            }
            let i = members.len();
            company.push(i);
            members.push(Mem {
                id: oid(K_MEMBER, i + 1),
                name: format!("{} {}", rng.pick(FIRST), rng.pick(LAST)),
                company: Some(c),
                location: c % n_loc,
            });
        }
    }
    while members.len() < size.members {
        let i = members.len();
        members.push(Mem {
            id: oid(K_MEMBER, i + 1),
            name: format!("{} {}", rng.pick(FIRST), rng.pick(LAST)),
            company: None,
            location: i % n_loc,
        });
    }
    let solo: Vec<usize> = (0..members.len())
        .filter(|&i| members[i].company.is_none())
        .collect();

    // Memberships: one per company (Private Office with an office), one per
    // personal holder (Dedicated Desk with a desk, else Hot Desk). About 5 %
    // ended before the month, 5 % start within it, the rest are active.
    let offices_idx: Vec<usize> = (0..resources.len())
        .filter(|&r| resources[r].kind == RKind::Office)
        .collect();
    let desks_idx: Vec<usize> = (0..resources.len())
        .filter(|&r| resources[r].kind == RKind::Desk)
        .collect();
    let mut memberships: Vec<Ms> = Vec::with_capacity(size.memberships);
    let span = |rng: &mut Rng, tz: Tz| -> (NaiveDate, Option<NaiveDate>, &'static str) {
        let today = month.date(tz, 0);
        let roll = rng.below(20);
        if roll == 0 {
            let end = today - Duration::days(rng.range(1, 60));
            (
                end - Duration::days(rng.range(90, 400)),
                Some(end),
                "expired",
            )
        } else if roll == 1 {
            (month.date(tz, rng.range(1, days_i)), None, "not_started")
        } else {
            let s = today - Duration::days(rng.range(1, 700));
            let end = rng
                .chance(0.3)
                .then(|| today + Duration::days(rng.range(i64::from(days) + 30, 400)));
            (s, end, "active")
        }
    };
    for c in 0..n_company {
        let office = offices_idx.get(c).copied();
        let location = office.map_or(c % n_loc, |o| resources[o].location);
        let (start, end, status) = span(&mut rng, LOCATIONS[location].1);
        memberships.push(Ms {
            id: oid(K_MEMBERSHIP, memberships.len() + 1),
            plan: plan_index(location, PO),
            location,
            member: None,
            company: Some(c),
            start,
            end,
            status,
            resource: office,
        });
    }
    let mut holders: Vec<usize> = solo.clone();
    let mut without: Vec<usize> = Vec::new();
    // Personal holders: the first n_personal solo members, in random order.
    for k in (1..holders.len()).rev() {
        let j = rng.below(k + 1);
        holders.swap(k, j);
    }
    if holders.len() > n_personal {
        without = holders.split_off(n_personal);
    }
    for (k, &m) in holders.iter().enumerate() {
        let desk = (k < n_dd).then(|| desks_idx.get(k).copied()).flatten();
        let location = desk.map_or(members[m].location, |d| resources[d].location);
        let (start, end, status) = span(&mut rng, LOCATIONS[location].1);
        memberships.push(Ms {
            id: oid(K_MEMBERSHIP, memberships.len() + 1),
            plan: plan_index(location, if desk.is_some() { DD } else { HD }),
            location,
            member: Some(m),
            company: None,
            start,
            end,
            status,
            resource: desk,
        });
    }
    let seeded_memberships = memberships.clone();

    // --- bookings --------------------------------------------------------------------
    let room_idx: Vec<usize> = (0..resources.len())
        .filter(|&r| resources[r].kind == RKind::Room)
        .collect();
    let mut bookings: Vec<Bk> = Vec::new();
    let book = |rng: &mut Rng, d: i64, not_before: DateTime<Utc>, bookings: &mut Vec<Bk>| {
        let room = *rng.pick(&room_idx);
        let tz = LOCATIONS[resources[room].location].1;
        let date = month.date(tz, d);
        let start = local(
            tz,
            date,
            rng.range(8, 18) as u32,
            if rng.chance(0.5) { 0 } else { 30 },
            false,
        );
        if start < not_before {
            return None;
        }
        let member = rng.below(members.len());
        bookings.push(Bk {
            id: oid(K_BOOKING, bookings.len() + 1),
            room,
            member,
            start,
            end: start + Duration::minutes(30 * rng.range(1, 5)),
            cancelled: false,
        });
        Some(bookings.len() - 1)
    };
    if !room_idx.is_empty() && !members.is_empty() {
        for d in 0..days_i {
            for _ in 0..size.bookings_per_day {
                book(&mut rng, d, start, &mut bookings);
            }
        }
    }
    let n_seeded_bookings = bookings.len();

    // --- edits -------------------------------------------------------------------------
    // Lease edits keep each lease's JSON current: a later edit of a lease
    // carries the earlier ones.
    let pname: Vec<String> = (0..size.properties).map(property_name).collect();
    let lease_edit = |l: &LeaseRec,
                      at: DateTime<Utc>,
                      what: String,
                      expect_on: bool,
                      effective: DateTime<Utc>|
     -> Edit {
        let expect = property_groups[l.property]
            .iter()
            .flat_map(|&g| {
                l.customers
                    .iter()
                    .map(move |c| (c.external_id(), g, expect_on && c.admitted()))
            })
            .collect();
        Edit {
            at,
            service: Service::Entrata,
            what: format!("lease {} (property {}): {what}", l.id, 1000 + l.property),
            change: EditChange::UpsertLease(l.json(&pname[l.property])),
            expect,
            effective: std::cmp::max(at, effective),
        }
    };
    let move_in_at = |l: &LeaseRec| local(zone_of(l.property), l.move_in, 10, 0, false);
    let move_out_at = |l: &LeaseRec, out: NaiveDate| local(zone_of(l.property), out, 16, 0, true);
    let move_out_edit =
        |rng: &mut Rng, l: &mut LeaseRec, not_before: DateTime<Utc>| -> Option<Edit> {
            let out = l.move_out?;
            let tz = zone_of(l.property);
            let at = month.business_on(rng, tz, out, not_before)?;
            l.status = LeaseStatus::Past;
            Some(lease_edit(
                l,
                at,
                format!("move-out processed ({})", mdy(out)),
                false,
                move_out_at(l, out),
            ))
        };
    let move_in_edit =
        |rng: &mut Rng, l: &mut LeaseRec, not_before: DateTime<Utc>| -> Option<Edit> {
            let tz = zone_of(l.property);
            let at = month.business_on(rng, tz, l.move_in, not_before)?;
            l.status = LeaseStatus::Current;
            Some(lease_edit(
                l,
                at,
                format!("move-in processed ({})", mdy(l.move_in)),
                true,
                move_in_at(l),
            ))
        };

    // Other edits a day: about 6 for the reference size, at least 2.
    let others_per_day = ((size.residents + size.members) / 2500).max(2);
    let n_others = others_per_day * days as usize;
    let share = |pct: usize| (n_others * pct).div_ceil(100);

    // Futures cancelled before their move-in.
    let mut futures = future_leases.clone();
    futures.retain(|&i| month.index(zone_of(leases[i].property), leases[i].move_in) >= 2);
    for _ in 0..share(3) {
        let Some(i) = rng.take(&mut futures) else {
            break;
        };
        let l = &mut leases[i];
        let tz = zone_of(l.property);
        let before = month.index(tz, l.move_in);
        let at = {
            let d = rng.range(0, before - 1);
            month.business(&mut rng, tz, d)
        };
        l.status = LeaseStatus::Cancelled;
        let what = format!("future lease cancelled (move-in was {})", mdy(l.move_in));
        edits.push(lease_edit(&*l, at, what, false, at));
        future_leases.retain(|&f| f != i);
    }
    // Move-ins and move-outs of the seeded Future and Notice leases.
    for &i in &future_leases {
        if let Some(e) = move_in_edit(&mut rng, &mut leases[i], start) {
            edits.push(e);
        }
    }
    for &i in &notice_leases {
        if let Some(e) = move_out_edit(&mut rng, &mut leases[i], start) {
            edits.push(e);
        }
    }
    // Notices given on Current leases, moving out 14–60 days later.
    for _ in 0..share(15) {
        let Some(i) = rng.take(&mut current) else {
            break;
        };
        let l = &mut leases[i];
        let tz = zone_of(l.property);
        let at = {
            let d = rng.range(0, days_i);
            month.business(&mut rng, tz, d)
        };
        let out = at.with_timezone(&tz).date_naive() + Duration::days(rng.range(14, 61));
        l.status = LeaseStatus::Notice;
        l.move_out = Some(out);
        let what = format!("notice given, move-out {}", mdy(out));
        edits.push(lease_edit(&*l, at, what, false, move_out_at(&*l, out)));
        if let Some(e) = move_out_edit(&mut rng, l, at) {
            edits.push(e);
        }
    }
    // New leases signed, moving in 2–14 days later.
    for _ in 0..share(15) {
        let property = rng.below(size.properties.max(1));
        let tz = zone_of(property);
        let at = {
            let d = rng.range(0, days_i);
            month.business(&mut rng, tz, d)
        };
        let n = 1 + rng.below(3);
        let mut l = LeaseRec {
            id: 200_000 + leases.len() as u64,
            property,
            unit: (1000 + property as u64) * 10_000 + 9_000 + rng.below(999) as u64,
            status: LeaseStatus::Future,
            move_in: at.with_timezone(&tz).date_naive() + Duration::days(rng.range(2, 15)),
            move_out: None,
            customers: customers(&mut rng, n, &mut next_customer),
        };
        let what = format!("new lease signed, move-in {}", mdy(l.move_in));
        edits.push(lease_edit(&l, at, what, true, move_in_at(&l)));
        if let Some(e) = move_in_edit(&mut rng, &mut l, at) {
            edits.push(e);
        }
        leases.push(l);
    }

    // Bookings made during the month, for later the same day or the next week.
    let booking_edit =
        |b: &Bk, at: DateTime<Utc>, what: String, expect: Vec<(String, i64, bool)>| Edit {
            at,
            service: Service::OfficeRnd,
            what,
            change: EditChange::Upsert {
                collection: "bookings",
                record: booking_json(b, &resources, &members, at),
            },
            expect,
            effective: std::cmp::max(at, b.start - BOOKING_SLACK),
        };
    let mut created_edits = Vec::new();
    if !room_idx.is_empty() && !members.is_empty() {
        for _ in 0..share(35) {
            let d = rng.range(0, days_i);
            let tz = LOCATIONS[rng.below(n_loc)].1;
            let at = month.business(&mut rng, tz, d);
            let ahead = d + rng.range(0, 8);
            if let Some(k) = book(&mut rng, ahead, at + Duration::hours(1), &mut bookings) {
                created_edits.push((k, at));
            }
        }
    }
    // Bookings cancelled before they start (seeded ones).
    let mut cancellable: Vec<usize> = (0..n_seeded_bookings).collect();
    let mut cancel_edits = Vec::new();
    for _ in 0..share(20) {
        let Some(k) = rng.take(&mut cancellable) else {
            break;
        };
        let b = &bookings[k];
        let tz = LOCATIONS[resources[b.room].location].1;
        let first = month.index(tz, b.start.with_timezone(&tz).date_naive());
        let d = rng.range(0, first + 1);
        let at = month.business(&mut rng, tz, d);
        if at + Duration::hours(1) > b.start {
            continue;
        }
        cancel_edits.push((k, at));
    }
    for &(k, _) in &cancel_edits {
        bookings[k].cancelled = true;
    }
    // A booking's groups are known to change only if no other live booking
    // of the member gives one of them over an overlapping window.
    let booking_expect = |k: usize, on: bool| -> Vec<(String, i64, bool)> {
        let b = &bookings[k];
        let gs = groups_of_resource(b.room);
        let (from, to) = (b.start - BOOKING_SLACK, b.end + BOOKING_SLACK);
        let clash = bookings.iter().enumerate().any(|(j, o)| {
            j != k
                && !o.cancelled
                && o.member == b.member
                && o.start - BOOKING_SLACK < to
                && from < o.end + BOOKING_SLACK
                && groups_of_resource(o.room).iter().any(|g| gs.contains(g))
        });
        if clash {
            return Vec::new();
        }
        let ext = members[b.member].external_id();
        gs.into_iter().map(|g| (ext.clone(), g, on)).collect()
    };
    for (k, at) in created_edits {
        let b = &bookings[k];
        let what = format!(
            "booking {} created: {} books room {} at {}",
            b.id,
            members[b.member].name,
            resources[b.room].id,
            ts(b.start)
        );
        edits.push(booking_edit(b, at, what, booking_expect(k, true)));
    }
    for (k, at) in cancel_edits {
        let b = &bookings[k];
        let what = format!("booking {} cancelled (was {})", b.id, ts(b.start));
        edits.push(booking_edit(b, at, what, booking_expect(k, false)));
    }

    // Memberships started (Hot Desk, for members with none) and ended
    // (active personal ones), each member holding at most one.
    let ms_edit = |ms: &Ms, at: DateTime<Utc>, what: String, on: bool, effective: DateTime<Utc>| {
        let ext = members[ms.member.unwrap_or_default()].external_id();
        Edit {
            at,
            service: Service::OfficeRnd,
            what: format!("membership {}: {what}", ms.id),
            change: EditChange::Upsert {
                collection: "memberships",
                record: membership_json(ms, at),
            },
            expect: grants(ms)
                .into_iter()
                .map(|g| (ext.clone(), g, on))
                .collect(),
            effective: std::cmp::max(at, effective),
        }
    };
    for _ in 0..share(7) {
        let Some(m) = rng.take(&mut without) else {
            break;
        };
        let location = members[m].location;
        let tz = LOCATIONS[location].1;
        let at = {
            let d = rng.range(0, days_i);
            month.business(&mut rng, tz, d)
        };
        let first = at.with_timezone(&tz).date_naive() + Duration::days(rng.range(0, 8));
        let ms = Ms {
            id: oid(K_MEMBERSHIP, memberships.len() + 1),
            plan: plan_index(location, HD),
            location,
            member: Some(m),
            company: None,
            start: first,
            end: None,
            status: if first > at.with_timezone(&tz).date_naive() {
                "not_started"
            } else {
                "active"
            },
            resource: None,
        };
        let what = format!("{} starts Hot Desk on {}", members[m].name, first);
        edits.push(ms_edit(&ms, at, what, true, local(tz, first, 0, 0, false)));
        memberships.push(ms);
    }
    let mut endable: Vec<usize> = (0..memberships.len())
        .filter(|&i| {
            let ms = &memberships[i];
            ms.member.is_some() && ms.status == "active" && ms.end.is_none()
        })
        .collect();
    for _ in 0..share(5) {
        let Some(i) = rng.take(&mut endable) else {
            break;
        };
        let tz = LOCATIONS[memberships[i].location].1;
        let at = {
            let d = rng.range(0, days_i);
            month.business(&mut rng, tz, d)
        };
        let last = at.with_timezone(&tz).date_naive() + Duration::days(rng.range(0, 15));
        let ms = &mut memberships[i];
        ms.end = Some(last);
        let name = &members[ms.member.unwrap_or_default()].name;
        let what = format!("{name} ends it, last day {last}");
        let ends = local(tz, last + Duration::days(1), 0, 0, true);
        edits.push(ms_edit(&*ms, at, what, false, ends));
    }
    edits.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.what.cmp(&b.what)));

    // --- how many users the integration owns after the day-0 sync ------------------
    let mut owned: BTreeSet<String> = BTreeSet::new();
    for l in &seeded_leases {
        let tz = zone_of(l.property);
        let open = matches!(l.status, LeaseStatus::Current | LeaseStatus::Notice)
            || (l.status == LeaseStatus::Future && move_in_at(l) <= start);
        let closed = l
            .move_out
            .is_some_and(|o| local(tz, o, 16, 0, true) <= start);
        if open && !closed {
            owned.extend(
                l.customers
                    .iter()
                    .filter(|c| c.admitted())
                    .map(Cust::external_id),
            );
        }
    }
    for ms in &seeded_memberships {
        let tz = LOCATIONS[ms.location].1;
        let began = local(tz, ms.start, 0, 0, false) <= start;
        let ended = ms
            .end
            .is_some_and(|e| local(tz, e + Duration::days(1), 0, 0, true) <= start);
        if began && !ended {
            let people = match (ms.member, ms.company) {
                (Some(m), _) => vec![m],
                (None, Some(c)) => company_members[c].clone(),
                _ => Vec::new(),
            };
            owned.extend(people.into_iter().map(|m| members[m].external_id()));
        }
    }
    for b in &bookings[..n_seeded_bookings] {
        if !b.cancelled && b.start - BOOKING_SLACK <= start && start < b.end + BOOKING_SLACK {
            owned.insert(members[b.member].external_id());
        }
    }
    let integration_users_at_start = owned.len();

    // --- wire JSON ------------------------------------------------------------------
    let entrata = json!({
        "properties": (0..size.properties).map(property_json).collect::<Vec<_>>(),
        "leases": seeded_leases.iter().map(|l| l.json(&pname[l.property])).collect::<Vec<_>>(),
    });

    let created = start - Duration::days(800);
    let officernd = json!({
        "locations": (0..n_loc).map(|l| {
            let (name, tz, state, city) = LOCATIONS[l];
            json!({
                "properties": {}, "_id": oid(K_LOCATION, l), "name": name,
                "address": {"country": "United States", "state": state, "city": city},
                "timezone": tz.name(), "isOpen": true, "isPublic": true,
                "code": format!("L{l}"), "createdAt": ts(created), "createdBy": oid(K_ADMIN, 1),
            })
        }).collect::<Vec<_>>(),
        "floors": (0..n_loc * floors_per_loc).map(|f| json!({
            "_id": oid(K_FLOOR, f + 1), "floor": (f % floors_per_loc + 1).to_string(),
            "name": format!("Fl-{:02}", f % floors_per_loc + 1),
            "location": oid(K_LOCATION, f / floors_per_loc), "isOpen": true,
            "createdAt": ts(created),
        })).collect::<Vec<_>>(),
        "resource-types": [
            {"_id": oid(K_TYPE, 1), "title": "Private office", "type": "team_room", "bookingMode": "time", "canAssign": true, "isPrimary": true},
            {"_id": oid(K_TYPE, 2), "title": "Dedicated desk", "type": "desk", "bookingMode": "time", "canAssign": true},
            {"_id": oid(K_TYPE, 3), "title": "Meeting room", "type": "meeting_room", "bookingMode": "time", "canBook": true},
            {"_id": oid(K_TYPE, 4), "title": "Hot desk", "type": "hotdesk", "bookingMode": "date", "canBook": false},
        ],
        "resources": resources.iter().enumerate().map(|(i, r)| {
            let (kind, name) = match r.kind {
                RKind::Room => ("meeting_room", format!("Room {}", i + 1)),
                RKind::Office => ("team_room", format!("Office {}", i + 1)),
                RKind::Desk => ("desk", format!("Desk {}", i + 1)),
            };
            json!({
                "properties": {}, "_id": r.id, "name": name, "type": kind,
                "location": oid(K_LOCATION, r.location), "floor": r.floor, "parents": [],
                "availability": {"startDate": day(created.date_naive()), "endDate": null},
                "createdAt": ts(created),
            })
        }).collect::<Vec<_>>(),
        "plans": (0..n_loc).flat_map(|l| (0..PLAN_KINDS.len()).map(move |k| (l, k))).map(|(l, k)| {
            let (name, code, kind, price) = PLAN_KINDS[k];
            json!({
                "properties": {}, "_id": oid(K_PLAN, plan_index(l, k)), "name": name,
                "description": format!("{name} at {}", LOCATIONS[l].0), "code": code, "type": kind,
                "price": price, "deposit": 0, "locations": [oid(K_LOCATION, l)],
                "intervalLength": "month", "intervalCount": 1, "createdAt": ts(created),
            })
        }).collect::<Vec<_>>(),
        "companies": (0..n_company).map(|c| json!({
            "properties": {}, "_id": oid(K_COMPANY, c), "name": format!("Company {}", c + 1),
            "location": oid(K_LOCATION, c % n_loc), "status": "active",
            "startDate": day(created.date_naive()), "createdAt": ts(created),
        })).collect::<Vec<_>>(),
        "members": members.iter().enumerate().map(|(i, m)| {
            let mut v = json!({
                "properties": {}, "_id": m.id, "name": m.name,
                "email": format!("member{}@example.com", i + 1),
                "location": oid(K_LOCATION, m.location),
                "company": m.company.map(|c| oid(K_COMPANY, c)),
                "status": "active", "createdAt": ts(created), "tags": [],
            });
            if i % 3 == 0 {
                v["phone"] = json!(format!("303-555-{:04}", i % 10_000));
            }
            v
        }).collect::<Vec<_>>(),
        "memberships": seeded_memberships.iter().map(|ms| membership_json(ms, created)).collect::<Vec<_>>(),
        "assignments": seeded_memberships.iter().filter_map(|ms| {
            let r = ms.resource?;
            Some(json!({
                "_id": oid(K_ASSIGNMENT, r + 1), "resource": resources[r].id,
                "membership": ms.id, "startDate": day(ms.start),
                "endDate": ms.end.map(day),
            }))
        }).collect::<Vec<_>>(),
        "bookings": bookings[..n_seeded_bookings].iter().map(|b| {
            // As seeded: not cancelled yet (the edits cancel them).
            let mut b = b.clone();
            b.cancelled = false;
            booking_json(&b, &resources, &members, start - Duration::days(3))
        }).collect::<Vec<_>>(),
        "passes": [], "checkins": [], "visitors": [],
    });

    // Brivo: the groups, and unowned staff users (no externalId, or
    // another system's), a few of them hand-placed in managed groups.
    let staff = size.brivo_users.saturating_sub(integration_users_at_start);
    let mut users = Vec::with_capacity(staff);
    let mut group_members: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let managed_list: Vec<i64> = managed.iter().copied().collect();
    for s in 0..staff {
        let id = 700_000 + s as i64;
        let mut u = json!({
            "id": id,
            "firstName": rng.pick(FIRST),
            "lastName": rng.pick(LAST),
            "emails": [{"address": format!("staff{s}@example.com"), "type": "Work"}],
            "suspended": false,
        });
        match s % 5 {
            0 => u["externalId"] = json!(format!("hr:{}", 10_000 + s)),
            1 => u["externalId"] = json!(format!("badge-{s}")),
            _ => {}
        }
        users.push(u);
        group_members
            .entry(unmanaged[s % unmanaged.len()])
            .or_default()
            .push(id);
        if s % 50 == 7 && !managed_list.is_empty() {
            group_members
                .entry(managed_list[s % managed_list.len()])
                .or_default()
                .push(id);
        }
    }
    let brivo = json!({
        "sites": [], "accessPoints": [],
        "groups": groups.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
        "users": users,
        "groupMembers": group_members.iter().map(|(g, us)| (g.to_string(), json!(us))).collect::<serde_json::Map<_, _>>(),
        "credentials": [], "credentialAssignments": [],
    });

    let mut sb_seed = sandbox::Seed::empty();
    sb_seed.entrata =
        sandbox::EntrataSeed::from_json(&entrata.to_string()).expect("generated entrata seed");
    sb_seed.officernd = sandbox::OfficeRndSeed::from_json(&officernd.to_string())
        .expect("generated officernd seed");
    sb_seed.brivo =
        sandbox::BrivoSeed::from_json(&brivo.to_string()).expect("generated brivo seed");

    Portfolio {
        seed: sb_seed,
        mappings,
        start,
        edits,
        zones: (0..size.properties)
            .map(|p| ((1000 + p) as u64, zone_of(p)))
            .collect(),
        wire: WireSeed {
            entrata,
            officernd,
            brivo,
        },
        integration_users_at_start,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap()
    }

    fn len(v: &Value, key: &str) -> usize {
        v[key].as_array().map_or(0, Vec::len)
    }

    fn residents(p: &Portfolio) -> usize {
        p.wire.entrata["leases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["customers"]["customer"].as_array().unwrap().len())
            .sum()
    }

    fn check_sizes(size: &PortfolioSize, p: &Portfolio, managed: usize) {
        assert_eq!(len(&p.wire.entrata, "properties"), size.properties);
        assert_eq!(residents(p), size.residents);
        assert_eq!(len(&p.wire.officernd, "members"), size.members);
        assert_eq!(len(&p.wire.officernd, "memberships"), size.memberships);
        assert_eq!(len(&p.wire.officernd, "resources"), size.resources);
        assert_eq!(p.mappings.managed_groups().len(), managed);
        assert_eq!(
            len(&p.wire.brivo, "groups"),
            managed + UNMANAGED_GROUPS.len()
        );
        let staff = len(&p.wire.brivo, "users");
        assert_eq!(staff + p.integration_users_at_start, size.brivo_users);
        assert!(
            staff > 0,
            "the integration's users alone exceed brivo_users ({})",
            p.integration_users_at_start
        );
        // No integration-owned user is pre-created.
        assert!(
            p.wire.brivo["users"]
                .as_array()
                .unwrap()
                .iter()
                .all(|u| !u["externalId"].as_str().unwrap_or("").starts_with("sync:"))
        );
        // Every property and every lease's property is mapped, with a zone.
        for l in p.wire.entrata["leases"].as_array().unwrap() {
            let pid = l["propertyId"].as_str().unwrap();
            assert!(p.mappings.properties.contains_key(pid), "{pid}");
        }
        assert_eq!(p.zones.len(), size.properties);
        // Seeded moves in the month: Notice + Future ≈ moves_per_month.
        let moves = p.wire.entrata["leases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| ["3", "5"].contains(&l["leaseStatusTypeId"].as_str().unwrap()))
            .count();
        assert_eq!(moves, size.moves_per_month);
        // Customer ids are unique across the portfolio, edits included.
        let mut ids = BTreeSet::new();
        for l in p.wire.entrata["leases"].as_array().unwrap() {
            for c in l["customers"]["customer"].as_array().unwrap() {
                assert!(ids.insert(c["id"].as_u64().unwrap()));
            }
        }
    }

    fn check_edits(p: &Portfolio, days: u32, per_day: std::ops::RangeInclusive<f64>) {
        let end = p.start + Duration::days(i64::from(days));
        for e in &p.edits {
            assert!(p.start <= e.at && e.at < end, "{} at {}", e.what, e.at);
            assert!(e.effective >= e.at, "{}", e.what);
        }
        assert!(p.edits.windows(2).all(|w| w[0].at <= w[1].at), "by time");
        let rate = p.edits.len() as f64 / f64::from(days);
        assert!(per_day.contains(&rate), "{rate} edits a day");
        // Every kind of edit is there, and most say what they should change.
        for kind in [
            "new lease signed",
            "notice given",
            "move-in processed",
            "move-out processed",
            "booking",
            "cancelled",
            "starts Hot Desk",
            "ends it",
        ] {
            assert!(
                p.edits.iter().any(|e| e.what.contains(kind)),
                "no edit {kind}"
            );
        }
        let known = p.edits.iter().filter(|e| !e.expect.is_empty()).count();
        assert!(
            known * 10 >= p.edits.len() * 9,
            "{known} of {}",
            p.edits.len()
        );
        let managed = p.mappings.managed_groups();
        for e in &p.edits {
            for (ext, g, _) in &e.expect {
                assert!(ext.starts_with("sync:entrata:") || ext.starts_with("sync:officernd:"));
                assert!(managed.contains(&GroupId(*g)), "{} names group {g}", e.what);
            }
        }
    }

    #[test]
    fn summaries() {
        for size in [PortfolioSize::small(), PortfolioSize::reference()] {
            let p = generate(&size, start(), 30, 1);
            let s = p.summary();
            println!("{s}");
            assert!(!s.contains("other"), "every edit has a kind: {s}");
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let size = PortfolioSize::small();
        let a = generate(&size, start(), 30, 7);
        let b = generate(&size, start(), 30, 7);
        assert_eq!(a.wire, b.wire);
        assert_eq!(a.mappings, b.mappings);
        assert_eq!(a.edits, b.edits);
        let c = generate(&size, start(), 30, 8);
        assert_ne!(a.wire, c.wire, "another seed, another portfolio");
    }

    #[test]
    fn small_sizes_and_edits() {
        let size = PortfolioSize::small();
        let p = generate(&size, start(), 30, 1);
        // 2 properties: 3 property groups; 1 location: members, rooms,
        // offices, one floor, and a group for each of the 2 rooms.
        check_sizes(&size, &p, 9);
        check_edits(&p, 30, 2.0..=3.5);
    }

    #[test]
    fn reference_sizes_and_edits() {
        let size = PortfolioSize::reference();
        let p = generate(&size, start(), 30, 1);
        check_sizes(&size, &p, MANAGED_GROUPS);
        check_edits(&p, 30, 10.0..=20.0);
        let bookings = len(&p.wire.officernd, "bookings");
        assert_eq!(bookings, size.bookings_per_day * 30);
    }

    #[test]
    fn edits_stay_within_a_short_window() {
        // A start that is not midnight and a week: nothing spills out.
        let start = Utc
            .with_ymd_and_hms(2026, 3, 5, 17, 30, 0)
            .single()
            .unwrap();
        let p = generate(&PortfolioSize::small(), start, 7, 3);
        let end = start + Duration::days(7);
        assert!(p.edits.iter().all(|e| start <= e.at && e.at < end));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seed_loads_and_entrata_answers() {
        let p = generate(&PortfolioSize::small(), start(), 30, 1);
        let sb = sandbox::Sandbox::start(p.seed.clone()).await.unwrap();
        let c = sb.credentials();
        let client = entrata_client::Client::builder(
            &format!("{}/", sb.entrata_api_url()),
            entrata_client::Credentials::basic(
                c.entrata_username.clone(),
                secrecy::SecretString::from(c.entrata_password.clone()),
            ),
        )
        .build()
        .unwrap();
        use entrata_client::LeaseStatus as S;
        let listed =
            client
                .all_leases(
                    &entrata_client::LeasesRequest::new(entrata_client::PropertyId(1000))
                        .statuses([S::Future, S::Current, S::Notice, S::Past]),
                )
                .await
                .unwrap();
        assert!(listed.skipped.is_empty(), "{:?}", listed.skipped);
        let expected = p.wire.entrata["leases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["propertyId"] == "1000")
            .count();
        assert_eq!(listed.leases.len(), expected);
        assert!(listed.leases.iter().all(|l| !l.customers.is_empty()));
        // The other services hold what was generated.
        let member = p.wire.officernd["members"][0]["_id"].as_str().unwrap();
        assert!(sb.officernd().get("members", member).is_some());
        let snap = sb.brivo().snapshot();
        assert_eq!(snap.users.len(), len(&p.wire.brivo, "users"));
        assert_eq!(snap.groups.len(), len(&p.wire.brivo, "groups"));
        // Edits apply: the first lease edit is what the sandbox then serves.
        let e = p
            .edits
            .iter()
            .find(|e| matches!(e.change, EditChange::UpsertLease(_)))
            .unwrap();
        e.apply(&sb);
        let EditChange::UpsertLease(lease) = &e.change else {
            unreachable!()
        };
        let id = lease["id"].as_str().unwrap();
        assert_eq!(sb.entrata().lease(id).as_ref(), Some(lease));
        sb.shutdown().await;
    }

    /// The generated month, synced end to end at the edits' own times with
    /// the engine's default rules (revocation threshold off): day 0 leaves
    /// `brivo_users` users in Brivo, and every edit's expectation holds
    /// from its `effective` instant.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "about a minute, mostly waiting on the clients' pacing: run with --ignored"]
    async fn small_month_syncs_as_expected() {
        use access_sync::{BrivoBackend, EntrataSource, OfficeRndSource, Syncer};
        let size = PortfolioSize::small();
        let p = generate(&size, start(), 30, 1);
        let sb = sandbox::Sandbox::start_with(
            p.seed.clone(),
            sandbox::SandboxConfig::default().with_brivo_rate_limit(None),
        )
        .await
        .unwrap();
        let c = sb.credentials();
        let s = |v: &str| secrecy::SecretString::from(v.to_owned());
        let brivo = brivo_client::Client::builder(brivo_client::Credentials::password(
            s(&c.brivo_api_key),
            s(&c.brivo_client_id),
            s(&c.brivo_client_secret),
            s(&c.brivo_username),
            s(&c.brivo_password),
        ))
        .base_url(sb.brivo_api_url())
        .auth_url(sb.brivo_auth_url())
        .rate_limit(10_000.0, 1000)
        .build()
        .unwrap();
        let entrata = entrata_client::Client::builder(
            &format!("{}/", sb.entrata_api_url()),
            entrata_client::Credentials::basic(c.entrata_username.clone(), s(&c.entrata_password)),
        )
        .rate_limit(10_000.0, 1000)
        .build()
        .unwrap();
        let officernd = officernd_client::Client::builder(
            c.officernd_org.clone(),
            c.officernd_client_id.clone(),
            s(&c.officernd_client_secret),
        )
        .api_url(format!("{}/api/v2", sb.officernd_base_url()))
        .token_url(format!("{}/oauth/token", sb.officernd_identity_url()))
        .rate_limit(10_000.0, 1000)
        .build()
        .unwrap();
        let mut source = EntrataSource::new(entrata);
        for &(id, tz) in &p.zones {
            source = source.zone(id, tz);
        }
        let mut policy = access_engine::Policy::default();
        policy.revocation_threshold.max_count = None;
        policy.revocation_threshold.max_share = None;
        let syncer = Syncer::builder(BrivoBackend::new(brivo))
            .source(source)
            .source(OfficeRndSource::new(officernd))
            .mappings(p.mappings.clone())
            .policy(policy)
            .build();

        let report = syncer.sync_once(p.start).await.unwrap();
        assert!(report.is_success());
        let snap = sb.brivo().snapshot();
        assert_eq!(
            snap.owned_users("sync:").count(),
            p.integration_users_at_start
        );
        assert_eq!(snap.users.len(), size.brivo_users);

        // Walk the month: apply each edit at its time; check the first
        // edit of each kind at its effective instant (a sync a check: all
        // of them would take minutes in a debug build).
        let kind = |e: &Edit| {
            let w = e.what.split_once(": ").map_or("", |(_, k)| k);
            w.split([' ', '(']).take(2).collect::<Vec<_>>().join(" ")
        };
        let mut kinds = BTreeSet::new();
        let chosen: BTreeSet<usize> = (0..p.edits.len())
            .filter(|&i| {
                let e = &p.edits[i];
                !e.expect.is_empty()
                    && e.effective < p.start + Duration::days(30)
                    && kinds.insert(kind(e))
            })
            .collect();
        let mut timeline: Vec<(DateTime<Utc>, bool, usize)> = Vec::new();
        for (i, e) in p.edits.iter().enumerate() {
            timeline.push((e.at, false, i));
            if chosen.contains(&i) {
                timeline.push((e.effective, true, i));
            }
        }
        timeline.sort();
        let mut checked = 0;
        for (t, check, i) in timeline {
            let e = &p.edits[i];
            if !check {
                e.apply(&sb);
                continue;
            }
            let report = syncer.sync_once(t).await.unwrap();
            assert!(report.is_success(), "{}", e.what);
            let snap = sb.brivo().snapshot();
            for (ext, g, on) in &e.expect {
                let holds = snap
                    .user_by_external_id(ext)
                    .is_some_and(|u| u.groups.contains(g));
                assert_eq!(holds, *on, "{} at {t}: {ext} in {g}", e.what);
            }
            checked += 1;
        }
        assert!(checked >= 8, "{checked} kinds checked: {kinds:?}");
        sb.shutdown().await;
    }
}
