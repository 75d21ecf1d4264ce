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
    "5678", // a PIN
];

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} leaks {secret:?}:\n{text}");
    }
}

#[tokio::test]
async fn no_secret_in_logs_debug_or_display() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
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
        .create_user(&NewUser::new("a", "b").pin("5678"))
        .await
        .unwrap_err();
    let listing = client
        .list_users(UserQuery::default())
        .collect_all()
        .await
        .unwrap();
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
    assert!(logs.contains("brivo.call"), "spans are logged:\n{logs}");
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
        (
            "paginator",
            format!("{:?}", client.list_users(UserQuery::default())),
        ),
    ] {
        assert_clean(what, &text);
    }
    // the redaction is real: the PIN is there, just not printed
    assert_eq!(user.pin.unwrap().expose(), "5678");
}
