//! Arbitrary JSON (and arbitrary bytes) never panics a decoder: every
//! input gives `Ok` or `Err`. The generator favours Entrata's own key names
//! and value spellings so it reaches deep into the models. `Money` reads any
//! text without panicking, exactly or not at all, and round-trips.

#![allow(clippy::unwrap_used)]

use entrata_client::{
    GetCustomers, GetExpiringLeases, GetLeaseDetails, GetLeases, GetMitsPropertyUnits,
    GetProperties, GetPropertyUnits, GetStatus, GetUnitTypes, Money,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

const KEYS: &[&str] = &[
    "response",
    "result",
    "error",
    "code",
    "message",
    "success",
    "leases",
    "lease",
    "id",
    "leaseId",
    "propertyId",
    "moveInDate",
    "moveOutDate",
    "leaseStatusTypeId",
    "customers",
    "customer",
    "customerType",
    "phones",
    "phone",
    "leaseIntervals",
    "leaseInterval",
    "applications",
    "application",
    "applicationCompletedOn",
    "unitSpaces",
    "unitSpace",
    "unitSpaceId",
    "scheduledCharges",
    "scheduledCharge",
    "amount",
    "isMonthToMonth",
    "PhysicalProperty",
    "Property",
    "PropertyID",
    "Identification",
    "IDValue",
    "@attributes",
    "@value",
    "Id",
    "ILS_Identification",
    "TimeZone",
    "properties",
    "property",
    "units",
    "unit",
    "unitTypes",
    "unitType",
    "identificationType",
    "idValue",
    "Customers",
    "Customer",
    "LeaseId",
    "Leases",
    "Lease",
    "Resident",
    "LeaseExpires",
    "recurringCharge",
    "4072788",
    "1",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "0",
            "1",
            "t",
            "true",
            "13458104",
            "-5",
            "1,196.00",
            "$0.00",
            "(25.00)",
            "08/16/2024",
            "02/30/2024",
            "12/31/1969",
            "MM/DD/YYYY",
            "2024-08-16",
            "05/10/23",
            "10/19/2023 16:03:27.632515 MDT",
            "10/19/2023 16:03:27. MDT",
            "99/99/9999 99:99:99 XYZ",
            "Central Standard Time (GMT -0600)",
            "GMT -99",
            "No Records Found.",
            "Primary",
            "Current",
        ])
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(6, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                let mut m = Map::new();
                for (k, v) in kv {
                    m.insert(k.to_owned(), v);
                }
                Value::Object(m)
            }),
        ]
    })
}

fn decode_all(body: &[u8]) {
    let _ = GetStatus::decode(body);
    let _ = GetLeases::decode(body);
    let _ = GetLeaseDetails::decode(body);
    let _ = GetExpiringLeases::decode(body);
    let _ = GetCustomers::decode(body);
    let _ = GetProperties::decode(body);
    let _ = GetMitsPropertyUnits::decode(body);
    let _ = GetPropertyUnits::decode(body);
    let _ = GetUnitTypes::decode(body);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(v in json()) {
        decode_all(v.to_string().as_bytes());
    }

    #[test]
    fn arbitrary_results_in_an_envelope_never_panic(v in json()) {
        let body = serde_json::json!({"response": {"requestId": "1", "code": 200, "result": v}});
        decode_all(body.to_string().as_bytes());
    }

    #[test]
    fn arbitrary_leases_never_panic(leases in prop::collection::vec(json(), 0..4)) {
        let body = serde_json::json!({"response": {"code": 200, "result": {"leases": {"lease": leases}}}});
        decode_all(body.to_string().as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_all(&bytes);
    }
}

/// What `Money` should read from `s`, in ten-thousandths, computed wide (i128):
/// `None` when `s` is no amount or does not fit an `i64`. The forms: optional
/// `(…)` or `-` (not both), `$`, digits with commas, a point and decimals (the fifth one
/// rounds the fourth, half up).
fn expected_money(negative: bool, whole: &str, frac: &str) -> Option<i64> {
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let digits: String = whole.chars().filter(|c| *c != ',').collect();
    let mut magnitude: i128 = 0;
    for d in digits.bytes() {
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(i128::from(d - b'0'))?;
    }
    magnitude = magnitude.checked_mul(10_000)?;
    let f = frac.as_bytes();
    for (i, unit) in [1000, 100, 10, 1].into_iter().enumerate() {
        magnitude += i128::from(f.get(i).map_or(0, |d| d - b'0')) * unit;
    }
    if f.get(4).is_some_and(|d| *d >= b'5') {
        magnitude += 1;
    }
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// `Money`'s `Display` for `v` ten-thousandths: two decimals when exact to
/// the cent, four otherwise.
fn shown(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let (whole, frac) = (a / 10_000, a % 10_000);
    if frac % 100 == 0 {
        format!("{sign}{whole}.{:02}", frac / 100)
    } else {
        format!("{sign}{whole}.{frac:04}")
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, .. ProptestConfig::default() })]

    #[test]
    fn money_from_arbitrary_text_never_panics(s in ".{0,40}") {
        if let Ok(m) = s.parse::<Money>() {
            prop_assert_eq!(m.to_string().parse::<Money>(), Ok(m));
        }
    }

    #[test]
    fn money_from_money_shaped_text_never_panics(s in "[-$(), .0-9]{0,48}") {
        if let Ok(m) = s.parse::<Money>() {
            prop_assert_eq!(m.to_string().parse::<Money>(), Ok(m));
        }
    }

    /// Long digit strings, on either side of the point: the exact value when
    /// it fits an i64 of ten-thousandths, an error (never a panic or a
    /// wrapped value) when it does not.
    #[test]
    fn money_reads_digit_strings_exactly_or_refuses_them(
        paren in any::<bool>(),
        minus in any::<bool>(),
        dollar in any::<bool>(),
        whole in "[0-9]{0,30}",
        commas in any::<bool>(),
        frac in prop::option::of("[0-9]{0,30}"),
    ) {
        let grouped = if commas {
            let mut g = String::new();
            for (i, c) in whole.chars().enumerate() {
                if i > 0 && (whole.len() - i) % 3 == 0 {
                    g.push(',');
                }
                g.push(c);
            }
            g
        } else {
            whole.clone()
        };
        let mut s = format!(
            "{}{}{grouped}",
            if minus { "-" } else { "" },
            if dollar { "$" } else { "" },
        );
        if let Some(f) = &frac {
            s = format!("{s}.{f}");
        }
        if paren {
            s = format!("({s})");
        }
        // one sign at most: "(-5)" is no amount
        let want = if paren && minus {
            None
        } else {
            expected_money(paren || minus, &whole, frac.as_deref().unwrap_or(""))
        };
        match (s.parse::<Money>(), want) {
            (Ok(m), Some(v)) => {
                prop_assert_eq!(m.to_string(), shown(v), "{}", s);
                prop_assert_eq!(m.to_string().parse::<Money>(), Ok(m));
            }
            (Err(_), None) => {}
            (got, want) => prop_assert!(false, "{s:?}: got {got:?}, want {want:?}"),
        }
    }

    /// Every amount, the extremes included, reads back as it is shown.
    #[test]
    fn money_round_trips_through_its_text(cents in any::<i64>()) {
        let m = Money::from_cents(cents);
        prop_assert_eq!(m.to_string().parse::<Money>(), Ok(m));
        for edge in [i64::MIN, i64::MAX, 0] {
            let m = Money::from_cents(edge);
            prop_assert_eq!(m.to_string().parse::<Money>(), Ok(m));
        }
    }
}
