//! No secret may appear in Debug output, Display output or any log line.

use std::io::Write;
use std::sync::{Arc, Mutex};

use brivo_client::{NewUser, UserId, UserQuery};
use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use tracing_subscriber::fmt::MakeWriter;

use crate::common::*;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const SECRETS: &[&str] = &[
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    USERNAME,
    PASSWORD,
    "Y2xpZW50LWlkLThjMWQ6Y2xpZW50LXNlY3JldC03N2Fh", // Basic auth
    ACCESS,
    REFRESH,
    "access-2",
    "refresh-2",
    "73914628", // the PIN sent in create_user
];

/// The PIN of `fixtures/user_full.json`: too short to look for in logs
/// (ports and timestamps contain such digits), so only checked in `Debug`.
const FIXTURE_PIN: &str = "5678";

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} leaks {secret:?}:\n{text}");
    }
}

#[tokio::test]
async fn no_secret_in_logs_debug_or_display() {
    let capture = Capture::default();
    // everything at TRACE except the mock server's own logs, which print
    // the requests it receives (it is the far end, not the client)
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace,httpmock=off"))
        .with_writer(capture.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    password_grant(&server).await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("grant_type", "refresh_token");
            json(
                then,
                200,
                r#"{"access_token":"access-2","refresh_token":"refresh-2","expires_in":300}"#,
            );
        })
        .await;
    // a 401 with the first token (renewal), then a 503 (retry), then success
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/users/442211")
                .header("authorization", BEARER);
            json(then, 401, r#"{"error":"invalid_token"}"#);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/442211");
            json(then, 503, r#"{"code":503,"message":"down"}"#).up_to_n_times(1);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/442211");
            json(then, 200, fixture("user_full.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/api/users");
            json(then, 400, r#"{"code":400,"message":"Duplicate PIN"}"#);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.path("/v1/api/users");
            json(then, 200, fixture("users_with_bad_record.json"));
        })
        .await;

    let builder = builder(&server);
    let client = builder.clone().build().unwrap();
    let user = client.get_user(UserId(442211)).await.unwrap();
    let create_error = client
        .create_user(&NewUser::new("a", "b").pin("73914628"))
        .await
        .unwrap_err();
    let listing = client
        .list_users(UserQuery::default())
        .collect_all()
        .await
        .unwrap();
    // a persistent 401 whose body echoes the token, as Spring OAuth does
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1");
            then.respond_with(|req: &httpmock::HttpMockRequest| {
                let sent = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .trim_start_matches("Bearer ")
                    .to_owned();
                httpmock::HttpMockResponse::builder()
                    .status(401)
                    .header("content-type", "application/json")
                    .body(format!(
                        r#"{{"error":"invalid_token","error_description":"Access token expired: {sent}","echo":"{sent}"}}"#
                    ))
                    .build()
            });
        })
        .await;
    let echo_error = client.get_user(UserId(1)).await.unwrap_err();
    assert!(
        matches!(echo_error, brivo_client::Error::Unauthorized { .. }),
        "{echo_error:?}"
    );
    // a token failure, for its error
    let bad = MockServer::start_async().await;
    bad.mock_async(|when, then| {
        when.path("/oauth/token");
        json(
            then,
            401,
            r#"{"error":"invalid_grant","error_description":"Bad credentials"}"#,
        );
    })
    .await;
    let auth_error = super::common::client(&bad)
        .authenticate()
        .await
        .unwrap_err();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{logs}");
    }
    assert!(logs.contains("brivo.get_user"), "spans are logged:\n{logs}");
    assert!(logs.contains("brivo.oauth_token"), "{logs}");
    assert!(
        logs.contains("renewing it once"),
        "the 401 path ran:\n{logs}"
    );
    assert!(logs.contains("retrying"), "the retry path ran:\n{logs}");
    assert!(logs.contains("get_user"), "{logs}");
    assert_clean("logs", &logs);
    for (what, text) in [
        ("client", format!("{client:?}")),
        ("builder", format!("{builder:?}")),
        ("credentials", format!("{:?}", credentials())),
        ("user", format!("{user:?}")),
        ("listing", format!("{listing:?}")),
        ("create error", format!("{create_error:?} {create_error}")),
        ("auth error", format!("{auth_error:?} {auth_error}")),
        ("echoing 401", format!("{echo_error:?} {echo_error}")),
        (
            "paginator",
            format!("{:?}", client.list_users(UserQuery::default())),
        ),
    ] {
        assert_clean(what, &text);
        assert!(!text.contains(FIXTURE_PIN), "{what} leaks the PIN:\n{text}");
    }
    // the redaction is real: the PIN is there, just not printed
    assert_eq!(user.pin.unwrap().expose(), FIXTURE_PIN);
}
