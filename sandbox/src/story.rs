//! The sample portfolio's storyline: the ids a mapping needs and the instants at which a
//! demo should run the sync. `sandbox/README.md` tells the story in prose.
//!
//! "Today" is 2026-11-23. Everything below is fixed data, so a test may assert exact
//! outcomes at each instant.
//!
//! Residents carry their own `leaseCustomerStatus`, `moveInDate` and `moveOutDate`, which
//! can differ from their lease's, as on real Current leases (`entrata.md` §0.1): access is
//! decided per resident. Current lease 1001 has a Future co-applicant who moves in later
//! ([`CUSTOMER_FUTURE_COAPPLICANT`]); Current lease 3003 has a Cancelled occupant who must
//! get nothing ([`CUSTOMER_CANCELLED_ON_CURRENT`]) and a Past co-applicant who moved out
//! ([`CUSTOMER_PAST_COAPPLICANT`]). A getLeases without `leaseStatusTypeIds` returns only
//! Current leases, and getMitsPropertyUnits (the zone source) is not granted by default.
//!
//! | Place | Zone | Entrata / OfficeRnD id | Brivo site | Managed groups |
//! |---|---|---|---|---|
//! | Harbor View Apartments, Boston | America/New_York | property 100 | 9100 | 7101 residents, 7102 fitness |
//! | Prairie Commons, Chicago | America/Chicago | property 200 | 9200 | 7201 residents |
//! | Sunset Terrace, Los Angeles | America/Los_Angeles | property 300 | 9300 | 7301 residents |
//! | Mile High Works (coworking), Denver | America/Denver | location `…a001` | 9400 | 7401–7408 |
//!
//! Group 7501 belongs to the SCIM directory platform [`DIRECTORY_CONNECT`].
//! Unmanaged: group 7901 "Building Staff" (users 15540001 Sam, 15540002 Terry) and 7902
//! "Harbor View Residents Archive" (a name that *contains* a managed group's name).

use chrono::{DateTime, TimeZone, Utc};

// ---- Entrata properties (ids are strings on the wire in getLeases, numbers in getProperties)

/// Harbor View Apartments (Boston, America/New_York).
pub const PROPERTY_NY: &str = "100";
/// Prairie Commons (Chicago, America/Chicago).
pub const PROPERTY_CHI: &str = "200";
/// Sunset Terrace (Los Angeles, America/Los_Angeles).
pub const PROPERTY_LA: &str = "300";

/// Every Entrata property with its IANA zone (Entrata itself only gives a Windows-style
/// name via getMitsPropertyUnits, e.g. "Eastern Standard Time (GMT -0500)", a web service
/// the sandbox's API user is not granted until `grant_method("getMitsPropertyUnits")`).
pub const PROPERTY_ZONES: &[(&str, &str)] = &[
    (PROPERTY_NY, "America/New_York"),
    (PROPERTY_CHI, "America/Chicago"),
    (PROPERTY_LA, "America/Los_Angeles"),
];

// ---- Entrata leases and customers

/// Lease 1001 (property 100, unit 101): Current, renewed (two intervals), move-in
/// 08/01/2025. Customers 5001 Alice Nguyen (Primary), 5002 Bob Okafor (Occupant, own
/// move-out 12/15/2026, earlier than the lease's), 5003 Gina Nguyen (Guarantor: no
/// access), 5014 Milo Brandt (Co-Applicant, Future, own move-in 12/07/2026).
pub const LEASE_RENEWAL: &str = "1001";
/// Lease 1002 (property 100, unit 102): Future, move-in 03/14/2027, the US spring-forward
/// day. Customer 5004 Dana Whitfield.
pub const LEASE_DST_MOVE_IN: &str = "1002";
/// Lease 1003 (property 100, unit 103): Notice, move-out 12/31/2026. Customer 5005 Evan
/// Brooks (a single customer sent as an object, not a list: the one-or-many quirk).
pub const LEASE_NOTICE: &str = "1003";
/// Lease 1004 (property 100, unit 104): Past, moved out 10/31/2026. Customer 5006 Fay
/// Former, who still has Brivo user 15540003 in group 7101, made by an earlier version
/// that keyed residents by property (`sync:entrata:100:5006`); a sync gives it the
/// resident's id, `sync:entrata:5006`.
pub const LEASE_PAST: &str = "1004";
/// Lease 2001 (property 200, unit 201): Applicant. Customer 5007 Gus Hale.
pub const LEASE_APPLICANT: &str = "2001";
/// Lease 2002 (property 200, unit 202): Cancelled. Customer 5008 Hana Sato.
pub const LEASE_CANCELLED: &str = "2002";
/// Lease 2003 (property 200, unit 203): Notice, move-out 12/05/2026, transferring out.
/// Customer 5009 Ivan Petrov.
pub const LEASE_TRANSFER_FROM: &str = "2003";
/// Lease 3001 (property 300, unit 301): Future, move-in 12/01/2026, the transfer target
/// (interval type 5 "Transfer"). Same customer 5009 Ivan Petrov: the windows overlap
/// 12/01–12/05.
pub const LEASE_TRANSFER_TO: &str = "3001";
/// Lease 3002 (property 300, unit 302): Future, move-in 11/30/2026. Customers 5010 Jack
/// Moreno (Primary), 5011 Kim Moreno (Co-Applicant).
pub const LEASE_MOVE_IN: &str = "3002";
/// Lease 3003 (property 300, unit 303): Current, month-to-month, no move-out date
/// (perpetual). Customers 5012 Leo Park (Primary), 5013 Cara Voss (Occupant, Cancelled, no
/// move-out date), 5015 Rhea Lund (Co-Applicant, Past, own move-out 11/20/2026).
pub const LEASE_PERPETUAL: &str = "3003";

/// Customer 5001 Alice Nguyen, Primary on [`LEASE_RENEWAL`].
pub const CUSTOMER_ALICE: &str = "5001";
/// Customer 5002 Bob Okafor, Occupant on [`LEASE_RENEWAL`], moving out early.
pub const CUSTOMER_ROOMMATE: &str = "5002";
/// Customer 5003 Gina Nguyen, Guarantor on [`LEASE_RENEWAL`].
pub const CUSTOMER_GUARANTOR: &str = "5003";
/// Customer 5006 Fay Former, on the Past lease [`LEASE_PAST`].
pub const CUSTOMER_FORMER: &str = "5006";
/// Customer 5009 Ivan Petrov, transferring from property 200 to 300.
pub const CUSTOMER_TRANSFER: &str = "5009";
/// Customer 5013 Cara Voss, Occupant on the Current lease [`LEASE_PERPETUAL`] with her own
/// `leaseCustomerStatus` "Cancelled" and no move-out date: she must get NOTHING, although
/// her lease is Current (real Current leases carry such residents, `entrata.md` §0.1).
pub const CUSTOMER_CANCELLED_ON_CURRENT: &str = "5013";
/// Customer 5014 Milo Brandt, Co-Applicant on the Current lease [`LEASE_RENEWAL`], "Future"
/// with his own `moveInDate` 12/07/2026 (the lease's is 08/01/2025): access starts
/// 2026-12-07 10:00 America/New_York, not with the lease.
pub const CUSTOMER_FUTURE_COAPPLICANT: &str = "5014";
/// Customer 5015 Rhea Lund, Co-Applicant on the Current lease [`LEASE_PERPETUAL`], "Past"
/// with her own `moveOutDate` 11/20/2026: access ended 2026-11-20 16:00
/// America/Los_Angeles, so she has none from "today" on.
pub const CUSTOMER_PAST_COAPPLICANT: &str = "5015";

// ---- OfficeRnD (24-hex ObjectIds)

/// OfficeRnD location "Mile High Works" (timezone America/Denver).
pub const LOCATION_DENVER: &str = "64b00000000000000000a001";
/// The location's IANA zone.
pub const LOCATION_ZONE: &str = "America/Denver";
/// Floor "Fl-02".
pub const FLOOR_2: &str = "64b00000000000000000f002";
/// Assignable private office "Office 201" (type `team_room`) on floor 2.
pub const RESOURCE_OFFICE_201: &str = "64b00000000000000000e201";
/// Assignable dedicated desk "Desk 7" (type `desk`) on floor 2.
pub const RESOURCE_DESK_7: &str = "64b00000000000000000e007";
/// Bookable meeting room "Summit Room" (type `meeting_room`) on floor 2.
pub const RESOURCE_SUMMIT_ROOM: &str = "64b00000000000000000e301";
/// Plan "Dedicated Desk".
pub const PLAN_DEDICATED_DESK: &str = "64b00000000000000000b001";
/// Plan "Private Office".
pub const PLAN_PRIVATE_OFFICE: &str = "64b00000000000000000b002";
/// Plan "Hot Desk".
pub const PLAN_HOT_DESK: &str = "64b00000000000000000b003";
/// Plan "Day Pass 5-Pack" (one-off).
pub const PLAN_DAY_PASS: &str = "64b00000000000000000b004";
/// Company "Acme Robotics" (members Maya and Noah; company membership with no member).
pub const COMPANY_ACME: &str = "64b00000000000000000c001";
/// Member Maya Lopez (Acme).
pub const MEMBER_MAYA: &str = "64b00000000000000000d001";
/// Member Noah Kim (Acme).
pub const MEMBER_NOAH: &str = "64b00000000000000000d002";
/// Member Olivia Chen (personal dedicated-desk membership).
pub const MEMBER_OLIVIA: &str = "64b00000000000000000d003";
/// Member Pete Ruiz (Blue Owl Studio; membership not approved; exhausted day passes).
pub const MEMBER_PETE: &str = "64b00000000000000000d004";
/// Member Quinn Day (day passes with uses left).
pub const MEMBER_QUINN: &str = "64b00000000000000000d005";
/// Booking with a visitor: Pete, Summit Room, 2026-12-02 15:00–16:00 Denver.
pub const BOOKING_WITH_VISITOR: &str = "64b0000000000000000bb001";
/// Recurring weekly booking: Maya, Summit Room, Thursdays 09:00–10:00 Denver, 4 times
/// from 2027-03-04, crossing the 2027-03-14 spring-forward.
pub const BOOKING_RECURRING: &str = "64b0000000000000000bb002";
/// Cancelled booking: Noah, Summit Room, 2026-11-30.
pub const BOOKING_CANCELLED: &str = "64b0000000000000000bb003";

// ---- Brivo

/// Brivo site of Harbor View (property 100).
pub const SITE_NY: i64 = 9100;
/// Brivo site of Prairie Commons (property 200).
pub const SITE_CHI: i64 = 9200;
/// Brivo site of Sunset Terrace (property 300).
pub const SITE_LA: i64 = 9300;
/// Brivo site of Mile High Works.
pub const SITE_DENVER: i64 = 9400;
/// Managed: residents of property 100.
pub const GROUP_HARBOR_VIEW_RESIDENTS: i64 = 7101;
/// Managed: fitness room of property 100.
pub const GROUP_HARBOR_VIEW_FITNESS: i64 = 7102;
/// Managed: residents of property 200.
pub const GROUP_PRAIRIE_RESIDENTS: i64 = 7201;
/// Managed: residents of property 300.
pub const GROUP_SUNSET_RESIDENTS: i64 = 7301;
/// Managed: the coworking location (every active member).
pub const GROUP_MHW_MEMBERS: i64 = 7401;
/// Managed: floor 2.
pub const GROUP_MHW_FLOOR_2: i64 = 7402;
/// Managed: Office 201.
pub const GROUP_MHW_OFFICE_201: i64 = 7403;
/// Managed: Desk 7.
pub const GROUP_MHW_DESK_7: i64 = 7404;
/// The directory platform's door group (Connect HQ, pushed over SCIM):
/// managed only where a config maps [`DIRECTORY_CONNECT`] to it.
pub const GROUP_CONNECT_MEMBERS: i64 = 7501;
/// The directory id of the Connect-style platform that pushes users over
/// SCIM (`mappings.directories`, `server.scim_directory`).
pub const DIRECTORY_CONNECT: &str = "connect-hq";
/// Managed: the Summit meeting room.
pub const GROUP_MHW_SUMMIT_ROOM: i64 = 7405;
/// Managed: day-pass holders.
pub const GROUP_MHW_DAY_PASS: i64 = 7406;
/// Managed: plan "Dedicated Desk".
pub const GROUP_MHW_DEDICATED_DESK_PLAN: i64 = 7407;
/// Managed: plan "Private Office".
pub const GROUP_MHW_PRIVATE_OFFICE_PLAN: i64 = 7408;
/// Unmanaged: building staff (Sam, Terry). Never to be written.
pub const GROUP_BUILDING_STAFF: i64 = 7901;
/// Unmanaged, with a name containing "Harbor View Residents" (contains-filter trap).
pub const GROUP_ARCHIVE: i64 = 7902;
/// Every managed group.
pub const MANAGED_GROUPS: &[i64] = &[
    GROUP_HARBOR_VIEW_RESIDENTS,
    GROUP_HARBOR_VIEW_FITNESS,
    GROUP_PRAIRIE_RESIDENTS,
    GROUP_SUNSET_RESIDENTS,
    GROUP_MHW_MEMBERS,
    GROUP_MHW_FLOOR_2,
    GROUP_MHW_OFFICE_201,
    GROUP_MHW_DESK_7,
    GROUP_MHW_SUMMIT_ROOM,
    GROUP_MHW_DAY_PASS,
    GROUP_MHW_DEDICATED_DESK_PLAN,
    GROUP_MHW_PRIVATE_OFFICE_PLAN,
];
/// Unowned user Sam Staff (no externalId), only in the unmanaged staff group.
pub const USER_SAM_STAFF: i64 = 15540001;
/// Unowned user Terry Tech (no externalId), in the staff group AND in managed group 7101.
pub const USER_TERRY_TECH: i64 = 15540002;
/// Owned user Fay Former (`sync:entrata:100:5006`, the earlier form keyed by property),
/// a past tenant still in 7101 and 7102.
pub const USER_FAY_FORMER: i64 = 15540003;
/// Unowned, suspended user Uma Archive, only in the unmanaged archive group.
pub const USER_UMA_ARCHIVE: i64 = 15540004;
/// The externalId of the pre-existing owned user, as an earlier version (one user per
/// resident and property) wrote it.
pub const FORMER_TENANT_EXTERNAL_ID: &str = "sync:entrata:100:5006";

/// Suggested mapping from Entrata property id to Brivo groups.
pub fn property_groups() -> Vec<(&'static str, Vec<i64>)> {
    vec![
        (
            PROPERTY_NY,
            vec![GROUP_HARBOR_VIEW_RESIDENTS, GROUP_HARBOR_VIEW_FITNESS],
        ),
        (PROPERTY_CHI, vec![GROUP_PRAIRIE_RESIDENTS]),
        (PROPERTY_LA, vec![GROUP_SUNSET_RESIDENTS]),
    ]
}

/// Suggested mapping from OfficeRnD ids (location, floor, resource, plan, "day-pass") to
/// Brivo groups.
pub fn officernd_groups() -> Vec<(&'static str, Vec<i64>)> {
    vec![
        (LOCATION_DENVER, vec![GROUP_MHW_MEMBERS]),
        (FLOOR_2, vec![GROUP_MHW_FLOOR_2]),
        (RESOURCE_OFFICE_201, vec![GROUP_MHW_OFFICE_201]),
        (RESOURCE_DESK_7, vec![GROUP_MHW_DESK_7]),
        (RESOURCE_SUMMIT_ROOM, vec![GROUP_MHW_SUMMIT_ROOM]),
        (PLAN_DEDICATED_DESK, vec![GROUP_MHW_DEDICATED_DESK_PLAN]),
        (PLAN_PRIVATE_OFFICE, vec![GROUP_MHW_PRIVATE_OFFICE_PLAN]),
        ("day-pass", vec![GROUP_MHW_DAY_PASS]),
    ]
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("story instants are valid UTC times")
}

/// The instants worth running a sync at, in order, with a label saying what changes.
///
/// ```
/// for (label, at) in sandbox::story::instants() {
///     // e.g. run the sync with `now = at`
///     assert!(!label.is_empty() && at.timestamp() > 0);
/// }
/// ```
pub fn instants() -> Vec<(&'static str, DateTime<Utc>)> {
    vec![
        // 09:00 PST on 2026-11-23 ("today"): before any move-in. Fay (Past) should leave
        // 7101/7102; Alice, Bob, Evan, Ivan (at 200) and Leo have access; Jack, Kim and
        // Milo not yet; Cara (Cancelled) never; Rhea's window ended 11/20.
        ("today, before the move-ins", utc(2026, 11, 23, 17, 0)),
        // 09:59 PST on 2026-11-30: one minute before Jack and Kim's window opens.
        ("move-in day 09:59 Los Angeles", utc(2026, 11, 30, 17, 59)),
        // 10:00 PST on 2026-11-30: Jack and Kim (lease 3002) join 7301.
        ("move-in day 10:00 Los Angeles", utc(2026, 11, 30, 18, 0)),
        // 2026-12-02 14:45 MST: 15 min before Pete's Summit Room booking with a visitor.
        ("meeting-room booking lead time", utc(2026, 12, 2, 21, 45)),
        // 2026-12-03 11:00 PST: Ivan holds both leases (200 until 12/05, 300 from 12/01).
        ("transfer overlap", utc(2026, 12, 3, 19, 0)),
        // 2026-12-07 10:00 EST: Milo, a Future co-applicant on Current lease 1001, starts on
        // his own move-in date, not the lease's.
        (
            "co-applicant's own move-in 10:00 New York",
            utc(2026, 12, 7, 15, 0),
        ),
        // 2026-12-16 10:00 EST: Bob moved out 12/15 (16:00), Alice stays.
        (
            "after the roommate's early move-out",
            utc(2026, 12, 16, 15, 0),
        ),
        // 2027-01-02 10:00 EST: Evan's Notice lease ended 12/31/2026 16:00.
        ("after a move-out", utc(2027, 1, 2, 15, 0)),
        // 2027-03-14 10:00 EDT (UTC-4 since 02:00 that day): Dana's move-in on the
        // spring-forward day. 10:00 EST would be 15:00Z: an hour late.
        (
            "move-in on the DST change day 10:00 New York",
            utc(2027, 3, 14, 14, 0),
        ),
        // 2027-03-18 09:00 MDT (UTC-6): the recurring Thursday booking after the change;
        // the 2027-03-11 occurrence was at 16:00Z (MST).
        (
            "recurring booking after DST 09:00 Denver",
            utc(2027, 3, 18, 15, 0),
        ),
    ]
}
