//! `officernd-signature` verification and typed webhook events.

#![allow(clippy::unwrap_used)] // test code: a panic is a failure

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::fixture;
use hmac::{Hmac, KeyInit, Mac};
use officernd_client::Error;
use officernd_client::models::MembershipCalculatedStatus;
use officernd_client::webhook::{
    WebhookEvent, WebhookEventType, WebhookObject, WebhookVerifier, sign,
};
use secrecy::SecretString;
use sha2::Sha256;

const SECRET: &str = "1b1b1b1b-1b1b-1b1b-1b1b-1b1b1b1b1b1b";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 40, 0).unwrap()
}

fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(SecretString::from(SECRET))
}

/// The reference computation, written out independently of the crate:
/// hex(HMAC_SHA256(secret, body + "." + t)), as in officernd/webhooks-demo.
fn reference_header(body: &[u8], t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    let mut message = body.to_vec();
    message.extend_from_slice(format!(".{t}").as_bytes());
    mac.update(&message);
    format!(
        "t={t},signature={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[test]
fn a_valid_signature_verifies_and_matches_the_reference() {
    let body = fixture("webhook_membership_updated.json");
    let t = now().timestamp() - 10;
    let header = reference_header(body.as_bytes(), t);
    assert_eq!(header, sign(SECRET.as_bytes(), body.as_bytes(), t));
    verifier()
        .verify_at(&header, body.as_bytes(), now())
        .unwrap();
    // parsed by key, not position, spaces tolerated
    let (ts, sig) = header.split_once(',').unwrap();
    let swapped = format!("{sig} , {ts}");
    verifier()
        .verify_at(&swapped, body.as_bytes(), now())
        .unwrap();
}

#[test]
fn a_tampered_body_or_wrong_secret_is_rejected() {
    let body = fixture("webhook_membership_updated.json");
    let t = now().timestamp();
    let header = reference_header(body.as_bytes(), t);
    let tampered = body.replace("expired", "active");
    assert!(matches!(
        verifier().verify_at(&header, tampered.as_bytes(), now()),
        Err(Error::WebhookSignatureMismatch)
    ));
    // re-serialized JSON (whitespace) is a different body
    let reserialized = format!("{body} ");
    assert!(matches!(
        verifier().verify_at(&header, reserialized.as_bytes(), now()),
        Err(Error::WebhookSignatureMismatch)
    ));
    let other = WebhookVerifier::new(SecretString::from("another-secret"));
    assert!(matches!(
        other.verify_at(&header, body.as_bytes(), now()),
        Err(Error::WebhookSignatureMismatch)
    ));
    // a timestamp changed in the header breaks the signature too
    let shifted = header.replace(&format!("t={t}"), &format!("t={}", t + 1));
    assert!(matches!(
        verifier().verify_at(&shifted, body.as_bytes(), now()),
        Err(Error::WebhookSignatureMismatch)
    ));
}

#[test]
fn stale_and_future_timestamps_are_rejected_beyond_the_tolerance() {
    let body = fixture("webhook_membership_updated.json");
    let at = |offset: i64| reference_header(body.as_bytes(), now().timestamp() + offset);
    verifier()
        .verify_at(&at(-300), body.as_bytes(), now())
        .unwrap();
    verifier()
        .verify_at(&at(300), body.as_bytes(), now())
        .unwrap();
    match verifier().verify_at(&at(-301), body.as_bytes(), now()) {
        Err(Error::WebhookTimestamp {
            skew_seconds: 301,
            tolerance_seconds: 300,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        verifier().verify_at(&at(301), body.as_bytes(), now()),
        Err(Error::WebhookTimestamp { .. })
    ));
    let strict = verifier().with_tolerance(Duration::from_secs(60));
    assert!(strict.verify_at(&at(-61), body.as_bytes(), now()).is_err());
    strict.verify_at(&at(-60), body.as_bytes(), now()).unwrap();
    // the system-clock convenience rejects a delivery signed in 2026-11-23
    // only if the machine's clock is far from it; sign one for "now" instead
    let fresh = reference_header(body.as_bytes(), Utc::now().timestamp());
    verifier().verify(&fresh, body.as_bytes()).unwrap();
}

#[test]
fn malformed_headers_are_rejected_with_a_reason() {
    let body = b"{}";
    let good_sig = "0".repeat(64);
    for (header, reason) in [
        ("", "a part is not key=value"),
        ("garbage", "a part is not key=value"),
        (&format!("signature={good_sig}") as &str, "no t= timestamp"),
        ("t=1700000000", "no signature= value"),
        (
            &format!("t=yesterday,signature={good_sig}"),
            "t= is not Unix seconds",
        ),
        ("t=1700000000,signature=zz-not-hex", "signature= is not hex"),
        (
            &format!("t=99999999999999999,signature={good_sig}"),
            "t= is out of range",
        ),
    ] {
        match verifier().verify_at(header, body, now()) {
            Err(Error::WebhookHeader { reason: got }) => assert_eq!(got, reason, "{header}"),
            other => panic!("{header}: {other:?}"),
        }
    }
    // well-formed but wrong
    let header = format!("t={},signature={good_sig}", now().timestamp());
    assert!(matches!(
        verifier().verify_at(&header, body, now()),
        Err(Error::WebhookSignatureMismatch)
    ));
}

#[test]
fn typed_events() {
    let body = fixture("webhook_membership_updated.json");
    let header = reference_header(body.as_bytes(), now().timestamp());
    let event = verifier()
        .verify_event_at(&header, body.as_bytes(), now())
        .unwrap();
    assert_eq!(event.id, "5f8d6c9747120500116899e4");
    assert_eq!(event.event_type, WebhookEventType::MembershipUpdated);
    assert_eq!(
        event.created_at.unwrap().to_rfc3339(),
        "2026-11-23T10:38:15.127+00:00"
    );
    match &event.object {
        WebhookObject::Membership(m) => {
            assert_eq!(
                m.calculated_status,
                Some(MembershipCalculatedStatus::Expired)
            );
            assert_eq!(m.end_date.unwrap().to_string(), "2026-11-22");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(event.data["company"], "603dfbc260f4054084125d80");

    let other =
        WebhookEvent::from_slice(fixture("webhook_company_paymentdetails_removed.json").as_bytes())
            .unwrap();
    assert_eq!(
        other.event_type,
        WebhookEventType::Other("company.paymentdetails.removed".into())
    );
    assert!(matches!(other.object, WebhookObject::Other(_)));

    for (event_type, object, expect) in [
        (
            "booking.created",
            r#"{"_id":"603dfbc260f4054084125de0","start":"2026-11-23T10:00:00.000Z","end":"2026-11-23T11:00:00.000Z","resource":"603dfbc260f4054084125dc1","timezone":"Europe/Lisbon"}"#,
            "booking",
        ),
        (
            "member.removed",
            r#"{"_id":"603dfbc260f4054084125d33","status":"active"}"#,
            "member",
        ),
        (
            "pass.updated",
            r#"{"_id":"6080186f490fcf6e0537ec52","count":15,"usedCount":15,"status":"used"}"#,
            "pass",
        ),
        ("ticket.created", r#"{"_id":"x"}"#, "other"),
    ] {
        let body = format!(
            r#"{{"event":"e1","eventType":"{event_type}","data":{{"object":{object}}},"createdAt":"2026-11-23T10:38:15.127Z"}}"#
        );
        let event = WebhookEvent::from_slice(body.as_bytes()).unwrap();
        let kind = match event.object {
            WebhookObject::Booking(_) => "booking",
            WebhookObject::Member(_) => "member",
            WebhookObject::Pass(_) => "pass",
            WebhookObject::Membership(_) => "membership",
            WebhookObject::Other(_) => "other",
            _ => "unknown",
        };
        assert_eq!(kind, expect, "{event_type}");
        assert_eq!(event.event_type.as_str(), event_type);
    }
}

#[test]
fn a_malformed_object_names_its_path() {
    let body = br#"{"event":"e1","eventType":"membership.created","data":{"object":{"_id":"603dfbc260f4054084125d30","startDate":"31/12/2026"}}}"#;
    match WebhookEvent::from_slice(body) {
        Err(Error::Decode { method, path, .. }) => {
            assert_eq!(method, "webhook");
            assert_eq!(path, "data.object.startDate");
        }
        other => panic!("{other:?}"),
    }
    // a partial removed object is kept untyped, its id still readable
    let removed = br#"{"event":"e2","eventType":"booking.removed","data":{"object":{"_id":"603dfbc260f4054084125de0"}}}"#;
    let event = WebhookEvent::from_slice(removed).unwrap();
    assert!(matches!(event.object, WebhookObject::Other(_)));
    assert_eq!(event.object_id(), Some("603dfbc260f4054084125de0"));
    assert!(matches!(
        WebhookEvent::from_slice(b"not json"),
        Err(Error::Decode { .. })
    ));
    assert!(matches!(
        WebhookEvent::from_slice(br#"{"event":"e1"}"#),
        Err(Error::Decode { .. })
    ));
}

mod hostile {
    use super::*;
    use officernd_client::webhook::{MAX_SIGNATURES, ReplayGuard, WebhookError, WebhookReceiver};
    use proptest::prelude::*;

    #[test]
    fn too_many_signature_entries_are_refused_naming_the_limit() {
        let body = fixture("webhook_membership_updated.json");
        let t = now().timestamp();
        let good = reference_header(body.as_bytes(), t);
        let sig = good.split_once("signature=").unwrap().1;
        let header = format!(
            "t={t}{}",
            format!(",signature={sig}").repeat(MAX_SIGNATURES + 1)
        );
        let e = verifier()
            .verify_at(&header, body.as_bytes(), now())
            .unwrap_err();
        assert!(matches!(e, Error::WebhookHeader { .. }), "{e:?}");
        assert!(e.to_string().contains("MAX_SIGNATURES"), "{e}");
        // at the limit it verifies
        let header = format!(
            "t={t}{}",
            format!(",signature={sig}").repeat(MAX_SIGNATURES)
        );
        verifier()
            .verify_at(&header, body.as_bytes(), now())
            .unwrap();
    }

    #[test]
    fn a_receiver_accepts_a_delivery_once() {
        let body = fixture("webhook_membership_updated.json");
        let receiver = WebhookReceiver::new(verifier())
            .with_replay_guard(ReplayGuard::new(Duration::from_secs(300), 4));
        let header = reference_header(body.as_bytes(), now().timestamp());
        let event = receiver
            .receive_at(&header, body.as_bytes(), now())
            .unwrap();
        assert_eq!(event.id, "5f8d6c9747120500116899e4");
        let e = receiver
            .receive_at(&header, body.as_bytes(), now())
            .unwrap_err();
        assert!(matches!(e, WebhookError::Replayed { .. }), "{e:?}");
        assert!(!format!("{e} {e:?} {receiver:?}").contains(SECRET));
    }

    fn header() -> impl Strategy<Value = String> {
        let part = prop_oneof![
            "[ -~]{0,20}",
            any::<i64>().prop_map(|t| format!("t={t}")),
            "[0-9a-f]{0,70}".prop_map(|s| format!("signature={s}")),
            Just(" , ".to_owned()),
            Just("=".to_owned()),
        ];
        prop::collection::vec(part, 0..40).prop_map(|p| p.join(","))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn arbitrary_headers_and_bodies_never_panic(
            header in header(),
            body in prop::collection::vec(any::<u8>(), 0..300),
            now_secs in prop_oneof![any::<i64>(), 1_700_000_000i64..1_800_000_000],
        ) {
            let now = DateTime::<Utc>::from_timestamp(now_secs, 0).unwrap_or_default();
            let _ = verifier().verify_at(&header, &body, now);
            let receiver = WebhookReceiver::new(verifier()).with_max_body_bytes(200);
            let _ = receiver.receive_at(&header, &body, now);
        }

        #[test]
        fn signed_arbitrary_bodies_verify_and_are_admitted_once(
            id in "[a-z0-9]{0,12}",
            junk in "[ -~]{0,40}",
            offset in -300i64..=300,
        ) {
            let body = serde_json::json!({"event": id, "eventType": "company.updated",
                "data": {"object": {"note": junk}}}).to_string();
            let header = reference_header(body.as_bytes(), now().timestamp() + offset);
            let receiver = WebhookReceiver::new(verifier());
            match receiver.receive_at(&header, body.as_bytes(), now()) {
                Ok(event) => {
                    prop_assert_eq!(&event.id, &id);
                    let again = receiver.receive_at(&header, body.as_bytes(), now());
                    let replayed = matches!(again, Err(WebhookError::Replayed { .. }));
                    prop_assert!(replayed, "{:?}", again);
                }
                Err(WebhookError::MissingEventId) => prop_assert!(id.is_empty()),
                Err(e) => prop_assert!(false, "{}", e),
            }
        }
    }
}
