//! The conformance suite on `SqliteState`, a temporary file per test;
//! each "runner" is a new `SqliteState` (its own connection) on that file.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used)] // helpers of tests

#[macro_use]
mod common;

use std::path::{Path, PathBuf};

use access_state::{RunState, SqliteState, StateError};
use common::Harness;

/// Deletes the database file (and its WAL files) when the test ends.
struct TempDb(PathBuf);

impl TempDb {
    fn new(test: &str) -> Self {
        TempDb(std::env::temp_dir().join(format!("access-state-{}.sqlite", common::unique(test))))
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", self.0.display()));
        }
    }
}

async fn setup(test: &str) -> Option<Harness> {
    let db = TempDb::new(test);
    let path = db.0.clone();
    Some(Harness::new(
        test,
        move || {
            let path = path.clone();
            Box::pin(async move {
                Box::new(SqliteState::open(&path).await.unwrap()) as Box<dyn RunState>
            })
        },
        Some(Box::new(db)),
    ))
}

conformance_tests!(setup);

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opens_in_wal_mode_and_creates_the_schema_once() {
    let db = TempDb::new("wal");
    let s = SqliteState::open(&db.0).await.unwrap();
    assert_eq!(s.path(), db.0.as_path());
    assert!(format!("{s:?}").contains("SqliteState"));
    let c = raw(&db.0);
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = c
        .query_row("SELECT version FROM access_state_schema_version", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(version, 1);
    // Opening again leaves one version row.
    drop(SqliteState::open(&db.0).await.unwrap());
    let rows: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM access_state_schema_version",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_directory_is_an_open_error_naming_the_path() {
    let path = std::env::temp_dir()
        .join(common::unique("no-such-dir"))
        .join("state.sqlite");
    let e = SqliteState::open(&path).await.unwrap_err();
    assert!(matches!(e, StateError::Open { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("SQLite"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(std::error::Error::source(&e).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_sqlite_is_an_open_error() {
    let db = TempDb::new("not-sqlite");
    std::fs::write(&db.0, b"this is a config file, not a database, honestly").unwrap();
    let e = SqliteState::open(&db.0).await.unwrap_err();
    assert!(matches!(e, StateError::Open { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused() {
    let db = TempDb::new("too-new");
    drop(SqliteState::open(&db.0).await.unwrap());
    raw(&db.0)
        .execute("UPDATE access_state_schema_version SET version = 99", [])
        .unwrap();
    let e = SqliteState::open(&db.0).await.unwrap_err();
    match &e {
        StateError::SchemaTooNew {
            found, supported, ..
        } => assert_eq!((*found, *supported), (99, 1)),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(e.to_string().contains("upgrade access-state"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_edited_outside_are_reported_as_corrupt() {
    let db = TempDb::new("corrupt");
    let s = SqliteState::open(&db.0).await.unwrap();
    let t = common::t0();
    s.cache_put("ns", "zone", "p", &serde_json::json!("UTC"), t)
        .await
        .unwrap();
    s.set_backoff("ns", "u", Some(access_state::Backoff::new(1, t)))
        .await
        .unwrap();
    let c = raw(&db.0);
    c.execute("UPDATE access_state_cache SET value_json = '{not json'", [])
        .unwrap();
    c.execute("UPDATE access_state_backoff SET failures = -1", [])
        .unwrap();
    let e = s.cache_get("ns", "zone", "p").await.unwrap_err();
    assert!(matches!(e, StateError::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("zone/p"), "{e}");
    let e = s.backoffs("ns").await.unwrap_err();
    assert!(matches!(e, StateError::Corrupt { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_worth_of_writers_do_not_lose_calls() {
    // Eight store objects (eight connections) record into one bucket at
    // once: every call is counted, none fails with "database is locked".
    let db = TempDb::new("writers");
    let mut stores = Vec::new();
    for _ in 0..8 {
        stores.push(SqliteState::open(&db.0).await.unwrap());
    }
    let t = common::t0();
    let tasks: Vec<_> = stores
        .into_iter()
        .map(|s| {
            tokio::spawn(async move {
                for _ in 0..25 {
                    s.record_calls("ns", "brivo", t, 1).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let s = SqliteState::open(&db.0).await.unwrap();
    assert_eq!(s.calls_since("ns", "brivo", t).await.unwrap(), 200);
}

/// The files beside `path` (the database and its WAL files) with their bytes.
fn files(path: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|ext| {
            let p = format!("{}{ext}", path.display());
            std::fs::read(&p).ok().map(|bytes| (p, bytes))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_reads_and_changes_nothing() {
    let db = TempDb::new("read-only");
    let missing = SqliteState::open_read_only(&db.0).await.unwrap_err();
    assert!(matches!(missing, StateError::Open { .. }), "{missing:?}");
    assert!(files(&db.0).is_empty(), "a missing file is not created");

    let writer = SqliteState::open(&db.0).await.unwrap();
    let prefix = writer.installation_prefix("ns").await.unwrap();
    let counts = std::collections::BTreeMap::from([("property:1".to_string(), 5u64)]);
    writer
        .set_scope_people("ns", &counts, common::t0())
        .await
        .unwrap();
    drop(writer);
    let before = files(&db.0);
    assert_eq!(before.len(), 1, "the writer left no WAL files");

    let r = SqliteState::open_read_only(&db.0).await.unwrap();
    assert_eq!(
        r.stored_installation_prefix("ns").await.unwrap(),
        Some(prefix.clone())
    );
    assert_eq!(r.stored_installation_prefix("other").await.unwrap(), None);
    assert_eq!(r.scope_people("ns").await.unwrap(), counts);
    // writes fail, and no prefix is generated
    let e = r.installation_prefix("other").await.unwrap_err();
    assert!(matches!(e, StateError::Query { .. }), "{e:?}");
    assert!(
        r.set_scope_people("ns", &counts, common::t0())
            .await
            .is_err()
    );
    assert_eq!(files(&db.0), before, "nothing written, no WAL files left");
    // a runner that starts while the reader is open changes nothing under
    // it: the reader read its copy at once
    let writer = SqliteState::open(&db.0).await.unwrap();
    let meanwhile = std::collections::BTreeMap::from([("property:1".to_string(), 6u64)]);
    writer
        .set_scope_people("ns", &meanwhile, common::t0())
        .await
        .unwrap();
    drop(writer);
    assert_eq!(r.scope_people("ns").await.unwrap(), counts);
    drop(r);

    // beside a live runner: its committed changes are seen
    let writer = SqliteState::open(&db.0).await.unwrap();
    let later = std::collections::BTreeMap::from([("property:1".to_string(), 7u64)]);
    writer
        .set_scope_people("ns", &later, common::t0())
        .await
        .unwrap();
    let r = SqliteState::open_read_only(&db.0).await.unwrap();
    assert_eq!(r.scope_people("ns").await.unwrap(), later);
    assert_eq!(
        r.stored_installation_prefix("ns").await.unwrap(),
        Some(prefix)
    );
}
