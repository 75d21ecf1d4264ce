//! The hostile-server suite: each real client against a sandbox that misbehaves the
//! way an attacker or a broken upstream would. Redirects to another origin, huge and
//! endless bodies, absurd headers and numbers, echoed secrets, a persistent 401.
//!
//! What must hold: no credential reaches a second origin; nothing panics or hangs;
//! bodies are cut at a cap with an error that names it; no secret reaches an
//! error's Display or Debug or the logs; a refused login is not retried per call.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use officernd_client::query::LocationsQuery;
use sandbox::{Fault, Sandbox, story};

const GROUP: brivo_client::GroupId = brivo_client::GroupId(story::GROUP_HARBOR_VIEW_RESIDENTS);
const LIMIT: Duration = Duration::from_secs(30);

/// Runs a client call with a time limit: a hang is a failure too.
async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {LIMIT:?}"))
}

/// Asserts no secret appears in `shown`.
fn assert_clean(sb: &Sandbox, what: &str, shown: &str) {
    for secret in common::secrets(sb) {
        assert!(
            !shown.contains(&secret),
            "{what}: {secret:?} shown in {shown}"
        );
    }
    // sandbox access and refresh tokens all start so
    assert!(!shown.contains("sbx-"), "{what}: a token shown in {shown}");
}

#[tokio::test]
async fn no_client_follows_a_redirect_with_its_credentials() {
    let sb = Sandbox::start_default().await.unwrap();
    let location = format!("{}/steal", sb.elsewhere_url());
    for status in [301, 302, 303, 307, 308] {
        let redirect = || Fault::Redirect {
            times: 1,
            status,
            location: location.clone(),
        };
        // the token requests: a fresh client's first call
        let brivo = common::brivo(&sb);
        sb.faults().brivo(redirect());
        let err = within("brivo token", brivo.authenticate())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("redirect"), "{status}: {err}");
        let officernd = common::officernd(&sb);
        sb.faults().officernd(redirect());
        let err = within(
            "officernd token",
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("redirect"), "{status}: {err}");

        // authenticated API calls
        within("brivo login", brivo.authenticate()).await.unwrap();
        sb.faults().brivo(redirect());
        let err = within("brivo api", brivo.get_group(GROUP))
            .await
            .unwrap_err();
        assert!(
            matches!(err, brivo_client::Error::Redirected { .. }),
            "{status}: {err:?}"
        );
        within(
            "officernd login",
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await
        .unwrap();
        sb.faults().officernd(redirect());
        let err = within(
            "officernd api",
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, officernd_client::Error::Redirected { .. }),
            "{status}: {err:?}"
        );
        for entrata in [common::entrata(&sb), common::entrata_gateway(&sb)] {
            sb.faults().entrata(redirect());
            let err = within("entrata", entrata.get_status()).await.unwrap_err();
            assert!(
                matches!(err, entrata_client::Error::Redirected { .. }),
                "{status}: {err:?}"
            );
        }
    }
    let stolen = sb.elsewhere_requests();
    assert!(
        stolen.is_empty(),
        "requests reached the other origin: {stolen:?}"
    );
}

/// Every client, every shape of oversized body: a clear error naming the limit for a
/// success body, a short message for an error body, and neither read to its end.
#[tokio::test]
async fn huge_and_endless_bodies_end_in_a_clear_error() {
    let sb = Sandbox::start_default().await.unwrap();
    // one byte over the largest default cap (Entrata's 64 MiB)
    const BIG: u64 = (64 << 20) + 1;
    let faults = [
        (
            "huge success",
            Fault::HugeBody {
                times: 1,
                status: 200,
                bytes: BIG,
            },
        ),
        (
            "endless success",
            Fault::EndlessBody {
                times: 1,
                status: 200,
            },
        ),
        (
            "huge error",
            Fault::HugeBody {
                times: 1,
                status: 400,
                bytes: BIG,
            },
        ),
        (
            "endless error",
            Fault::EndlessBody {
                times: 1,
                status: 400,
            },
        ),
    ];
    let brivo = common::brivo(&sb);
    let officernd = common::officernd(&sb);
    let entrata = common::entrata(&sb);
    for (what, fault) in faults {
        let success = what.ends_with("success");
        // token endpoints first (fresh clients), then API calls
        let fresh = common::brivo(&sb);
        sb.faults().brivo(fault.clone());
        let err = within(what, fresh.authenticate())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.len() < 100_000,
            "brivo token {what}: {} bytes of error",
            err.len()
        );
        if success {
            assert!(err.contains("bytes"), "brivo token {what}: {err}");
        }
        let fresh = common::officernd(&sb);
        sb.faults().officernd(fault.clone());
        let err = within(
            what,
            fresh.list_locations(LocationsQuery::new()).collect_all(),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            err.len() < 100_000,
            "officernd token {what}: {} bytes",
            err.len()
        );
        if success {
            assert!(err.contains("bytes"), "officernd token {what}: {err}");
        }

        within("login", brivo.authenticate()).await.unwrap();
        sb.faults().brivo(fault.clone());
        let err = within(what, brivo.get_group(GROUP)).await.unwrap_err();
        if success {
            assert!(
                matches!(err, brivo_client::Error::BodyTooLarge { .. }),
                "brivo {what}: {err:?}"
            );
        }
        assert!(err.to_string().len() < 100_000, "brivo {what}");

        within(
            "login",
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await
        .unwrap();
        sb.faults().officernd(fault.clone());
        let err = within(
            what,
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await
        .unwrap_err();
        if success {
            assert!(
                matches!(err, officernd_client::Error::BodyTooLarge { .. }),
                "officernd {what}: {err:?}"
            );
        }
        assert!(err.to_string().len() < 100_000, "officernd {what}");

        sb.faults().entrata(fault.clone());
        let err = within(what, entrata.get_status()).await.unwrap_err();
        if success {
            assert!(
                matches!(err, entrata_client::Error::BodyTooLarge { .. }),
                "entrata {what}: {err:?}"
            );
        }
        assert!(err.to_string().len() < 100_000, "entrata {what}");
    }
}

/// `Retry-After` in every form HTTP allows, and in forms it does not: a throttled call
/// waits at most the client's cap, then succeeds.
#[tokio::test]
async fn absurd_retry_after_values_neither_panic_nor_hang() {
    let sb = Sandbox::start_default().await.unwrap();
    let values = [
        "1e30",
        "-1",
        "18446744073709551616",
        "99999999999999999999999999999",
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "soon",
        "",
    ];
    let brivo = common::brivo(&sb);
    let officernd = common::officernd(&sb);
    let entrata = common::entrata(&sb);
    within("login", brivo.authenticate()).await.unwrap();
    for value in values {
        let throttled = |body: &str| Fault::Respond {
            times: 1,
            status: 429,
            headers: vec![("retry-after".into(), value.into())],
            body: body.into(),
        };
        sb.faults()
            .brivo(throttled(r#"{"code":429,"message":"Too Many Requests"}"#));
        within(value, brivo.get_group(GROUP)).await.unwrap();
        sb.faults().officernd(throttled(
            r#"{"statusCode":429,"message":"ThrottlerException: Too Many Requests"}"#,
        ));
        within(
            value,
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await
        .unwrap();
        sb.faults().entrata(throttled(
            r#"{"response":{"error":{"code":429,"message":"Too many requests."}}}"#,
        ));
        within(value, entrata.get_status()).await.unwrap();
    }
}

/// Token answers with lifetimes no arithmetic should trust: the client survives and,
/// once the server answers sanely, works.
#[tokio::test]
async fn absurd_token_lifetimes_do_not_panic() {
    let sb = Sandbox::start_default().await.unwrap();
    for expires_in in [
        "18446744073709551615",
        "-1",
        "1e300",
        "0",
        "\"3600\"",
        "null",
    ] {
        let token = |body: String| Fault::Respond {
            times: 1,
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        };
        let brivo = common::brivo(&sb);
        sb.faults().brivo(token(format!(
            r#"{{"access_token":"x-brivo","token_type":"bearer","refresh_token":"x-r","expires_in":{expires_in}}}"#
        )));
        let _ = within(expires_in, brivo.authenticate()).await;
        // the fake token is refused; the client logs in again and goes on
        within(expires_in, brivo.get_group(GROUP)).await.unwrap();

        let officernd = common::officernd(&sb);
        sb.faults().officernd(token(format!(
            r#"{{"access_token":"x-ornd","token_type":"Bearer","expires_in":{expires_in}}}"#
        )));
        let _ = within(
            expires_in,
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await;
        within(
            expires_in,
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await
        .unwrap();
    }
}

/// Collects everything logged at any level while it is the default subscriber.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn echoed_secrets_never_reach_display_debug_or_logs() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sb = Sandbox::start_default().await.unwrap();
    let echo = |status| Fault::EchoRequest { times: 1, status };
    let mut shown = Vec::new();
    for status in [400, 401, 403] {
        // the token requests carry the password grant, the client secret, Basic auth
        let brivo = common::brivo(&sb);
        sb.faults().brivo(echo(status));
        let err = within("brivo token", brivo.authenticate())
            .await
            .unwrap_err();
        shown.push(("brivo token", format!("{err} {err:?}")));
        let officernd = common::officernd(&sb);
        sb.faults().officernd(echo(status));
        let err = within(
            "officernd token",
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await
        .unwrap_err();
        shown.push(("officernd token", format!("{err} {err:?}")));
        // API calls carry the bearer token and the api key
        within("login", brivo.authenticate()).await.unwrap();
        sb.faults().brivo(echo(status));
        if let Err(err) = within("brivo api", brivo.get_group(GROUP)).await {
            shown.push(("brivo api", format!("{err} {err:?}")));
        }
        within(
            "login",
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await
        .unwrap();
        sb.faults().officernd(echo(status));
        if let Err(err) = within(
            "officernd api",
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await
        {
            shown.push(("officernd api", format!("{err} {err:?}")));
        }
        for entrata in [common::entrata(&sb), common::entrata_gateway(&sb)] {
            sb.faults().entrata(echo(status));
            let err = within("entrata", entrata.get_status()).await.unwrap_err();
            shown.push(("entrata", format!("{err} {err:?}")));
        }
    }
    // the echo did reach the clients: the dumps' own words are there
    assert!(
        shown.iter().any(|(_, s)| s.contains("debug:")),
        "no echo seen: {shown:?}"
    );
    for (what, text) in &shown {
        assert_clean(&sb, what, text);
    }
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(!logged.is_empty());
    assert_clean(&sb, "logs", &logged);
}

/// A 200 whose field of the wrong type holds a secret: decoders quote the value they
/// refuse, and neither the decode error nor a skipped record's reason may carry it.
#[tokio::test(flavor = "current_thread")]
async fn a_secret_in_a_wrongly_typed_field_of_a_200_never_shows() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sb = Sandbox::start_default().await.unwrap();
    let c = sb.credentials().clone();
    let ok = |body: String| Fault::Respond {
        times: 1,
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    };
    let mut shown = Vec::new();
    // Brivo: the token answer, then an API answer
    let brivo = common::brivo(&sb);
    sb.faults().brivo(ok(format!(
        r#"{{"access_token":"a","expires_in":"{}"}}"#,
        c.brivo_password
    )));
    let err = within("brivo token", brivo.authenticate())
        .await
        .unwrap_err();
    assert!(matches!(err, brivo_client::Error::Decode { .. }), "{err:?}");
    shown.push(("brivo token", format!("{err} {err:?}")));
    within("login", brivo.authenticate()).await.unwrap();
    sb.faults().brivo(ok(format!(
        r#"{{"id":"{}","name":"Residents"}}"#,
        c.brivo_api_key
    )));
    let err = within("brivo api", brivo.get_group(GROUP))
        .await
        .unwrap_err();
    assert!(matches!(err, brivo_client::Error::Decode { .. }), "{err:?}");
    shown.push(("brivo api", format!("{err} {err:?}")));
    // OfficeRnD: one object, then a listing whose record is skipped
    let officernd = common::officernd(&sb);
    within(
        "login",
        officernd
            .list_locations(LocationsQuery::new())
            .collect_all(),
    )
    .await
    .unwrap();
    sb.faults().officernd(ok(format!(
        r#"{{"_id":"x","timezone":"{}"}}"#,
        c.officernd_client_secret
    )));
    let id = officernd_client::models::LocationId::from("0123456789abcdef01234567");
    let err = within("officernd api", officernd.get_location(&id))
        .await
        .unwrap_err();
    assert!(
        matches!(err, officernd_client::Error::Decode { .. }),
        "{err:?}"
    );
    shown.push(("officernd api", format!("{err} {err:?}")));
    sb.faults().officernd(ok(format!(
        r#"[{{"_id":"0123456789abcdef01234567","timezone":"{}"}}]"#,
        c.officernd_client_secret
    )));
    let page = within(
        "officernd list",
        officernd
            .list_locations(LocationsQuery::new())
            .collect_all(),
    )
    .await;
    shown.push(("officernd list", format!("{page:?}")));
    // Entrata: a property whose parent id is the password is skipped, with a reason
    let entrata = common::entrata(&sb);
    sb.faults().entrata(ok(format!(
        r#"{{"response":{{"code":200,"result":{{"PhysicalProperty":{{"Property":[{{"PropertyID":1,"ParentPropertyID":"{}"}}]}}}}}}}}"#,
        c.entrata_password
    )));
    let properties = within(
        "entrata",
        entrata.get_properties(&entrata_client::PropertiesRequest::new()),
    )
    .await
    .unwrap();
    assert_eq!(properties.skipped.len(), 1, "{properties:?}");
    shown.push((
        "entrata",
        format!("{properties:?} {}", properties.skipped[0]),
    ));
    for (what, text) in &shown {
        assert_clean(&sb, what, text);
    }
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(logged.contains("skipped"), "{logged}");
    assert_clean(&sb, "logs", &logged);
}

/// A login that keeps being refused costs a bounded number of token requests, then a
/// clear stop, whatever the number of calls behind it.
#[tokio::test]
async fn a_persistent_401_stops_asking_for_tokens() {
    let sb = Sandbox::start_default().await.unwrap();
    let refused = |body: &str| Fault::Respond {
        times: 1_000,
        status: 401,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into(),
    };
    sb.faults()
        .brivo(refused(
            r#"{"error":"invalid_grant","error_description":"Bad credentials"}"#,
        ))
        .officernd(refused(
            r#"{"statusCode":401,"message":"Unauthorized","error":"invalid_client"}"#,
        ));
    let brivo = common::brivo(&sb);
    let officernd = common::officernd(&sb);
    let mut last = (String::new(), String::new());
    for _ in 0..20 {
        last.0 = within("brivo", brivo.get_group(GROUP))
            .await
            .unwrap_err()
            .to_string();
        last.1 = within(
            "officernd",
            officernd
                .list_locations(LocationsQuery::new())
                .collect_all(),
        )
        .await
        .unwrap_err()
        .to_string();
    }
    let brivo_tokens = sb
        .brivo()
        .stats()
        .by_route
        .get("POST /oauth/token")
        .copied()
        .unwrap_or(0);
    let officernd_tokens = sb
        .officernd_stats()
        .by_route
        .get("POST /oauth/token")
        .copied()
        .unwrap_or(0);
    assert!(
        (1..=3).contains(&brivo_tokens),
        "{brivo_tokens} Brivo token requests for 20 calls"
    );
    assert!(
        (1..=3).contains(&officernd_tokens),
        "{officernd_tokens} OfficeRnD token requests for 20 calls"
    );
    assert!(last.0.contains("check the credentials"), "{}", last.0);
    assert!(last.1.contains("check the credentials"), "{}", last.1);
}
