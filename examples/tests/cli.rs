//! The `sync` and `who-has-access` CLIs as an operator meets them: help and
//! version on stdout, flags that conflict refused, every missing variable
//! named at once, documented exit codes, JSON output, a dry run then an apply
//! against the sandbox, and `who-has-access` reading only.
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
    run(env!("CARGO_BIN_EXE_sync"), args, vars).await
}

/// Runs `who-has-access` with only `vars` in its environment (and PATH).
async fn who(args: &[&str], vars: &[(&str, String)]) -> Output {
    run(env!("CARGO_BIN_EXE_who-has-access"), args, vars).await
}

async fn run(exe: &str, args: &[&str], vars: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(exe);
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

/// A background process, killed when the test ends, passing or not.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
    // every conflict the CLI defines
    let at = "2026-12-07T15:00:00Z";
    let (plan_file, other) = (dir.join("p.json"), dir.join("q.json"));
    let (p, q) = (plan_file.to_str().unwrap(), other.to_str().unwrap());
    for (args, says) in [
        (vec!["--save-plan", p, "--apply"], "cannot be used with"),
        (vec!["--apply-plan", p, "--apply"], "cannot be used with"),
        (
            vec!["--save-plan", p, "--apply-plan", q],
            "cannot be used with",
        ),
        (vec!["--apply-plan", p, "--at", at], "cannot be used with"),
        (
            vec!["--apply", "--once", "--listen", "127.0.0.1:8080"],
            "cannot be used with",
        ),
        (vec!["--listen", "127.0.0.1:8080"], "--apply"),
        (vec!["--once"], "--apply"),
        (vec!["--apply", "--at", at], "not to a run that keeps going"),
        (vec!["--at", "yesterday"], "RFC 3339"),
        (vec!["--apply", "--listen", "not-an-address"], "--listen"),
    ] {
        let args = [vec!["--config", c], args].concat();
        let o = sync(&args, &[]).await;
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(says),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    assert!(!plan_file.exists(), "a refused command wrote its plan");
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

    // piped, with logs on: no colour anywhere
    let mut logged = vars.clone();
    logged.push(("RUST_LOG", "info".into()));
    let table = sync(&["--config", c, "--at", &at], &logged).await;
    assert_eq!(code(&table), 3, "changes pending: {}", text(&table.stderr));
    assert!(!table.stderr.is_empty(), "RUST_LOG=info logs something");
    for (what, bytes) in [("stdout", &table.stdout), ("stderr", &table.stderr)] {
        assert!(
            !text(bytes).contains("\x1b["),
            "colour in {what}: {}",
            text(bytes)
        );
    }
    let o = who(&["--config", c, "--at", &at], &logged).await;
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(!text(&o.stdout).contains("\x1b[") && !text(&o.stderr).contains("\x1b["));

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
    assert_eq!(code(&apply), 0, "nothing held: {}", text(&apply.stderr));
    assert!(sb.brivo_writes() > 0);
    assert!(!report["results"].as_array().unwrap().is_empty());

    let again = sync(&["--config", c, "--at", &at, "--json"], &vars).await;
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(v["plan"]["actions"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(code(&again), 0);

    // exit 4: property 100 is mapped but no longer read, so its people's
    // revocations are held until an operator approves them
    let mut held: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    held["entrata"]["properties"] = serde_json::json!([200, 300]);
    held["state"] = serde_json::json!({ "sqlite": dir.join("sandbox.json.state.sqlite") });
    held["server"]["scim_store"] = serde_json::json!(dir.join("sandbox.json.scim.json"));
    let held_path = dir.join("held.json");
    std::fs::write(&held_path, held.to_string()).unwrap();
    let h = held_path.to_str().unwrap();
    let writes = sb.brivo_writes();
    let dry = sync(&["--config", h, "--at", &at], &vars).await;
    assert_eq!(code(&dry), 4, "held: {}", text(&dry.stderr));
    let out = text(&dry.stdout);
    assert!(out.contains("HELD     revoke 7101"), "{out}");
    assert!(out.contains("[approve: scope:property:100]"), "{out}");
    let apply = sync(&["--config", h, "--at", &at, "--apply", "--once"], &vars).await;
    assert_eq!(code(&apply), 4, "held: {}", text(&apply.stderr));
    assert_eq!(sb.brivo_writes(), writes, "nothing held was applied");
    let o = sync(
        &[
            "--config",
            h,
            "approve",
            "scope:property:100",
            "--by",
            "ops",
        ],
        &[],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let dry = sync(&["--config", h, "--at", &at], &vars).await;
    assert_eq!(code(&dry), 3, "approved, so pending: {}", text(&dry.stdout));
    let _ = std::fs::remove_dir_all(dir);
    sb.shutdown().await;
}

/// The `sandbox` binary without `--write-config`: the config alone on stdout
/// (so `sandbox > sandbox.json` saves one that works wherever it is saved),
/// the exports on stderr; its SCIM store lives in a temporary directory,
/// removed when the sandbox stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_prints_a_config_that_sync_accepts() {
    use std::io::{BufRead, BufReader, Read};
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_sandbox"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id();
    let (stdout, stderr) = (
        child.0.stdout.take().unwrap(),
        child.0.stderr.take().unwrap(),
    );
    let read = tokio::task::spawn_blocking(move || {
        let mut notes = Vec::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let done = line == "# serving until Ctrl-C";
            notes.push(line);
            if done {
                break;
            }
        }
        // the config is complete once the exports follow it
        let mut config = String::new();
        let mut stdout = stdout;
        let mut buf = [0u8; 4096];
        while serde_json::from_str::<serde_json::Value>(&config).is_err() {
            let n = stdout.read(&mut buf).unwrap();
            assert!(n > 0, "stdout ended: {config}");
            config.push_str(std::str::from_utf8(&buf[..n]).unwrap());
        }
        (notes, config)
    });
    let (notes, config) = tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("the sandbox printed its config and exports within 30 s")
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&config).unwrap();
    let store = PathBuf::from(value["server"]["scim_store"].as_str().unwrap());
    assert!(store.exists(), "{}", store.display());
    let vars: Vec<(&str, String)> = notes
        .iter()
        .filter_map(|l| l.strip_prefix("export "))
        .map(|kv| kv.split_once('=').unwrap())
        .map(|(k, v)| (k, v.to_owned()))
        .collect();
    for var in [
        "BRIVO_API_KEY",
        "OFFICERND_WEBHOOK_SECRET",
        "SCIM_BEARER_TOKEN",
    ] {
        assert!(vars.iter().any(|(k, _)| *k == var), "{notes:?}");
    }

    // saved anywhere, it is a config whose every source is ready
    let dir = scratch("sandbox-stdout");
    let path = dir.join("sandbox.json");
    std::fs::write(&path, &config).unwrap();
    let dry = sync(&["--config", path.to_str().unwrap()], &vars).await;
    let out = text(&dry.stdout);
    assert_eq!(code(&dry), 3, "{out}{}", text(&dry.stderr));
    for source in ["entrata", "officernd", "directory:connect-hq"] {
        assert!(out.contains(&format!("source {source}: ok")), "{out}");
    }

    // SIGTERM stops it cleanly, and its temporary SCIM store goes with it
    let term = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    if term.is_ok_and(|s| s.success()) {
        let status = child.0.wait().unwrap();
        assert!(status.success(), "{status}");
        assert!(!store.exists(), "{} left behind", store.display());
    } else {
        drop(child);
        let _ = std::fs::remove_dir_all(store.parent().unwrap());
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn who_has_access_help_lists_the_variables_it_reads() {
    let help = who(&["--help"], &[]).await;
    assert_eq!(code(&help), 0);
    let out = text(&help.stdout);
    for needle in [
        "BRIVO_API_KEY",
        "BRIVO_PASSWORD",
        "ENTRATA_USERNAME",
        "ENTRATA_API_KEY",
        "OFFICERND_CLIENT_SECRET",
        "postgres_url_env",
        "RUST_LOG",
        "EXIT CODES",
    ] {
        assert!(out.contains(needle), "{needle} missing from --help:\n{out}");
    }
    assert!(!out.contains("the same secrets"), "{out}");
    assert!(help.stderr.is_empty());
}

/// The files in `dir`, sorted.
fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_has_access_writes_nothing_and_says_what_the_next_sync_does() {
    let sb = sandbox::Sandbox::start_default().await.unwrap();
    let dir = scratch("who");
    let config = dir.join("sandbox.json");
    write_config(&sb, &config).unwrap();
    let c = config.to_str().unwrap();
    let vars = env(&sb);
    let instants = sandbox::story::instants();
    let at = instants[0].1.to_rfc3339();
    let before = listing(&dir);

    // no run yet: no state file, no prefix, nothing written, and it says so
    let o = who(&["--config", c, "--at", &at, "--person", "petrov"], &vars).await;
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("no run state"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(listing(&dir), before, "who-has-access created a file");
    assert_eq!(sb.brivo_writes(), 0);
    let out = text(&o.stdout);
    let rows: Vec<&str> = out.lines().filter(|l| l.contains("Residents")).collect();
    assert!(!rows.is_empty(), "{out}");
    for row in &rows {
        assert!(row.trim_start().starts_with("Ivan Petrov"), "{out}");
        assert!(row.contains("no: the next sync grants it"), "{out}");
    }

    // why not: a person and a door group
    let o = who(
        &[
            "--config", c, "--at", &at, "--person", "voss", "--group", "7301",
        ],
        &vars,
    )
    .await;
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("WHY NOT"), "{out}");
    assert!(
        out.contains("Cara Voss: lease 3003 Current, resident 5013 Cancelled"),
        "{out}"
    );

    // after an apply: the state is read, never changed
    let apply = sync(&["--config", c, "--at", &at, "--apply", "--once"], &vars).await;
    assert_eq!(code(&apply), 0, "{}", text(&apply.stderr));
    let state = dir.join("sandbox.json.state.sqlite");
    let (files, bytes) = (listing(&dir), std::fs::read(&state).unwrap());
    let writes = sb.brivo_writes();

    // drift at a later instant: Evan moved out, the next sync removes it
    let later = instants[7].1.to_rfc3339();
    let o = who(
        &[
            "--config", c, "--at", &later, "--person", "brooks", "--json",
        ],
        &vars,
    )
    .await;
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "{v}");
    for r in rows {
        assert_eq!(r["person"], "Evan Brooks", "{v}");
        assert_eq!(
            (r["desired"].as_bool(), r["in_brivo"].as_bool()),
            (Some(false), Some(true))
        );
        assert_eq!(r["next_sync"], "removes", "{v}");
    }
    let o = who(
        &["--config", c, "--at", &later, "--person", "brooks"],
        &vars,
    )
    .await;
    assert!(
        text(&o.stdout).contains("yes: the next sync removes it"),
        "{}",
        text(&o.stdout)
    );

    // a source that cannot be read: exit 1, and its people's groups are held,
    // not "removed by the next sync"
    let mut broken: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    broken["officernd"]["api_url"] = format!("{closed}/api/v2").into();
    broken["officernd"]["token_url"] = format!("{closed}/oauth/token").into();
    broken["server"]["scim_store"] = dir.join("sandbox.json.scim.json").to_str().unwrap().into();
    broken["state"] = serde_json::json!({ "sqlite": state });
    let broken_path = dir.join("broken.json");
    std::fs::write(&broken_path, broken.to_string()).unwrap();
    let mut files = files;
    files.push("broken.json".to_owned());
    files.sort();
    let b = broken_path.to_str().unwrap();
    let o = who(&["--config", b, "--at", &at], &vars).await;
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(err.contains("could not read officernd"), "{err}");
    assert!(out.contains("NOT READ officernd:"), "{out}");
    let olivia: Vec<&str> = out.lines().filter(|l| l.contains("Olivia Chen")).collect();
    assert!(!olivia.is_empty(), "{out}");
    for row in &olivia {
        assert!(
            row.contains("yes: held, source OfficeRnD could not be read"),
            "{out}"
        );
    }
    assert!(!out.contains("removes it"), "{out}");
    let o = who(&["--config", b, "--at", &at, "--json"], &vars).await;
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["unread_sources"][0]["source"], "officernd", "{v}");

    assert_eq!(listing(&dir), files, "who-has-access created a file");
    assert_eq!(
        std::fs::read(&state).unwrap(),
        bytes,
        "the run state changed"
    );
    assert_eq!(sb.brivo_writes(), writes, "who-has-access wrote to Brivo");
    let _ = std::fs::remove_dir_all(dir);
    sb.shutdown().await;
}
