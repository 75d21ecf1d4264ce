//! Expanding recurring bookings into occurrences.
//!
//! OfficeRnD stores a recurring booking once: `start`/`end` are the first
//! occurrence and `recurrence.rrule` (+ `exdates`) the series. It does not
//! materialize later occurrences in `GET /bookings`, so this module expands
//! them, in the booking's `timezone`:
//!
//! - Date arithmetic is done on local dates (never by adding 24 h or
//!   7 × 24 h), then each occurrence's local start and end are resolved to
//!   UTC once with [`crate::time::resolve_local`]: a weekly 09:00 booking is
//!   at 09:00 local on both sides of a DST change.
//! - The first occurrence is the booking's own `start` (RFC 5545: DTSTART is
//!   always the first instance, and counts towards `COUNT`).
//! - An `exdate` removes the occurrence on the same local date.
//!
//! Supported RRULE subset (what OfficeRnD emits): `FREQ=DAILY|WEEKLY|MONTHLY`,
//! `INTERVAL`, `BYDAY` (weekly: `MO,WE`; monthly: also `2TU`, `-1FR`),
//! `BYMONTHDAY`, `COUNT`, `UNTIL` (`20241231T130000Z`, floating
//! `20241231T130000`, or `20241231`), `WKST=MO` (or any `WKST` when
//! `INTERVAL=1`). Anything else is an [`Error::UnsupportedRecurrence`] for
//! that booking: nothing is guessed.
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use officernd_client::models::Booking;
//! use officernd_client::recurrence::expand;
//!
//! let booking: Booking = serde_json::from_str(r#"{
//!   "_id": "603dfbc260f4054084125d39", "timezone": "Europe/London",
//!   "start": "2026-10-19T08:00:00.000Z", "end": "2026-10-19T09:00:00.000Z",
//!   "resource": "603dfbc260f4054084125d40",
//!   "recurrence": { "rrule": "FREQ=WEEKLY;COUNT=3" }
//! }"#).unwrap();
//! let from: DateTime<Utc> = "2026-10-01T00:00:00Z".parse().unwrap();
//! let to: DateTime<Utc> = "2026-12-01T00:00:00Z".parse().unwrap();
//! let starts: Vec<String> = expand(&booking, from, to).unwrap()
//!     .iter().map(|o| o.start.to_rfc3339()).collect();
//! // 09:00 London every Monday: BST, then GMT after 25 October
//! assert_eq!(starts, [
//!     "2026-10-19T08:00:00+00:00",
//!     "2026-10-26T09:00:00+00:00",
//!     "2026-11-02T09:00:00+00:00",
//! ]);
//! ```

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, Utc, Weekday};
use chrono_tz::Tz;

use crate::error::{Error, Result};
use crate::models::{Booking, BookingOccurrence};
use crate::time::{Edge, resolve_local};

/// Recurrence frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frequency {
    /// `DAILY`
    Daily,
    /// `WEEKLY`
    Weekly,
    /// `MONTHLY`
    Monthly,
}

/// When a series ends (`UNTIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Until {
    /// An instant (`...Z`): occurrences starting after it are not part.
    Instant(DateTime<Utc>),
    /// A floating local date-time, read in the booking's zone.
    Local(NaiveDateTime),
    /// A date: occurrences on local dates after it are not part.
    Date(NaiveDate),
}

/// A parsed RRULE (the supported subset).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RRule {
    /// `FREQ`
    pub freq: Frequency,
    /// `INTERVAL` (default 1)
    pub interval: u32,
    /// `BYDAY` as (ordinal, weekday); ordinals only with `MONTHLY`.
    pub by_day: Vec<(Option<i32>, Weekday)>,
    /// `BYMONTHDAY` (negative counts from the month's end).
    pub by_month_day: Vec<i32>,
    /// `COUNT`
    pub count: Option<u32>,
    /// `UNTIL`
    pub until: Option<Until>,
}

impl RRule {
    /// Parses the supported subset; the error says what is unsupported.
    ///
    /// Accepts a bare rule or one prefixed `RRULE:`, and ignores a
    /// `DTSTART` line (the booking's `start` is the series start).
    pub fn parse(rule: &str) -> std::result::Result<Self, String> {
        let mut lines = rule
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.to_ascii_uppercase().starts_with("DTSTART"));
        let line = lines.next().ok_or("empty rule")?;
        if let Some(extra) = lines.next() {
            // e.g. an EXDATE or RDATE line: not understood, so not ignored
            return Err(format!("extra line `{extra}` is not supported"));
        }
        let line = line
            .strip_prefix("RRULE:")
            .or_else(|| line.strip_prefix("rrule:"))
            .unwrap_or(line);
        let mut freq = None;
        let mut interval = 1u32;
        let mut by_day = Vec::new();
        let mut by_month_day = Vec::new();
        let mut count = None;
        let mut until = None;
        let mut wkst_monday = true;
        for part in line.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not KEY=VALUE"))?;
            let value = value.trim();
            match key.trim().to_ascii_uppercase().as_str() {
                "FREQ" => {
                    freq = Some(match value.to_ascii_uppercase().as_str() {
                        "DAILY" => Frequency::Daily,
                        "WEEKLY" => Frequency::Weekly,
                        "MONTHLY" => Frequency::Monthly,
                        other => return Err(format!("FREQ={other} is not supported")),
                    })
                }
                "INTERVAL" => {
                    interval = value
                        .parse::<u32>()
                        .ok()
                        .filter(|i| *i >= 1)
                        .ok_or_else(|| format!("INTERVAL={value} is not a positive integer"))?
                }
                "COUNT" => {
                    count = Some(
                        value
                            .parse::<u32>()
                            .map_err(|_| format!("COUNT={value} is not a number"))?,
                    )
                }
                "UNTIL" => until = Some(parse_until(value)?),
                "BYDAY" => {
                    for d in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
                        by_day.push(parse_by_day(d)?);
                    }
                }
                "BYMONTHDAY" => {
                    for d in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
                        let n = d
                            .parse::<i32>()
                            .ok()
                            .filter(|n| *n != 0 && (-31..=31).contains(n))
                            .ok_or_else(|| format!("BYMONTHDAY={d} is not a day of month"))?;
                        by_month_day.push(n);
                    }
                }
                "WKST" => wkst_monday = value.eq_ignore_ascii_case("MO"),
                other => return Err(format!("{other} is not supported")),
            }
        }
        let freq = freq.ok_or("FREQ is missing")?;
        if !wkst_monday && interval > 1 && freq == Frequency::Weekly {
            return Err("WKST other than MO with INTERVAL > 1 is not supported".into());
        }
        if freq != Frequency::Monthly && by_day.iter().any(|(n, _)| n.is_some()) {
            return Err("BYDAY with an ordinal is supported with FREQ=MONTHLY only".into());
        }
        if freq != Frequency::Monthly && !by_month_day.is_empty() {
            return Err("BYMONTHDAY is supported with FREQ=MONTHLY only".into());
        }
        if !by_day.is_empty() && !by_month_day.is_empty() {
            return Err("BYDAY together with BYMONTHDAY is not supported".into());
        }
        Ok(Self {
            freq,
            interval,
            by_day,
            by_month_day,
            count,
            until,
        })
    }

    /// The candidate local dates of period `k` (0-based) of a series that
    /// starts on `start`, ascending.
    fn period(&self, start: NaiveDate, k: u32) -> Option<(NaiveDate, Vec<NaiveDate>)> {
        let step = k.checked_mul(self.interval)?;
        match self.freq {
            Frequency::Daily => {
                let d = start.checked_add_days(Days::new(u64::from(step)))?;
                let keep =
                    self.by_day.is_empty() || self.by_day.iter().any(|(_, w)| *w == d.weekday());
                Some((d, if keep { vec![d] } else { vec![] }))
            }
            Frequency::Weekly => {
                let monday = start
                    .checked_sub_days(Days::new(u64::from(start.weekday().num_days_from_monday())))?
                    .checked_add_days(Days::new(u64::from(step) * 7))?;
                let mut days: Vec<NaiveDate> = if self.by_day.is_empty() {
                    vec![monday.checked_add_days(Days::new(u64::from(
                        start.weekday().num_days_from_monday(),
                    )))?]
                } else {
                    self.by_day
                        .iter()
                        .filter_map(|(_, w)| {
                            monday.checked_add_days(Days::new(u64::from(w.num_days_from_monday())))
                        })
                        .collect()
                };
                days.sort();
                days.dedup();
                Some((monday, days))
            }
            Frequency::Monthly => {
                let first = start.with_day(1)?.checked_add_months(Months::new(step))?;
                let last = first.checked_add_months(Months::new(1))?.pred_opt()?;
                let len = last.day() as i32;
                let mut days: Vec<NaiveDate> = Vec::new();
                if !self.by_month_day.is_empty() {
                    for n in &self.by_month_day {
                        let day = if *n > 0 { *n } else { len + 1 + n };
                        if (1..=len).contains(&day) {
                            days.extend(first.with_day(day as u32));
                        }
                    }
                } else if !self.by_day.is_empty() {
                    for (ord, w) in &self.by_day {
                        let all: Vec<NaiveDate> = first
                            .iter_days()
                            .take_while(|d| *d <= last)
                            .filter(|d| d.weekday() == *w)
                            .collect();
                        match ord {
                            None => days.extend(all),
                            Some(n) if *n > 0 => days.extend(all.get(*n as usize - 1)),
                            Some(n) => {
                                let back = n.unsigned_abs() as usize;
                                if back <= all.len() {
                                    days.push(all[all.len() - back]);
                                }
                            }
                        }
                    }
                } else {
                    days.extend(first.with_day(start.day()));
                }
                days.sort();
                days.dedup();
                Some((first, days))
            }
        }
    }
}

fn parse_by_day(d: &str) -> std::result::Result<(Option<i32>, Weekday), String> {
    let upper = d.to_ascii_uppercase();
    if upper.len() < 2 {
        return Err(format!("BYDAY value `{d}` is not a weekday"));
    }
    let (ord, day) = upper.split_at(upper.len() - 2);
    let weekday = match day {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return Err(format!("BYDAY value `{d}` is not a weekday")),
    };
    let ord = if ord.is_empty() {
        None
    } else {
        Some(
            ord.trim_start_matches('+')
                .parse::<i32>()
                .ok()
                .filter(|n| *n != 0 && (-5..=5).contains(n))
                .ok_or_else(|| format!("BYDAY ordinal in `{d}` is not supported"))?,
        )
    };
    Ok((ord, weekday))
}

fn parse_until(v: &str) -> std::result::Result<Until, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Until::Instant(t.with_timezone(&Utc)));
    }
    if let Some(local) = v.strip_suffix('Z').or_else(|| v.strip_suffix('z'))
        && let Ok(t) = NaiveDateTime::parse_from_str(local, "%Y%m%dT%H%M%S")
    {
        return Ok(Until::Instant(t.and_utc()));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S") {
        return Ok(Until::Local(t));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y%m%d") {
        return Ok(Until::Date(d));
    }
    Err(format!("UNTIL={v} is not a date or date-time"))
}

/// A safety net against rules that never reach the window.
const MAX_PERIODS: u32 = 200_000;

/// The occurrences of `booking` that overlap `[from, to)`, in start order.
///
/// A non-recurring booking yields itself if it overlaps. Cancelled bookings
/// are included with [`BookingOccurrence::is_cancelled`] set (the caller
/// decides). A recurring booking without a usable `timezone`, or with an
/// unsupported rule, is an error for that booking alone.
pub fn expand(
    booking: &Booking,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<BookingOccurrence>> {
    let Some(rule_text) = booking
        .recurrence
        .as_ref()
        .and_then(|r| r.rrule.as_deref())
        .filter(|r| !r.trim().is_empty())
    else {
        let local = booking
            .timezone
            .map(|tz| booking.start.with_timezone(&tz).naive_local());
        return Ok(if booking.start < to && booking.end > from {
            vec![BookingOccurrence::of(
                booking,
                booking.start,
                booking.end,
                local,
            )]
        } else {
            vec![]
        });
    };
    let unsupported = |reason: String| Error::UnsupportedRecurrence {
        booking: booking.id.to_string(),
        rule: rule_text.to_string(),
        reason,
    };
    let rule = RRule::parse(rule_text).map_err(unsupported)?;
    let tz: Tz = booking.timezone.ok_or_else(|| Error::MissingTimezone {
        booking: booking.id.to_string(),
    })?;
    let local_start = booking.start.with_timezone(&tz).naive_local();
    let wall_length = booking.end.with_timezone(&tz).naive_local() - local_start;
    let start_date = local_start.date();
    let start_time = local_start.time();
    let excluded: Vec<NaiveDate> = booking
        .recurrence
        .iter()
        .flat_map(|r| &r.exdates)
        .map(|e| e.with_timezone(&tz).date_naive())
        .collect();
    let last_date = to.with_timezone(&tz).date_naive();

    let mut out = Vec::new();
    let mut emitted = 0u32;
    let mut first = true;
    'periods: for k in 0..MAX_PERIODS {
        let Some((period_start, mut dates)) = rule.period(start_date, k) else {
            break;
        };
        if period_start > last_date {
            break;
        }
        if first {
            // DTSTART is always the first instance
            dates.retain(|d| *d > start_date);
            dates.insert(0, start_date);
            first = false;
        } else {
            dates.retain(|d| *d > start_date);
        }
        for date in dates {
            if rule.count.is_some_and(|c| emitted >= c) {
                break 'periods;
            }
            let local = date.and_time(start_time);
            let start = resolve_local(tz, local, Edge::Start)?;
            match rule.until {
                Some(Until::Instant(u)) if start > u => break 'periods,
                Some(Until::Local(u)) if local > u => break 'periods,
                Some(Until::Date(u)) if date > u => break 'periods,
                _ => {}
            }
            emitted += 1;
            if start >= to {
                break 'periods;
            }
            if excluded.contains(&date) {
                continue;
            }
            let end = resolve_local(tz, local + wall_length, Edge::End)?;
            if end > from {
                out.push(BookingOccurrence::of(booking, start, end, Some(local)));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_subset_and_rejects_the_rest() {
        let r = RRule::parse("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;COUNT=10").unwrap();
        assert_eq!(r.freq, Frequency::Weekly);
        assert_eq!(r.interval, 2);
        assert_eq!(r.by_day.len(), 3);
        assert_eq!(r.count, Some(10));
        let r = RRule::parse("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20261231T000000Z").unwrap();
        assert_eq!(r.by_day, vec![(Some(-1), Weekday::Fri)]);
        assert!(matches!(r.until, Some(Until::Instant(_))));
        assert!(matches!(
            RRule::parse("FREQ=DAILY;UNTIL=20261231").unwrap().until,
            Some(Until::Date(_))
        ));
        assert!(RRule::parse("DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY").is_ok());
        assert!(RRule::parse("RRULE:FREQ=DAILY\nEXDATE:20260102T090000Z").is_err());
        for bad in [
            "FREQ=YEARLY",
            "FREQ=WEEKLY;BYSETPOS=1",
            "FREQ=WEEKLY;BYDAY=2MO",
            "FREQ=DAILY;INTERVAL=0",
            "BYDAY=MO",
            "FREQ=WEEKLY;BYDAY=XX",
            "FREQ=MONTHLY;BYMONTHDAY=32",
            "",
            "FREQ",
        ] {
            assert!(RRule::parse(bad).is_err(), "{bad}");
        }
    }
}
