//! Local wall-clock time to UTC instants, the way the access rules need it.
//!
//! Every date or time in a fact is local to the place it belongs to (a
//! property's or a location's IANA zone). [`resolve`] turns one into an
//! instant and never panics, whatever daylight saving does that day.
//!
//! # The rule
//!
//! * A local time that does not exist (a *gap*, spring forward) resolves to
//!   the first instant after the gap ([`chrono_tz::GapInfo`]'s `end`): the
//!   first instant at which the wall clock reads at or past it. Never rebuilt
//!   from offsets (that breaks on Europe/Dublin's negative DST).
//! * A local time that exists twice (a *fold*, fall back) resolves to the
//!   earlier instant for a [`Edge::Start`] and to the later one for an
//!   [`Edge::End`], so nobody loses a minute the wall clock promised.
//! * An inclusive end *date* ends at the start of the next local day, resolved
//!   as an end: in a zone whose fold sits at midnight (America/Havana,
//!   2026-11-01) that is the *later* midnight. This is a deliberate choice.
//!
//! Compared with jiff's strategies on America/New_York (tzdb 2025b):
//!
//! | local time | kind | jiff `Compatible` | jiff `Earlier` | **ours** |
//! |---|---|---|---|---|
//! | 2026-03-08 02:30 | gap (02:00→03:00 at 07:00Z) | 07:30Z | 06:30Z | **07:00Z** (start and end) |
//! | 2026-11-01 01:30 | fold (01:00–02:00 twice) | 05:30Z | 05:30Z | start **05:30Z**, end **06:30Z** |
//!
//! ```
//! use access_engine::time::{resolve, Edge};
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use chrono_tz::America::New_York;
//!
//! let at = |d: u32, m: u32, h: u32, mi: u32| {
//!     NaiveDate::from_ymd_opt(2026, m, d).unwrap().and_hms_opt(h, mi, 0).unwrap()
//! };
//! let utc = |m: u32, d: u32, h: u32, mi: u32| Utc.with_ymd_and_hms(2026, m, d, h, mi, 0).unwrap();
//! // Gap: 02:30 does not exist; the door opens (or closes) at 03:00 EDT.
//! assert_eq!(resolve(New_York, at(8, 3, 2, 30), Edge::Start), utc(3, 8, 7, 0));
//! assert_eq!(resolve(New_York, at(8, 3, 2, 30), Edge::End), utc(3, 8, 7, 0));
//! // Fold: 01:30 happens twice; a start takes the first, an end the second.
//! assert_eq!(resolve(New_York, at(1, 11, 1, 30), Edge::Start), utc(11, 1, 5, 30));
//! assert_eq!(resolve(New_York, at(1, 11, 1, 30), Edge::End), utc(11, 1, 6, 30));
//! ```

use chrono::{
    DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::{GapInfo, Tz};
use serde::{Deserialize, Serialize};

/// Which edge of a window a local time is: it decides the instant in a fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Edge {
    /// The start of a window: in a fold, the earlier instant.
    Start,
    /// The end of a window: in a fold, the later instant.
    End,
}

/// Resolves a local wall-clock time in `tz` to a UTC instant (see the module docs
/// for the gap and fold rule). Never panics.
pub fn resolve(tz: Tz, local: NaiveDateTime, edge: Edge) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            match edge {
                Edge::Start => a.min(b),
                Edge::End => a.max(b),
            }
        }
        LocalResult::None => match GapInfo::new(&local, &tz).and_then(|gap| gap.end) {
            Some(end) => end.with_timezone(&Utc),
            None => fallback(tz, local),
        },
    }
}

/// Only reached at the very limits of the representable range (chrono reports
/// overflow as "no such local time"): use the offset in force at that instant.
fn fallback(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let offset = tz.offset_from_utc_datetime(&local).fix().local_minus_utc();
    let utc = local
        .checked_sub_signed(TimeDelta::seconds(i64::from(offset)))
        .unwrap_or(local);
    Utc.from_utc_datetime(&utc)
}

/// The first instant of local day `date` (its midnight, or the end of a gap at midnight).
pub fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    resolve(tz, date.and_time(NaiveTime::MIN), Edge::Start)
}

/// The end of an inclusive local end date: the start of the next local day,
/// resolved as an [`Edge::End`] (the later midnight in a midnight fold).
/// `None` (perpetual) only for the last representable date.
pub fn end_of_inclusive_date(tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    date.succ_opt()
        .map(|next| resolve(tz, next.and_time(NaiveTime::MIN), Edge::End))
}

/// Parses an IANA zone name (case-sensitive, as tzdb spells it).
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}
