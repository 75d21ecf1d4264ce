//! Tolerant deserializers for Entrata's XML-flavoured JSON.
//!
//! Entrata maps XML to JSON mechanically and is loose with types: the same
//! field may be a string, a number or a boolean, lists may be one object, an
//! array or an object keyed by id, and "no records" is a sentence. These
//! helpers are used with `#[serde(default, deserialize_with = "...")]`.
//!
//! Rule of thumb: descriptive fields (names, amounts, counts, flags) are
//! lenient and become `None` when unreadable; ids and dates are strict: an
//! unreadable value fails the record, which the enclosing tolerant list then
//! skips and reports ([`SkippedRecord`](crate::SkippedRecord)).

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use serde::Deserialize;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};
use serde_json::value::RawValue;

use crate::model::SkippedRecord;

// ---------------------------------------------------------------------------
// lenient text

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok((!v.is_empty()).then(|| v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok((!v.is_empty()).then_some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    /// `{"@value": "S1", "@attributes": {...}}` reads as its `@value`; any
    /// other object (e.g. markup turned into `{"b": "..."}`) as nothing.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "@value" {
                out = map.next_value_seed(TextSeed)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

struct TextSeed;
impl<'de> DeserializeSeed<'de> for TextSeed {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

/// Any scalar as text; empty, null, lists and objects as `None`.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(TextVisitor)
}

// ---------------------------------------------------------------------------
// ids (strict)

/// Reads an id: a non-negative integer, as a JSON number or a string of
/// digits. Empty and null are `None`; anything else is an error.
pub(crate) struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a numeric id (number or string of digits)")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom(format_args!("invalid id `{v}`: negative")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1.8e19 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(Some(v as u64))
        } else {
            Err(E::custom(format_args!("invalid id `{v}`")))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<u64>()
            .map(Some)
            .map_err(|_| E::custom(format_args!("invalid id {v:?}: not a number")))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// An optional id (see [`IdVisitor`]).
pub(crate) fn opt_id<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: From<u64>,
{
    Ok(d.deserialize_any(IdVisitor)?.map(T::from))
}

/// A required id: missing, empty or null is an error.
pub(crate) fn id<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: From<u64>,
{
    d.deserialize_any(IdVisitor)?
        .map(T::from)
        .ok_or_else(|| de::Error::custom("empty id"))
}

// ---------------------------------------------------------------------------
// numbers and flags (lenient)

struct NumVisitor;

impl<'de> Visitor<'de> for NumVisitor {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        #[allow(clippy::cast_precision_loss)]
        Ok(Some(v as f64))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        #[allow(clippy::cast_precision_loss)]
        Ok(Some(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.is_finite().then_some(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(if v { 1.0 } else { 0.0 }))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        let parsed = if t.contains(',') {
            t.replace(',', "").parse::<f64>().ok()
        } else {
            t.parse::<f64>().ok()
        };
        Ok(parsed.filter(|x| x.is_finite()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// A number from a JSON number or a numeric string (commas allowed);
/// unreadable values are `None`.
pub(crate) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_any(NumVisitor)
}

/// A count or small integer, leniently (floats are rounded; negative or
/// unreadable values are `None`).
pub(crate) fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(d.deserialize_any(NumVisitor)?.and_then(|x| {
        let r = x.round();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        (r >= 0.0 && r <= f64::from(u32::MAX)).then_some(r as u32)
    }))
}

struct BoolVisitor;

impl<'de> Visitor<'de> for BoolVisitor {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean-like value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(match v {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        })
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(match v {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(if v == 0.0 {
            Some(false)
        } else if v == 1.0 {
            Some(true)
        } else {
            None
        })
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(parse_bool(v))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// `1/0`, `"1"/"0"`, `"t"/"f"`, `"true"/"false"`, `"yes"/"no"`, `true/false`.
pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    let t = v.trim();
    if ["1", "t", "true", "y", "yes", "on"]
        .iter()
        .any(|s| t.eq_ignore_ascii_case(s))
    {
        Some(true)
    } else if ["0", "f", "false", "n", "no", "off"]
        .iter()
        .any(|s| t.eq_ignore_ascii_case(s))
    {
        Some(false)
    } else {
        None
    }
}

/// A boolean-ish flag; unreadable values are `None`.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(BoolVisitor)
}

// ---------------------------------------------------------------------------
// dates and timestamps (strict)

/// Parses an Entrata date: `MM/DD/YYYY` (also `M/D/YYYY`, `MM/DD/YY` and ISO
/// `YYYY-MM-DD`). Returns `Ok(None)` for empty values, placeholders
/// (`"MM/DD/YYYY"`, `"00/00/0000"`) and `12/31/1969`, the rendering of a
/// null date in Mountain time.
pub(crate) fn parse_date(s: &str) -> Result<Option<NaiveDate>, String> {
    let t = s.trim();
    if t.is_empty() || is_placeholder(t) {
        return Ok(None);
    }
    let date =
        parse_date_inner(t).ok_or_else(|| format!("invalid date {s:?} (want MM/DD/YYYY)"))?;
    if date == NaiveDate::from_ymd_opt(1969, 12, 31).expect("valid constant date") {
        return Ok(None);
    }
    Ok(Some(date))
}

fn is_placeholder(t: &str) -> bool {
    t.bytes()
        .all(|b| matches!(b, b'0' | b'/' | b'-' | b':' | b' '))
        || t.bytes().all(|b| {
            matches!(
                b,
                b'M' | b'D' | b'Y' | b'm' | b'd' | b'y' | b'/' | b'-' | b'H' | b'S' | b':' | b' '
            )
        })
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_date_inner(t: &str) -> Option<NaiveDate> {
    if let Some((y, rest)) = t.split_once('-') {
        // ISO YYYY-MM-DD
        let (m, d) = rest.split_once('-')?;
        if y.len() != 4 {
            return None;
        }
        return NaiveDate::from_ymd_opt(digits(y)? as i32, digits(m)?, digits(d)?);
    }
    let mut parts = t.split('/');
    let m = digits(parts.next()?)?;
    let d = digits(parts.next()?)?;
    let y_str = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let y = match y_str.len() {
        4 => digits(y_str)? as i32,
        2 => {
            let yy = digits(y_str)? as i32;
            if yy < 70 { 2000 + yy } else { 1900 + yy }
        }
        _ => return None,
    };
    NaiveDate::from_ymd_opt(y, m, d)
}

struct DateVisitor;

impl<'de> Visitor<'de> for DateVisitor {
    type Value = Option<NaiveDate>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date as MM/DD/YYYY")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_date(v).map_err(E::custom)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// An optional `MM/DD/YYYY` date; an unreadable one fails the record.
pub(crate) fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    d.deserialize_any(DateVisitor)
}

/// The offset of a US time-zone abbreviation, as Entrata prints them.
fn zone_offset(abbr: &str) -> Option<FixedOffset> {
    let hours = match abbr.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "Z" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" | "AKDT" => -8,
        "AKST" => -9,
        "HST" => -10,
        _ => return None,
    };
    FixedOffset::east_opt(hours * 3600)
}

/// Parses an Entrata timestamp: `MM/DD/YYYY HH:MM:SS[.f{1,9}] [MDT|MST|…]`
/// (also with a `T` between date and time). Without a zone the time is
/// taken as Mountain time (`America/Denver`), Entrata's documented default.
pub(crate) fn parse_timestamp(s: &str) -> Result<Option<DateTime<FixedOffset>>, String> {
    let t = s.trim();
    if t.is_empty() || is_placeholder(t) {
        return Ok(None);
    }
    let bad = || format!("invalid timestamp {s:?} (want MM/DD/YYYY HH:MM:SS[.ffffff] MDT)");
    let (date_part, rest) = match t.find([' ', 'T']) {
        Some(i) => (&t[..i], t[i + 1..].trim()),
        None => (t, ""),
    };
    let date = parse_date_inner(date_part).ok_or_else(bad)?;
    let (time_part, zone) = match rest.split_once(' ') {
        Some((a, b)) => (a, Some(b.trim())),
        None => (rest, None),
    };
    let time = if time_part.is_empty() {
        NaiveTime::MIN
    } else {
        parse_time(time_part).ok_or_else(bad)?
    };
    let local = NaiveDateTime::new(date, time);
    match zone {
        Some(z) if !z.is_empty() => {
            let offset = zone_offset(z).ok_or_else(bad)?;
            offset
                .from_local_datetime(&local)
                .single()
                .map(Some)
                .ok_or_else(bad)
        }
        _ => {
            let mountain = chrono_tz::America::Denver;
            let at = mountain
                .from_local_datetime(&local)
                .earliest()
                .or_else(|| {
                    // in the spring-forward gap: the hour after
                    mountain
                        .from_local_datetime(&(local + chrono::Duration::hours(1)))
                        .earliest()
                })
                .ok_or_else(bad)?;
            Ok(Some(at.fixed_offset()))
        }
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let (hms, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let mut it = hms.split(':');
    let h = digits(it.next()?)?;
    let m = digits(it.next()?)?;
    let sec = match it.next() {
        Some(x) => digits(x)?,
        None => 0,
    };
    if it.next().is_some() {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some(f) => {
            if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let v: u32 = f.parse().ok()?;
            v * 10u32.pow(9 - f.len() as u32)
        }
    };
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

struct TimestampVisitor;

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = Option<DateTime<FixedOffset>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp as MM/DD/YYYY HH:MM:SS MDT")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_timestamp(v).map_err(E::custom)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// An optional Mountain-time timestamp; an unreadable one fails the record.
pub(crate) fn opt_timestamp<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
    d.deserialize_any(TimestampVisitor)
}

// ---------------------------------------------------------------------------
// lists: one-or-many, wrapped in a singular child, or keyed by id

/// Deserializes the items of a list that may be an array, a single object
/// (a one-element list collapsed by the XML mapping) or an object keyed by
/// numeric ids. Empty strings and null are empty lists.
struct ItemsSeed<'a, E> {
    out: &'a mut Vec<E>,
}

impl<'de, E: DeserializeOwned> DeserializeSeed<'de> for ItemsSeed<'_, E> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(ItemsVisitor { out: self.out })
    }
}

struct ItemsVisitor<'a, E> {
    out: &'a mut Vec<E>,
}

fn is_id_key(k: &str) -> bool {
    !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit())
}

impl<'de, E: DeserializeOwned> Visitor<'de> for ItemsVisitor<'_, E> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list, an object, or an object keyed by id")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(n) = seq.size_hint() {
            self.out.reserve(n);
        }
        while let Some(item) = seq.next_element::<E>()? {
            self.out.push(item);
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(first) = map.next_key::<std::borrow::Cow<'de, str>>()? else {
            return Ok(());
        };
        if is_id_key(&first) {
            self.out.push(map.next_value::<E>()?);
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if !is_id_key(&key) {
                    return Err(de::Error::custom(format_args!(
                        "object keyed by ids has a non-id key {key:?}"
                    )));
                }
                self.out.push(map.next_value::<E>()?);
            }
            return Ok(());
        }
        // a single record collapsed from a one-element list: rare, so it is
        // rebuilt through a buffer rather than complicating the fast path
        let mut obj = serde_json::Map::new();
        obj.insert(first.into_owned(), map.next_value::<serde_json::Value>()?);
        while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
            obj.insert(k, v);
        }
        let text = serde_json::Value::Object(obj).to_string();
        let item = serde_json::from_str::<E>(&text).map_err(de::Error::custom)?;
        self.out.push(item);
        Ok(())
    }
    fn visit_str<Er: de::Error>(self, _v: &str) -> Result<(), Er> {
        // "" or a "No Records Found."-style sentence where a list was expected
        Ok(())
    }
    fn visit_none<Er: de::Error>(self) -> Result<(), Er> {
        Ok(())
    }
    fn visit_unit<Er: de::Error>(self) -> Result<(), Er> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A list wrapped in a singular child: `{"lease": [...]}`. The wrapper's
/// key is not checked (casing varies between methods); a bare array, a
/// record keyed by id and an empty string are accepted too.
struct WrappedVisitor<E>(PhantomData<E>);

impl<'de, E: DeserializeOwned> Visitor<'de> for WrappedVisitor<E> {
    type Value = Vec<E>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list wrapped in an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<E>, A::Error> {
        let mut out = Vec::new();
        let Some(first) = map.next_key::<std::borrow::Cow<'de, str>>()? else {
            return Ok(out);
        };
        if is_id_key(&first) {
            // not wrapped after all: an object keyed by id
            out.push(map.next_value::<E>()?);
            while let Some(_key) = map.next_key::<IgnoredAny>()? {
                out.push(map.next_value::<E>()?);
            }
            return Ok(out);
        }
        if first.starts_with('@') {
            map.next_value::<IgnoredAny>()?;
        } else {
            map.next_value_seed(ItemsSeed { out: &mut out })?;
        }
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key.starts_with('@') {
                map.next_value::<IgnoredAny>()?;
            } else {
                map.next_value_seed(ItemsSeed { out: &mut out })?;
            }
        }
        Ok(out)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<E>, A::Error> {
        let mut out = Vec::new();
        ItemsVisitor { out: &mut out }.visit_seq(seq)?;
        Ok(out)
    }
    fn visit_str<Er: de::Error>(self, _v: &str) -> Result<Vec<E>, Er> {
        Ok(Vec::new())
    }
    fn visit_none<Er: de::Error>(self) -> Result<Vec<E>, Er> {
        Ok(Vec::new())
    }
    fn visit_unit<Er: de::Error>(self) -> Result<Vec<E>, Er> {
        Ok(Vec::new())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<E>, D::Error> {
        d.deserialize_any(self)
    }
}

/// A list that may be one object, an array or an id-keyed object (not
/// wrapped in a singular child).
pub(crate) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let mut out = Vec::new();
    ItemsSeed { out: &mut out }.deserialize(d)?;
    Ok(out)
}

/// A list wrapped in a singular child (`{"phone": [...]}`), strict: one
/// bad item fails the enclosing record.
pub(crate) fn wrapped<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    d.deserialize_any(WrappedVisitor::<T>(PhantomData))
}

/// A wrapped list whose bad items are skipped and reported, not fatal.
pub(crate) fn tolerant_wrapped<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Record,
{
    let items = d.deserialize_any(WrappedVisitor::<Element<T>>(PhantomData))?;
    Ok(collect_elements(items))
}

fn collect_elements<T>(items: Vec<Element<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        match item {
            Element::Ok(v) => out.push(v),
            Element::Bad(mut skipped) => {
                skipped.index = index;
                report(*skipped);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// skipping and reporting bad records

/// A record kind that tolerant lists can skip and report.
pub(crate) trait Record {
    /// What the record is, in the user's words ("lease", "customer").
    const KIND: &'static str;
    /// The record's id, for reports about records nested in it.
    fn record_id(&self) -> Option<String>;
}

enum Element<T> {
    Ok(T),
    Bad(Box<SkippedRecord>),
}

impl<'de, T: DeserializeOwned + Record> Deserialize<'de> for Element<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: &RawValue = Deserialize::deserialize(d)?;
        let mark = sink_len();
        match serde_json::from_str::<T>(raw.get()) {
            Ok(v) => {
                tag_parent(mark, T::KIND, v.record_id());
                Ok(Element::Ok(v))
            }
            Err(_) => {
                truncate_sink(mark);
                Ok(Element::Bad(Box::new(skipped_from_raw::<T>(raw.get()))))
            }
        }
    }
}

/// Builds the report for a record that failed: its id if one can be read,
/// and the path and reason of the failure.
fn skipped_from_raw<T: DeserializeOwned + Record>(raw: &str) -> SkippedRecord {
    let mut de = serde_json::Deserializer::from_str(raw);
    let (path, reason) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        // the decoder quotes the value it refused: not for logs
        Err(e) => (
            e.path().to_string(),
            access_http::redact_decode(&e.inner().to_string(), &[]),
        ),
        Ok(_) => (String::new(), "record could not be decoded".to_owned()),
    };
    SkippedRecord {
        kind: T::KIND,
        id: probe_id(raw),
        index: 0,
        parent: None,
        path,
        reason,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IdProbe {
    #[serde(deserialize_with = "text")]
    id: Option<String>,
    #[serde(rename = "Id", deserialize_with = "text")]
    id_upper: Option<String>,
    #[serde(rename = "leaseId", deserialize_with = "text")]
    lease_id: Option<String>,
    #[serde(rename = "PropertyID", deserialize_with = "text")]
    property_id_upper: Option<String>,
    #[serde(rename = "PropertyId", deserialize_with = "text")]
    property_id_mixed: Option<String>,
    #[serde(rename = "propertyId", deserialize_with = "text")]
    property_id: Option<String>,
    #[serde(rename = "unitSpaceId", deserialize_with = "text")]
    unit_space_id: Option<String>,
    #[serde(rename = "@attributes")]
    attributes: Option<AttrIdProbe>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AttrIdProbe {
    #[serde(rename = "Id", alias = "id", deserialize_with = "text")]
    id: Option<String>,
}

fn probe_id(raw: &str) -> Option<String> {
    let p: IdProbe = serde_json::from_str(raw).ok()?;
    p.id.or(p.id_upper)
        .or(p.lease_id)
        .or(p.attributes.and_then(|a| a.id))
        .or(p.unit_space_id)
        .or(p.property_id_upper)
        .or(p.property_id_mixed)
        .or(p.property_id)
}

thread_local! {
    /// Reports of skipped records, collected while a [`SkipScope`] is open on
    /// this thread. Decoding is synchronous, so a thread-local sink lets
    /// nested lists report without threading a context through serde.
    static SINK: RefCell<Option<Vec<SkippedRecord>>> = const { RefCell::new(None) };
}

fn sink_len() -> usize {
    SINK.with(|s| s.borrow().as_ref().map_or(0, Vec::len))
}

fn truncate_sink(len: usize) {
    SINK.with(|s| {
        if let Some(v) = s.borrow_mut().as_mut() {
            v.truncate(len);
        }
    });
}

fn tag_parent(mark: usize, kind: &'static str, id: Option<String>) {
    SINK.with(|s| {
        if let Some(v) = s.borrow_mut().as_mut() {
            for r in v.iter_mut().skip(mark).filter(|r| r.parent.is_none()) {
                r.parent = Some(match &id {
                    Some(id) => format!("{kind} {id}"),
                    None => kind.to_owned(),
                });
            }
        }
    });
}

fn report(skipped: SkippedRecord) {
    tracing::warn!(
        kind = skipped.kind,
        id = skipped.id.as_deref().unwrap_or("?"),
        path = %skipped.path,
        reason = %skipped.reason,
        "skipping a malformed record"
    );
    SINK.with(|s| {
        if let Some(v) = s.borrow_mut().as_mut() {
            v.push(skipped);
        }
    });
}

/// Collects the records skipped while it is alive (on this thread).
pub(crate) struct SkipScope {
    outer: Option<Vec<SkippedRecord>>,
}

impl SkipScope {
    pub(crate) fn open() -> Self {
        let outer = SINK.with(|s| s.borrow_mut().replace(Vec::new()));
        Self { outer }
    }

    /// Closes the scope and returns what was skipped in it.
    pub(crate) fn finish(mut self) -> Vec<SkippedRecord> {
        let outer = self.outer.take();
        SINK.with(|s| std::mem::replace(&mut *s.borrow_mut(), outer))
            .unwrap_or_default()
    }
}

impl Drop for SkipScope {
    fn drop(&mut self) {
        if let Some(outer) = self.outer.take() {
            SINK.with(|s| *s.borrow_mut() = Some(outer));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = |y, m, dd| Ok(Some(NaiveDate::from_ymd_opt(y, m, dd).unwrap()));
        assert_eq!(parse_date("08/16/2024"), d(2024, 8, 16));
        assert_eq!(parse_date("8/6/2024"), d(2024, 8, 6));
        assert_eq!(parse_date("05/10/23"), d(2023, 5, 10));
        assert_eq!(parse_date("2024-08-16"), d(2024, 8, 16));
        assert_eq!(parse_date(""), Ok(None));
        assert_eq!(parse_date("MM/DD/YYYY"), Ok(None));
        assert_eq!(parse_date("YYYY-MM-DD"), Ok(None));
        assert_eq!(parse_date("12/31/1969"), Ok(None));
        assert!(parse_date("13/01/2024").is_err());
        assert!(parse_date("02/30/2024").is_err());
        assert!(parse_date("soon").is_err());
    }

    #[test]
    fn timestamps_with_variable_fractions_and_mountain_zones() {
        let t = parse_timestamp("10/19/2023 16:03:27.632515 MDT")
            .unwrap()
            .unwrap();
        assert_eq!(t.to_rfc3339(), "2023-10-19T16:03:27.632515-06:00");
        let t = parse_timestamp("07/17/2024 18:24:49 MDT").unwrap().unwrap();
        assert_eq!(t.to_rfc3339(), "2024-07-17T18:24:49-06:00");
        let t = parse_timestamp("01/17/2024 08:00:00.5 MST")
            .unwrap()
            .unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-17T08:00:00.500-07:00");
        // no zone: Mountain time, with DST
        let t = parse_timestamp("07/01/2024T10:00:00").unwrap().unwrap();
        assert_eq!(t.offset().local_minus_utc(), -6 * 3600);
        let t = parse_timestamp("01/01/2024 10:00:00").unwrap().unwrap();
        assert_eq!(t.offset().local_minus_utc(), -7 * 3600);
        assert!(parse_timestamp("10/19/2023 16:03 XYZ").is_err());
        assert!(parse_timestamp("10/19/2023 25:03:00 MDT").is_err());
        assert_eq!(parse_timestamp(""), Ok(None));
    }

    #[test]
    fn bools() {
        for t in ["1", "t", "true", "TRUE", "yes"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "false", "no"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        assert_eq!(parse_bool("maybe"), None);
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Item {
        #[serde(deserialize_with = "id")]
        id: u64,
    }

    #[derive(Deserialize, Debug)]
    struct Holder {
        #[serde(default, deserialize_with = "wrapped")]
        items: Vec<Item>,
    }

    #[test]
    fn lists_in_every_shape() {
        let ids = |json: &str| -> Vec<u64> {
            let h: Holder = serde_json::from_str(json).unwrap();
            h.items.iter().map(|i| i.id).collect()
        };
        assert_eq!(ids(r#"{"items":{"item":[{"id":1},{"id":"2"}]}}"#), [1, 2]);
        assert_eq!(ids(r#"{"items":{"item":{"id":3}}}"#), [3]);
        assert_eq!(
            ids(r#"{"items":{"item":{"7":{"id":7},"8":{"id":8}}}}"#),
            [7, 8]
        );
        assert_eq!(ids(r#"{"items":{"7":{"id":7}}}"#), [7]);
        assert_eq!(ids(r#"{"items":[{"id":4}]}"#), [4]);
        assert_eq!(ids(r#"{"items":""}"#), Vec::<u64>::new());
        assert_eq!(ids(r#"{"items":{}}"#), Vec::<u64>::new());
        assert_eq!(ids(r#"{"items":null}"#), Vec::<u64>::new());
        assert_eq!(ids(r#"{}"#), Vec::<u64>::new());
        assert!(serde_json::from_str::<Holder>(r#"{"items":{"item":[{"id":"x"}]}}"#).is_err());
    }
}
