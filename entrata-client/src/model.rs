//! Types shared by several methods: ids, money, status enums, skip reports.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Entrata ids are non-negative integers that arrive as JSON numbers
        /// or as strings of digits; both decode to the same value.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            /// The numeric value.
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl From<u64> for $name {
            fn from(v: u64) -> Self {
                Self(v)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map(Self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::de::id(d)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u64(self.0)
            }
        }
    };
}

id_type!(
    /// A property id (`propertyId`, `PropertyID`).
    ///
    /// Every id converts from and to `u64`:
    ///
    /// ```
    /// use entrata_client::PropertyId;
    ///
    /// let id = PropertyId::from(518_044);
    /// assert_eq!(u64::from(id), 518_044);
    /// let raw: u64 = id.into();
    /// assert_eq!(PropertyId::from(raw), id);
    /// ```
    PropertyId
);
id_type!(
    /// A lease id.
    LeaseId
);
id_type!(
    /// A customer (resident, guarantor, occupant) id.
    CustomerId
);
id_type!(
    /// A unit id (`unitId`, `propertyUnitId`).
    UnitId
);
id_type!(
    /// A unit space id (a bed in a shared unit).
    UnitSpaceId
);
id_type!(
    /// A building id.
    BuildingId
);
id_type!(
    /// A lease interval id (an application, renewal or transfer period of a lease).
    LeaseIntervalId
);
id_type!(
    /// A floor plan id.
    FloorPlanId
);
id_type!(
    /// An application id.
    ApplicationId
);
id_type!(
    /// A unit type id.
    UnitTypeId
);

/// A record that was left out of a response because it could not be
/// decoded. The rest of the response is still returned.
///
/// ```
/// use entrata_client::GetLeases;
///
/// let body = br#"{"response":{"code":200,"result":{"leases":{"lease":[
///   {"id":"1","propertyId":"9","moveInDate":"08/16/2024"},
///   {"id":"2","propertyId":"9","moveInDate":"someday"}]}}}}"#;
/// let page = GetLeases::decode(body)?;
/// assert_eq!(page.leases.len(), 1);
/// let bad = &page.skipped[0];
/// assert_eq!((bad.kind, bad.id.as_deref()), ("lease", Some("2")));
/// assert_eq!(bad.path, "moveInDate");
/// # Ok::<(), entrata_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedRecord {
    /// What the record is: `"lease"`, `"customer"`, `"property"`, ...
    pub kind: &'static str,
    /// The record's id, when it could be read.
    pub id: Option<String>,
    /// Its position in its list (from 0).
    pub index: usize,
    /// The record it was nested in, e.g. `"lease 13458104"` for a customer.
    pub parent: Option<String>,
    /// The JSON path, inside the record, of the value that failed.
    pub path: String,
    /// Why it failed.
    pub reason: String,
}

impl fmt::Display for SkippedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        match &self.id {
            Some(id) => write!(f, " {id}")?,
            None => write!(f, " #{}", self.index)?,
        }
        if let Some(parent) = &self.parent {
            write!(f, " (in {parent})")?;
        }
        write!(f, " skipped: {} at {:?}", self.reason, self.path)
    }
}

/// An amount of money, exact to 1/10000 of the currency unit.
///
/// Entrata sends amounts as `"1325.00"`, `"1,196.00"`, `"$0.00"`,
/// `"-25.00"` or as JSON numbers; all decode to the same exact value.
///
/// ```
/// use entrata_client::Money;
///
/// let m: Money = "$1,196.50".parse().unwrap();
/// assert_eq!(m.cents(), 119_650);
/// assert_eq!(m.to_string(), "1196.50");
/// assert_eq!("(25.00)".parse::<Money>().unwrap().cents(), -2500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    ten_thousandths: i64,
}

impl Money {
    /// An amount from whole cents.
    pub fn from_cents(cents: i64) -> Self {
        Self {
            ten_thousandths: cents.saturating_mul(100),
        }
    }

    /// The amount in cents, rounded half away from zero.
    pub fn cents(self) -> i64 {
        let v = self.ten_thousandths;
        // saturating: an amount near i64::MAX must not overflow
        v.saturating_add(if v >= 0 { 50 } else { -50 }) / 100
    }

    /// The amount as a float (for display or statistics, not arithmetic).
    pub fn to_f64(self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let v = self.ten_thousandths as f64;
        v / 10_000.0
    }

    fn from_f64(v: f64) -> Option<Self> {
        let scaled = (v * 10_000.0).round();
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        (scaled.is_finite() && scaled.abs() < i64::MAX as f64).then_some(Self {
            ten_thousandths: scaled as i64,
        })
    }
}

/// An amount that could not be read as money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidMoney(String);

impl fmt::Display for InvalidMoney {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid amount {:?}", self.0)
    }
}

impl std::error::Error for InvalidMoney {}

impl FromStr for Money {
    type Err = InvalidMoney;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidMoney(s.to_owned());
        let mut t = s.trim();
        // one sign at most: accounting parentheses, or a minus before or
        // after the currency sign ("--5" and "(-5)" are not amounts)
        let mut signs = 0;
        if let Some(inner) = t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
            signs += 1;
            t = inner.trim();
        }
        if let Some(rest) = t.strip_prefix('-') {
            signs += 1;
            t = rest.trim_start();
        }
        t = t.strip_prefix('$').unwrap_or(t).trim_start();
        if let Some(rest) = t.strip_prefix('-') {
            signs += 1;
            t = rest;
        }
        if signs > 1 {
            return Err(bad());
        }
        let negative = signs == 1;
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        // a digit somewhere: "," or "." alone is not an amount
        if !whole
            .bytes()
            .chain(frac.bytes())
            .any(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        // the magnitude, so that the most negative amount (whose magnitude
        // is one more than i64::MAX) reads back as it is written
        let mut value: u64 = 0;
        for b in whole.bytes() {
            match b {
                b'0'..=b'9' => {
                    value = value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(b - b'0')))
                        .ok_or_else(bad)?;
                }
                b',' => {}
                _ => return Err(bad()),
            }
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let mut scaled = value.checked_mul(10_000).ok_or_else(bad)?;
        let mut unit = 1000;
        for (i, b) in frac.bytes().enumerate() {
            let digit = u64::from(b - b'0');
            // checked: "922337203685477.9999" overflows i64 in the
            // fraction, which makes the amount unreadable, not a panic
            if i < 4 {
                scaled = scaled.checked_add(digit * unit).ok_or_else(bad)?;
                unit /= 10;
            } else if i == 4 {
                // round half up on the fifth decimal
                if digit >= 5 {
                    scaled = scaled.checked_add(1).ok_or_else(bad)?;
                }
            }
        }
        let ten_thousandths = if negative {
            0i64.checked_sub_unsigned(scaled)
        } else {
            i64::try_from(scaled).ok()
        };
        Ok(Self {
            ten_thousandths: ten_thousandths.ok_or_else(bad)?,
        })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.ten_thousandths;
        let sign = if v < 0 { "-" } else { "" };
        let a = v.unsigned_abs();
        let whole = a / 10_000;
        let frac = a % 10_000;
        if frac.is_multiple_of(100) {
            write!(f, "{sign}{whole}.{:02}", frac / 100)
        } else {
            write!(f, "{sign}{whole}.{frac:04}")
        }
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

struct MoneyVisitor;

impl<'de> Visitor<'de> for MoneyVisitor {
    type Value = Option<Money>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.parse().ok())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v)
            .ok()
            .and_then(|v| v.checked_mul(10_000))
            .map(|t| Money { ten_thousandths: t }))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.checked_mul(10_000).map(|t| Money { ten_thousandths: t }))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Money::from_f64(v))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(None)
    }
}

/// Lenient: an unreadable amount is `None`, never a failed record.
pub(crate) fn opt_money<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Money>, D::Error> {
    d.deserialize_any(MoneyVisitor)
}

macro_rules! text_enum {
    (
        $(#[$doc:meta])*
        $name:ident { $($(#[$vdoc:meta])* $variant:ident = [$($text:literal),+]),+ $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value this version does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// Reads the service's text, case-insensitively; unknown text is kept.
            pub fn from_name(s: &str) -> Self {
                let t = s.trim();
                $(if [$($text),+].iter().any(|x| x.eq_ignore_ascii_case(t)) {
                    return Self::$variant;
                })+
                Self::Other(t.to_owned())
            }

            /// Deserializes an optional value: empty or null is `None`.
            #[allow(dead_code)]
            pub(crate) fn opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
                Ok(crate::de::text(d)?.map(|s| Self::from_name(&s)))
            }

            /// The service's name for it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => [$($text),+][0],)+
                    Self::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Self::from_name(&crate::de::text(d)?.unwrap_or_default()))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// A lease's status (Entrata's lease status types, `leaseStatusTypeId` 1–6).
    LeaseStatus {
        /// 1: an application, not yet a lease.
        Applicant = ["Applicant"],
        /// 2: cancelled before move-in.
        Cancelled = ["Cancelled", "Canceled"],
        /// 3: signed, not yet moved in.
        Future = ["Future"],
        /// 4: living there.
        Current = ["Current"],
        /// 5: living there, notice given.
        Notice = ["Notice", "On Notice"],
        /// 6: moved out.
        Past = ["Past", "Former"],
    }
);

impl LeaseStatus {
    /// The status for a `leaseStatusTypeId` (Entrata's pick list:
    /// 1 Applicant, 2 Cancelled, 3 Future, 4 Current, 5 Notice, 6 Past);
    /// other ids are kept as `Other("<id>")`.
    pub fn from_type_id(id: u32) -> Self {
        match id {
            1 => Self::Applicant,
            2 => Self::Cancelled,
            3 => Self::Future,
            4 => Self::Current,
            5 => Self::Notice,
            6 => Self::Past,
            other => Self::Other(other.to_string()),
        }
    }

    /// The `leaseStatusTypeId` of a known status.
    pub fn type_id(&self) -> Option<u32> {
        Some(match self {
            Self::Applicant => 1,
            Self::Cancelled => 2,
            Self::Future => 3,
            Self::Current => 4,
            Self::Notice => 5,
            Self::Past => 6,
            Self::Other(_) => return None,
        })
    }
}

text_enum!(
    /// A customer's role on a lease (`customerType`).
    CustomerType {
        /// The primary resident.
        Primary = ["Primary"],
        /// A co-applicant or responsible resident (roommate on the lease).
        CoApplicant = ["Co-Applicant", "CoApplicant", "Co Applicant", "Responsible"],
        /// An occupant who is not financially responsible.
        Occupant = ["Occupant"],
        /// A guarantor (does not live there).
        Guarantor = ["Guarantor"],
    }
);

text_enum!(
    /// The kind of a lease interval (`leaseIntervalTypeName`; ids 1, 3, 5 seen).
    LeaseIntervalType {
        /// 1: the original application interval.
        Application = ["Application"],
        /// 3: a renewal.
        Renewal = ["Renewal"],
        /// 5: a transfer to another unit.
        Transfer = ["Transfer"],
        /// Month-to-month.
        MonthToMonth = ["Month to Month", "Month-to-Month", "MonthToMonth"],
    }
);

impl LeaseIntervalType {
    /// The type for a `leaseIntervalTypeId` seen in real data (1, 3, 5).
    pub fn from_type_id(id: u32) -> Option<Self> {
        match id {
            1 => Some(Self::Application),
            3 => Some(Self::Renewal),
            5 => Some(Self::Transfer),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_at_the_edge_of_i64_is_an_error_not_a_panic() {
        for text in [
            "922337203685477.9999",
            "922337203685477.58079",
            "-922337203685477.9999",
            "99999999999999999999",
            "(922337203685477.99999)",
        ] {
            assert!(text.parse::<Money>().is_err(), "{text}");
        }
        let max = "922337203685477.5807".parse::<Money>().unwrap();
        assert_eq!(max.cents(), i64::MAX / 100);
        assert_eq!(Money::from_cents(i64::MIN).cents(), i64::MIN / 100);
        // in a record, the field is left unread rather than failing the page
        let v: Option<Money> =
            serde_json::from_str::<MoneyField>(r#"{"a":"922337203685477.9999"}"#)
                .unwrap()
                .a;
        assert_eq!(v, None);
    }

    #[derive(serde::Deserialize)]
    struct MoneyField {
        #[serde(default, deserialize_with = "opt_money")]
        a: Option<Money>,
    }

    #[test]
    fn money_in_all_its_spellings() {
        let m = |s: &str| s.parse::<Money>().map(Money::cents);
        assert_eq!(m("1325.00"), Ok(132_500));
        assert_eq!(m("1,196.00"), Ok(119_600));
        assert_eq!(m("$0.00"), Ok(0));
        assert_eq!(m("-25.00"), Ok(-2500));
        assert_eq!(m("-$25"), Ok(-2500));
        assert_eq!(m("$-25"), Ok(-2500));
        assert_eq!(m("(1,000.5)"), Ok(-100_050));
        assert_eq!(m(".5"), Ok(50));
        assert!(m("").is_err());
        assert!(m("abc").is_err());
        assert!(m("1.2.3").is_err());
        assert!(m("99999999999999999999").is_err());
        for not_an_amount in [",", ".", "$", "--5", "(-5)", "-$-5", "($5", "- "] {
            assert!(m(not_an_amount).is_err(), "{not_an_amount:?}");
        }
        let j: Option<Money> = opt_money(&serde_json::json!(10.55)).unwrap();
        assert_eq!(j.map(Money::cents), Some(1055));
        let j: Option<Money> = opt_money(&serde_json::json!(35)).unwrap();
        assert_eq!(j.map(|m| m.to_string()), Some("35.00".into()));
        assert_eq!("0.1234".parse::<Money>().unwrap().to_string(), "0.1234");
    }

    #[test]
    fn enums_keep_unknown_values() {
        assert_eq!(LeaseStatus::from_name("current"), LeaseStatus::Current);
        assert_eq!(
            LeaseStatus::from_name("Evicted"),
            LeaseStatus::Other("Evicted".into())
        );
        assert_eq!(LeaseStatus::from_type_id(5), LeaseStatus::Notice);
        assert_eq!(LeaseStatus::from_type_id(9), LeaseStatus::Other("9".into()));
        assert_eq!(
            CustomerType::from_name("Responsible"),
            CustomerType::CoApplicant
        );
        assert_eq!(CustomerType::from_name("Guarantor").as_str(), "Guarantor");
    }

    #[test]
    fn ids_from_numbers_and_strings() {
        let a: LeaseId = serde_json::from_str("\"13458104\"").unwrap();
        let b: LeaseId = serde_json::from_str("13458104").unwrap();
        assert_eq!(a, b);
        assert!(serde_json::from_str::<LeaseId>("\"L-1\"").is_err());
        assert!(serde_json::from_str::<LeaseId>("\"\"").is_err());
        assert!(serde_json::from_str::<LeaseId>("-3").is_err());
    }
}
