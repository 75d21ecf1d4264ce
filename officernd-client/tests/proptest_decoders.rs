//! Decoders never panic, whatever JSON (or bytes) OfficeRnD sends.

#![allow(clippy::unwrap_used)] // test code: a panic is a failure

use chrono::{DateTime, Utc};
use officernd_client::Page;
use officernd_client::models::*;
use officernd_client::recurrence::{RRule, expand};
use officernd_client::webhook::{WebhookEvent, WebhookVerifier};
use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::{Map, Value};

/// Field names and values that hit the decoders' interesting paths.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("_id".to_string()),
        Just("start".to_string()),
        Just("end".to_string()),
        Just("startDate".to_string()),
        Just("endDate".to_string()),
        Just("validFrom".to_string()),
        Just("timezone".to_string()),
        Just("recurrence".to_string()),
        Just("rrule".to_string()),
        Just("exdates".to_string()),
        Just("resource".to_string()),
        Just("type".to_string()),
        Just("count".to_string()),
        Just("usedCount".to_string()),
        Just("floor".to_string()),
        Just("results".to_string()),
        Just("cursorNext".to_string()),
        Just("eventType".to_string()),
        Just("data".to_string()),
        Just("object".to_string()),
        "[a-zA-Z_]{1,8}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(Value::from("603dfbc260f4054084125d39")),
        Just(Value::from("2026-03-08T07:00:00.000Z")),
        Just(Value::from("2026-03-08T00:00:00.000Z")),
        Just(Value::from("America/New_York")),
        Just(Value::from("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3")),
        Just(Value::from("FREQ=MONTHLY;BYDAY=-1FR;INTERVAL=2")),
        Just(Value::from("membership.updated")),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn decode_all(v: &Value) {
    let _ = serde_json::from_value::<Member>(v.clone());
    let _ = serde_json::from_value::<Company>(v.clone());
    let _ = serde_json::from_value::<Membership>(v.clone());
    let _ = serde_json::from_value::<Plan>(v.clone());
    let _ = serde_json::from_value::<Location>(v.clone());
    let _ = serde_json::from_value::<Floor>(v.clone());
    let _ = serde_json::from_value::<ResourceType>(v.clone());
    let _ = serde_json::from_value::<Resource>(v.clone());
    let _ = serde_json::from_value::<Assignment>(v.clone());
    let _ = serde_json::from_value::<Pass>(v.clone());
    let _ = serde_json::from_value::<Checkin>(v.clone());
    let _ = serde_json::from_value::<Visitor>(v.clone());
    if let Ok(b) = serde_json::from_value::<Booking>(v.clone()) {
        let from: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let to: DateTime<Utc> = "2026-03-01T00:00:00Z".parse().unwrap();
        let _ = expand(&b, from, to);
    }
    let bytes = serde_json::to_vec(v).unwrap();
    let _ = Page::<Member>::from_slice(&bytes);
    let _ = Page::<Booking>::from_slice(&bytes);
    let _ = WebhookEvent::from_slice(&bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_json_never_panics(v in json()) {
        decode_all(&v);
        // as a record inside a page too
        let page = serde_json::json!({"rangeStart": 1, "rangeEnd": 1, "results": [v.clone()], "cursorNext": v});
        let _ = Page::<Membership>::from_slice(&serde_json::to_vec(&page).unwrap());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = Page::<Location>::from_slice(&bytes);
        let _ = WebhookEvent::from_slice(&bytes);
    }

    #[test]
    fn arbitrary_rrules_and_signature_headers_never_panic(rule in ".{0,60}", header in ".{0,80}") {
        let _ = RRule::parse(&rule);
        let verifier = WebhookVerifier::new(SecretString::from("s"));
        let _ = verifier.verify_at(&header, b"{}", Utc::now());
    }

    #[test]
    fn generated_rules_expand_without_panicking(
        freq in prop_oneof![Just("DAILY"), Just("WEEKLY"), Just("MONTHLY")],
        interval in 1u32..5,
        by_day in prop::sample::subsequence(vec!["MO", "TU", "WE", "TH", "FR", "SA", "SU", "1MO", "-1FR", "5SU"], 0..3),
        count in prop::option::of(0u32..30),
        zone in prop::sample::select(vec!["America/New_York", "America/Havana", "Australia/Lord_Howe", "Europe/Dublin", "Asia/Beirut", "America/Santiago"]),
        start_secs in 1_700_000_000i64..1_900_000_000,
    ) {
        let mut rule = format!("FREQ={freq};INTERVAL={interval}");
        if !by_day.is_empty() { rule.push_str(&format!(";BYDAY={}", by_day.join(","))); }
        if let Some(c) = count { rule.push_str(&format!(";COUNT={c}")); }
        let start = DateTime::<Utc>::from_timestamp(start_secs, 0).unwrap();
        let booking: Booking = serde_json::from_value(serde_json::json!({
            "_id": "603dfbc260f4054084125de1", "timezone": zone,
            "start": start.to_rfc3339(), "end": (start + chrono::Duration::minutes(90)).to_rfc3339(),
            "resource": "603dfbc260f4054084125dc1",
            "recurrence": {"rrule": rule}
        })).unwrap();
        if let Ok(occ) = expand(&booking, start, start + chrono::Duration::days(120)) {
            for w in occ.windows(2) {
                prop_assert!(w[0].start < w[1].start);
            }
            for o in &occ {
                prop_assert!(o.start <= o.end);
            }
            if let Some(c) = count {
                prop_assert!(occ.len() <= c as usize);
            }
        }
    }
}
