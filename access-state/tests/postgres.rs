//! The conformance suite on `PostgresState`, against the server named by
//! `ACCESS_STATE_TEST_POSTGRES_URL` (`.ci/run` starts one). Unset: the tests
//! say they are skipped and pass, except under `CI=true`, where they fail.
//! Every test uses its own namespaces, so they run in parallel on one
//! database; each "runner" is a new `PostgresState` (its own connection).
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)] // helpers of tests

#[macro_use]
mod common;

use std::io::Write;
use std::sync::Once;

use access_state::{PostgresState, RunState, StateError};
use common::Harness;

const URL_VAR: &str = "ACCESS_STATE_TEST_POSTGRES_URL";

fn url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{URL_VAR} is not set, and CI=true: the PostgreSQL tests must not be skipped in CI \
                 (.ci/run starts a server and sets it)"
            );
            static SAID: Once = Once::new();
            SAID.call_once(|| {
                // Straight to stderr, so that it shows even for passing tests.
                let _ = writeln!(
                    std::io::stderr(),
                    "skipped: set {URL_VAR}=postgres://user@host:port/dbname to run the PostgreSQL run-state tests"
                );
            });
            None
        }
    }
}

async fn setup(test: &str) -> Option<Harness> {
    let url = url()?;
    Some(Harness::new(
        test,
        move || {
            let url = url.clone();
            Box::pin(async move {
                Box::new(PostgresState::connect(&url).await.unwrap()) as Box<dyn RunState>
            })
        },
        None,
    ))
}

conformance_tests!(setup);

/// `url` with one more query parameter.
fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_is_never_shown() {
    let Some(url) = url() else { return };
    // Port 1 on loopback: nothing listens, the connection is refused.
    let e = PostgresState::connect("postgres://runner:hunter2-secret@127.0.0.1:1/state")
        .await
        .unwrap_err();
    let mut chain = format!("{e} {e:?}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        chain.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!chain.contains("hunter2"), "{chain}");
    assert!(
        chain.contains("postgres://runner@127.0.0.1:1/state"),
        "{chain}"
    );

    let e = PostgresState::connect("postgres://runner:hunter2-secret@127.0.0.1:notaport/db")
        .await
        .unwrap_err();
    assert!(matches!(e, StateError::Open { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("hunter2"));

    // A password the (trust-auth) test server ignores: not in Debug either.
    let with_password = url.replacen(
        "postgres://postgres@",
        "postgres://postgres:hunter2-secret@",
        1,
    );
    let s = PostgresState::connect(&with_password).await.unwrap();
    assert!(!format!("{s:?}").contains("hunter2"), "{s:?}");
    assert!(!s.target().contains("hunter2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_is_reopened() {
    let Some(url) = url() else { return };
    let app = common::unique("reconnect").replace('-', "_");
    let s = PostgresState::connect(&with_param(&url, &format!("application_name={app}")))
        .await
        .unwrap();
    let ns = common::unique("reconnect");
    let prefix = s.installation_prefix(&ns).await.unwrap();
    let killed = admin(&url)
        .await
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .await
        .unwrap();
    assert_eq!(killed.len(), 1, "the state's connection was found");
    // The first call may see the dying connection; the next one reconnects.
    let mut last = None;
    for _ in 0..50 {
        match s.installation_prefix(&ns).await {
            Ok(p) => {
                last = Some(p);
                break;
            }
            Err(e) => {
                assert!(matches!(e, StateError::Query { .. }), "{e:?}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
    assert_eq!(last, Some(prefix));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_of_its_own_and_a_newer_version_refused() {
    let Some(url) = url() else { return };
    let schema = common::unique("schema").replace('-', "_");
    let admin = admin(&url).await;
    admin
        .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .unwrap();
    let scoped = with_param(&url, &format!("options=-csearch_path%3D{schema}"));
    let s = PostgresState::connect(&scoped).await.unwrap();
    s.installation_prefix("ns").await.unwrap();
    let version: i64 = admin
        .query_one(
            &format!("SELECT version FROM \"{schema}\".access_state_schema_version"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 1);
    admin
        .batch_execute(&format!(
            "UPDATE \"{schema}\".access_state_schema_version SET version = 99"
        ))
        .await
        .unwrap();
    let e = PostgresState::connect(&scoped).await.unwrap_err();
    assert!(
        matches!(
            e,
            StateError::SchemaTooNew {
                found: 99,
                supported: 1,
                ..
            }
        ),
        "{e:?}"
    );
    admin
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runners_starting_together_create_the_schema_once() {
    let Some(url) = url() else { return };
    let schema = common::unique("together").replace('-', "_");
    let admin = admin(&url).await;
    admin
        .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .unwrap();
    let scoped = with_param(&url, &format!("options=-csearch_path%3D{schema}"));
    let opens: Vec<_> = (0..6)
        .map(|_| {
            let scoped = scoped.clone();
            tokio::spawn(async move { PostgresState::connect(&scoped).await })
        })
        .collect();
    let mut prefixes = Vec::new();
    for open in opens {
        let s = open.await.unwrap().unwrap();
        prefixes.push(s.installation_prefix("ns").await.unwrap());
    }
    prefixes.dedup();
    assert_eq!(prefixes.len(), 1);
    admin
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}
