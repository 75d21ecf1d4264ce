//! Arbitrary input never panics the decoders.

use proptest::prelude::*;
use serde_json::Value;

use crate::error::ErrorBody;
use crate::models::common::parse_datetime;
use crate::pagination::decode_listing;
use crate::{AccessPoint, Credential, CustomField, DigitalInvitation, Group, Site, User};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9:\\-T .Z]{0,24}".prop_map(Value::String),
        Just(Value::String("2017-09-13T00:00:00Z".into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("id".to_string()),
            Just("data".to_string()),
            Just("count".to_string()),
            Just("externalId".to_string()),
            Just("created".to_string()),
            Just("effectiveFrom".to_string()),
            Just("emails".to_string()),
            Just("customFields".to_string()),
            Just("status".to_string()),
            Just("fieldType".to_string()),
            "[a-z]{1,8}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn decode_all(value: &Value) {
    let _ = serde_json::from_value::<User>(value.clone());
    let _ = serde_json::from_value::<Group>(value.clone());
    let _ = serde_json::from_value::<Credential>(value.clone());
    let _ = serde_json::from_value::<DigitalInvitation>(value.clone());
    let _ = serde_json::from_value::<Site>(value.clone());
    let _ = serde_json::from_value::<AccessPoint>(value.clone());
    let _ = serde_json::from_value::<CustomField>(value.clone());
    let body = value.to_string();
    let _ = decode_listing::<User>("test", body.as_bytes(), 0);
    let _ = decode_listing::<Group>("test", body.as_bytes(), 0);
}

proptest! {
    #[test]
    fn arbitrary_json_never_panics_a_decoder(value in arb_json()) {
        decode_all(&value);
        // the same value as a listing's only record
        let page = serde_json::json!({"data": [value], "count": 1});
        let (listing, _) = decode_listing::<User>("test", page.to_string().as_bytes(), 0)
            .expect("the envelope itself is valid");
        prop_assert_eq!(listing.items.len() + listing.skipped.len(), 1);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_error_reader(body in prop::collection::vec(any::<u8>(), 0..400)) {
        let parsed = ErrorBody::parse(&body);
        if let Some(m) = parsed.message {
            prop_assert!(m.chars().count() <= 301);
        }
        let _ = decode_listing::<User>("test", &body, 0);
    }

    #[test]
    fn arbitrary_text_never_panics_the_datetime_parser(text in "\\PC{0,40}") {
        let _ = parse_datetime(&text);
    }

    #[test]
    fn datetimes_round_trip(secs in 0i64..4_102_444_800) {
        let t = chrono::DateTime::from_timestamp(secs, 0).expect("in range");
        prop_assert_eq!(parse_datetime(&crate::format_datetime(&t)).expect("parses"), t);
    }
}

#[test]
fn public_types_are_thread_safe() {
    fn check<T: Send + Sync + 'static>() {}
    check::<crate::Client>();
    check::<crate::Error>();
    check::<crate::Paginator<User>>();
    check::<crate::Listing<User>>();
}
