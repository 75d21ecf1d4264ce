//! Arbitrary JSON (and arbitrary bytes) never panics a decoder: every
//! input gives `Ok` or `Err`. The generator favours Entrata's own key names
//! and value spellings so it reaches deep into the models.

#![allow(clippy::unwrap_used)]

use entrata_client::{
    GetCustomers, GetExpiringLeases, GetLeaseDetails, GetLeases, GetMitsPropertyUnits,
    GetProperties, GetPropertyUnits, GetStatus, GetUnitTypes,
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
