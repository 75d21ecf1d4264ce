//! Ids, sensitive strings and the lenient (de)serializers Brivo's sloppy
//! corners need.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Brivo ids are JSON numbers; a numeric string (`"123"`) is accepted
        /// too, anything else fails the record.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw number.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i64(self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(IdVisitor).map(Self)
            }
        }
    };
}

id_type!(
    /// A Brivo user id.
    ///
    /// Every id converts from and to `i64`:
    ///
    /// ```
    /// use brivo_client::UserId;
    ///
    /// let id = UserId::from(42);
    /// assert_eq!(i64::from(id), 42);
    /// let raw: i64 = id.into();
    /// assert_eq!(UserId::from(raw), id);
    /// ```
    UserId
);
id_type!(
    /// A Brivo group id.
    GroupId
);
id_type!(
    /// A Brivo credential id.
    CredentialId
);
id_type!(
    /// A Brivo site id.
    SiteId
);
id_type!(
    /// A Brivo access point (door, floor, lock) id.
    AccessPointId
);
id_type!(
    /// A Brivo custom field id.
    CustomFieldId
);

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer id")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("id `{v}` is out of range")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        Err(E::custom(format!("id `{v}` is not an integer")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom(format!("id {v:?} is not an integer")))
    }
}

/// A string that must not show up in logs: a PIN, a credential's encoded
/// value, an invitation's access code.
///
/// `Debug` prints `[redacted]`; [`expose`](Self::expose) gives the value.
/// It serializes as the plain string (it is sent to Brivo on purpose).
#[derive(Clone)]
pub struct SensitiveString(SecretString);

impl SensitiveString {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The value itself.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SensitiveString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for SensitiveString {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for SensitiveString {}

impl From<&str> for SensitiveString {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for SensitiveString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl Serialize for SensitiveString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for SensitiveString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StringOrNumber).map(Self::new)
    }
}

/// Accepts a JSON string or number and gives its text: Brivo sends
/// `externalId`, custom field values and `displayOrder` either way.
struct StringOrNumber;

impl Visitor<'_> for StringOrNumber {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// `Option<String>` from a string, a number or null.
pub(crate) fn opt_string_or_number<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string, a number or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(StringOrNumber).map(Some)
        }
    }
    d.deserialize_option(V)
}

/// A `String` from a string, a number, or null / absent (empty).
pub(crate) fn string_or_number_or_null<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<String, D::Error> {
    Ok(opt_string_or_number(d)?.unwrap_or_default())
}

/// Any `T: Default` from null as well as from its own form: Brivo says it
/// omits empty values, but other producers send `null`.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An `i64` from a number or a numeric string.
pub(crate) fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(IdVisitor)
}

/// An `Option<i64>` from a number, a numeric string or null.
pub(crate) fn opt_lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match opt_string_or_number(d)? {
        None => Ok(None),
        Some(s) => IdVisitor.visit_str(&s).map(Some),
    }
}

/// `Option<u64>` from a number, a numeric string or null (envelope fields).
pub(crate) fn opt_lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match opt_string_or_number(d)? {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{s:?} is not a non-negative integer"))),
    }
}

/// Parses a Brivo date-time.
///
/// Brivo documents `2015-04-15T12:00:00Z` (UTC, seconds) but also answers
/// with milliseconds, with offsets, with no zone at all (holidays) and, for
/// a date sent without a time, with the bare date. All of these are
/// accepted; a value without a zone is taken as UTC (Brivo: "all returned
/// datetime values are provided with the UTC timezone"); a bare date is
/// midnight UTC. Anything else is an error.
///
/// ```
/// use brivo_client::parse_datetime;
///
/// let a = parse_datetime("2017-09-13T00:00:00Z").unwrap();
/// assert_eq!(parse_datetime("2017-09-13T00:00:00.000Z").unwrap(), a);
/// assert_eq!(parse_datetime("2017-09-12T19:00:00-05:00").unwrap(), a);
/// assert_eq!(parse_datetime("2017-09-13T00:00:00").unwrap(), a);
/// assert_eq!(parse_datetime("2017-09-13").unwrap(), a);
/// assert!(parse_datetime("13/09/2017").is_err());
/// ```
pub fn parse_datetime(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(naive.and_utc());
    }
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        && let Some(midnight) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(midnight.and_utc());
    }
    Err(format!("{text:?} is not an ISO 8601 date-time"))
}

/// Formats a date-time the way Brivo documents it: `YYYY-MM-DDTHH:MM:SSZ`.
///
/// ```
/// use brivo_client::format_datetime;
/// use chrono::{TimeZone, Utc};
///
/// let t = Utc.with_ymd_and_hms(2026, 3, 8, 15, 0, 0).unwrap();
/// assert_eq!(format_datetime(&t), "2026-03-08T15:00:00Z");
/// ```
pub fn format_datetime(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// serde: `Option<DateTime<Utc>>` through [`parse_datetime`] / [`format_datetime`].
pub(crate) mod opt_datetime {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => parse_datetime(t).map(Some).map_err(de::Error::custom),
        }
    }

    pub(crate) fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_datetime(t)),
            None => s.serialize_none(),
        }
    }
}
