//! Local dates and times in a location's zone, resolved to UTC by the
//! workspace's daylight-saving rule.
//!
//! - A local time in a **gap** (spring forward) resolves to the first instant
//!   after the gap (`chrono_tz::GapInfo`'s end): 02:30 on 2026-03-08 in New
//!   York is 03:00 EDT (07:00Z). This is deliberate, not RFC 5545's
//!   "compatible" rule: a door opens as soon as the promised wall time has
//!   passed, and closes then too.
//! - A local time in a **fold** (fall back) resolves to the earlier instant
//!   for a start and the later for an end, so nobody loses a minute.
//!
//! | local time (America/New_York) | kind | start | end |
//! |---|---|---|---|
//! | 2026-03-08 02:30 | gap  | 07:00Z | 07:00Z |
//! | 2026-11-01 01:30 | fold | 05:30Z | 06:30Z |
//!
//! ```
//! use chrono::NaiveDate;
//! use chrono_tz::America::New_York;
//! use officernd_client::time::{Edge, resolve_local};
//!
//! let gap = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap().and_hms_opt(2, 30, 0).unwrap();
//! assert_eq!(resolve_local(New_York, gap, Edge::Start).unwrap().to_rfc3339(), "2026-03-08T07:00:00+00:00");
//! let fold = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(1, 30, 0).unwrap();
//! assert_eq!(resolve_local(New_York, fold, Edge::Start).unwrap().to_rfc3339(), "2026-11-01T05:30:00+00:00");
//! assert_eq!(resolve_local(New_York, fold, Edge::End).unwrap().to_rfc3339(), "2026-11-01T06:30:00+00:00");
//! ```

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::{GapInfo, Tz};

use crate::error::{Error, Result};

/// Which end of a window a local time is: decides a fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// A start: the earlier instant in a fold.
    Start,
    /// An end: the later instant in a fold.
    End,
}

/// Resolves a local wall time in `tz` to a UTC instant (see the module docs
/// for gaps and folds). Never panics; errs only outside the zone data.
pub fn resolve_local(tz: Tz, local: NaiveDateTime, edge: Edge) -> Result<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(early, late) => Ok(match edge {
            Edge::Start => early,
            Edge::End => late,
        }
        .with_timezone(&Utc)),
        LocalResult::None => GapInfo::new(&local, &tz)
            .and_then(|gap| gap.end)
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| Error::UnresolvableLocalTime {
                local,
                zone: tz.name().to_string(),
            }),
    }
}

/// The half-open UTC window `[start, end)` of local day `date` in `tz`:
/// from its first instant to the first instant of the next day (by
/// [`resolve_local`]: a midnight in a gap resolves to the gap's end; a
/// midnight fold gives the earlier start and the later end).
///
/// ```
/// use chrono::NaiveDate;
/// use officernd_client::time::local_day;
///
/// let (start, end) = local_day(chrono_tz::Europe::Lisbon, NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()).unwrap();
/// assert_eq!((end - start).num_hours(), 23); // spring forward
/// ```
pub fn local_day(tz: Tz, date: NaiveDate) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let start = resolve_local(tz, date.and_time(NaiveTime::MIN), Edge::Start)?;
    let next = date.succ_opt().ok_or(Error::UnresolvableLocalTime {
        local: date.and_time(NaiveTime::MIN),
        zone: tz.name().to_string(),
    })?;
    let end = resolve_local(tz, next.and_time(NaiveTime::MIN), Edge::End)?;
    Ok((start, end))
}

/// The half-open UTC window of the local dates `start..=end` in `tz`: from
/// the start of `start` to the start of the day after `end` (`None`:
/// open-ended). This is how membership, assignment and pass dates become
/// instants.
///
/// ```
/// use chrono::NaiveDate;
/// use officernd_client::time::dates_window;
///
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let (from, to) = dates_window(chrono_tz::Europe::Lisbon, d(1, 1), Some(d(6, 30))).unwrap();
/// assert_eq!(from.to_rfc3339(), "2026-01-01T00:00:00+00:00");
/// assert_eq!(to.unwrap().to_rfc3339(), "2026-06-30T23:00:00+00:00"); // midnight WEST
/// ```
pub fn dates_window(
    tz: Tz,
    start: NaiveDate,
    end_inclusive: Option<NaiveDate>,
) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>)> {
    let (from, _) = local_day(tz, start)?;
    let to = match end_inclusive {
        Some(end) => Some(local_day(tz, end)?.1),
        None => None,
    };
    Ok((from, to))
}

/// Today's local date in `tz` at instant `now`.
pub fn local_date(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn dt(y: i32, m: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    #[test]
    fn midnight_gap_and_fold_zones() {
        // America/Havana: midnight gap 2026-03-08 and midnight fold 2026-11-01 (tzdb 2025b)
        let havana = chrono_tz::America::Havana;
        let t = resolve_local(havana, dt(2026, 3, 8, 0, 0), Edge::Start).unwrap();
        assert_eq!(t.with_timezone(&havana).hour(), 1);
        let (s, e) = local_day(havana, NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()).unwrap();
        assert_eq!(
            (e - s).num_hours(),
            25,
            "later midnight ends the day before a midnight fold"
        );
        // Lord Howe: 30-minute gap
        let lh = chrono_tz::Australia::Lord_Howe;
        let t = resolve_local(lh, dt(2026, 10, 4, 2, 15), Edge::Start).unwrap();
        let wall = t.with_timezone(&lh);
        assert_eq!((wall.hour(), wall.minute()), (2, 30));
    }
}
