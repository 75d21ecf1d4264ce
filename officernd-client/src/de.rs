//! Serde helpers for OfficeRnD's wire quirks.
//!
//! - Date-only fields arrive as `YYYY-MM-DDT00:00:00.000Z`; OfficeRnD says to
//!   ignore the time part. They become [`NaiveDate`]s, to be read in the
//!   location's zone. A plain `YYYY-MM-DD` is accepted too. Anything else
//!   fails the record (strict: dates matter for access).
//! - `null` and absent are the same for optional fields.
//! - Sparse booleans: absent or `null` mean `false`.
//! - Counts may be numbers or numeric strings.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, de::Error as _};

/// Parses a date-only value (`2024-01-01T00:00:00.000Z` or `2024-01-01`).
pub(crate) fn parse_date_only(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    // the date part as written, per OfficeRnD: "ignore the timestamp portion"
    let (date, _time) = s.split_once('T')?;
    DateTime::parse_from_rfc3339(s).ok()?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

pub(crate) fn date_only<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = String::deserialize(d)?;
    parse_date_only(&s).ok_or_else(|| D::Error::custom(format!("invalid date `{s}`")))
}

pub(crate) fn opt_date_only<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => parse_date_only(&s)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("invalid date `{s}`"))),
    }
}

pub(crate) fn instant<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| D::Error::custom(format!("invalid instant `{s}`: {e}")))
}

pub(crate) fn opt_instant<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| D::Error::custom(format!("invalid instant `{s}`: {e}"))),
    }
}

pub(crate) fn opt_tz<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Tz>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => s
            .trim()
            .parse::<Tz>()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("unknown IANA time zone `{s}`"))),
    }
}

pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

/// `null` becomes the default (an empty list, mostly).
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A number, a numeric string, or null.
pub(crate) fn opt_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        F(f64),
        S(String),
    }
    match Option::<N>::deserialize(d)? {
        None => Ok(None),
        Some(N::F(f)) => Ok(Some(f)),
        Some(N::S(s)) if s.trim().is_empty() => Ok(None),
        Some(N::S(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("invalid number `{s}`"))),
    }
}

/// A string or a number rendered as a string (floor `"1"` vs `1`).
pub(crate) fn opt_string_or_number<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        S(String),
        N(serde_json::Number),
    }
    Ok(Option::<V>::deserialize(d)?.map(|v| match v {
        V::S(s) => s,
        V::N(n) => n.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_only_values() {
        let d = |s| parse_date_only(s);
        assert_eq!(
            d("2024-01-01T00:00:00.000Z"),
            NaiveDate::from_ymd_opt(2024, 1, 1)
        );
        assert_eq!(d("2024-06-30"), NaiveDate::from_ymd_opt(2024, 6, 30));
        assert_eq!(
            d("2024-06-30T00:00:00Z"),
            NaiveDate::from_ymd_opt(2024, 6, 30)
        );
        assert_eq!(d("2024-13-01T00:00:00.000Z"), None);
        assert_eq!(d("yesterday"), None);
        assert_eq!(d("2024-01-01Tgarbage"), None);
    }
}
