//! The `sync` CLI as an operator meets it: help and version on stdout, flags
//! that conflict refused, every missing variable named at once, documented exit
//! codes, JSON output, and a dry run then an apply against the sandbox.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

use examples::sandbox_wiring::{env, write_config};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sync-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `sync` with only `vars` in its environment (and PATH).
async fn sync(args: &[&str], vars: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sync"));
    cmd.args(args).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn help_and_version_go_to_stdout_and_exit_zero() {
    let help = sync(&["--help"], &[]).await;
    assert_eq!(code(&help), 0);
    let out = text(&help.stdout);
    for needle in [
        "BRIVO_API_KEY",
        "OFFICERND_CLIENT_SECRET",
        "EXIT CODES",
        "--json",
    ] {
        assert!(out.contains(needle), "{needle} missing from --help:\n{out}");
    }
    assert!(help.stderr.is_empty());
    let version = sync(&["--version"], &[]).await;
    assert_eq!(code(&version), 0);
    assert!(text(&version.stdout).starts_with("sync 0.1"));
}

#[tokio::test]
async fn conflicting_flags_and_bad_files_are_usage_errors() {
    let dir = scratch("usage");
    let config = dir.join("c.json");
    std::fs::write(
        &config,
        r#"{"brivo": {}, "officernd": {"org": "a", "client_id": "b"}}"#,
    )
    .unwrap();
    let c = config.to_str().unwrap();
    for args in [
        vec!["--config", c, "--save-plan", "p.json", "--apply"],
        vec!["--config", c, "--once"],
        vec!["--config", c, "--apply", "--at", "2026-12-07T15:00:00Z"],
        vec!["--config", c, "--at", "yesterday"],
    ] {
        let o = sync(&args, &[]).await;
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o.stderr));
    }
    let missing = sync(&["--config", "/nonexistent/sync.json"], &[]).await;
    assert_eq!(code(&missing), 2);
    assert!(text(&missing.stderr).contains("/nonexistent/sync.json"));

    // every missing secret in one message
    let o = sync(&["--config", c], &[("BRIVO_API_KEY", "k".into())]).await;
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    for var in [
        "BRIVO_CLIENT_ID",
        "BRIVO_PASSWORD",
        "OFFICERND_CLIENT_SECRET",
    ] {
        assert!(err.contains(var), "{var} not named: {err}");
    }
    assert!(!err.contains("BRIVO_API_KEY,"), "{err}");

    // approvals need only the state store
    let o = sync(&["--config", c, "approvals", "--json"], &[]).await;
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), r#"{"pending":[]}"#);

    // a typo among the ids approves nothing; a withdrawn approval is gone
    let o = sync(
        &["--config", c, "approve", "unsuspend:5", "revocation:12"],
        &[],
    )
    .await;
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("\"revocation:12\" is not an approval id"),
        "{}",
        text(&o.stderr)
    );
    let o = sync(&["--config", c, "approvals", "--json"], &[]).await;
    assert_eq!(
        text(&o.stdout).trim(),
        r#"{"pending":[]}"#,
        "nothing approved"
    );
    let o = sync(
        &["--config", c, "approve", "unsuspend:5", "--by", "ops"],
        &[],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = sync(&["--config", c, "unapprove", "unsuspend:5", "--json"], &[]).await;
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), r#"{"pending":[]}"#);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_pending_changes_and_an_apply_leaves_none() {
    let sb = sandbox::Sandbox::start_default().await.unwrap();
    let dir = scratch("sandbox");
    let config = dir.join("sandbox.json");
    write_config(&sb, &config).unwrap();
    let c = config.to_str().unwrap();
    let vars = env(&sb);
    let at = sandbox::story::instants()[0].1.to_rfc3339();

    let dry = sync(&["--config", c, "--at", &at, "--json"], &vars).await;
    assert_eq!(code(&dry), 3, "changes pending: {}", text(&dry.stderr));
    let v: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert!(!v["plan"]["actions"].as_array().unwrap().is_empty());
    assert_eq!(sb.brivo_writes(), 0, "a dry run writes nothing");

    let apply = sync(
        &["--config", c, "--at", &at, "--apply", "--once", "--json"],
        &vars,
    )
    .await;
    let report: serde_json::Value = serde_json::from_slice(&apply.stdout).unwrap();
    assert!(
        matches!(code(&apply), 0 | 4),
        "{}: {}",
        code(&apply),
        text(&apply.stderr)
    );
    assert!(sb.brivo_writes() > 0);
    assert!(!report["results"].as_array().unwrap().is_empty());

    let again = sync(&["--config", c, "--at", &at, "--json"], &vars).await;
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(v["plan"]["actions"].as_array().unwrap().is_empty(), "{v}");
    assert!(matches!(code(&again), 0 | 4));
    let _ = std::fs::remove_dir_all(dir);
    sb.shutdown().await;
}
