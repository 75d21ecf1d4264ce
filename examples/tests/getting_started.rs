//! docs/getting-started.md followed step by step against the sandbox server:
//! the commands are read from the guide's "Try it offline first" and "Run it
//! as a service" sections and run in order (each `cargo run -p examples --bin
//! X -- ARGS` as the built binary X with ARGS, in a scratch directory, with the
//! environment the sandbox printed), with the exit codes the guide states and
//! the key lines of its sample output. What the sandbox prints must be what
//! the guide shows, line for line.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn guide() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/getting-started.md");
    std::fs::read_to_string(path).unwrap()
}

/// The text of the guide's `## title` section.
fn section(guide: &str, title: &str) -> String {
    let start = guide
        .find(&format!("\n## {title}\n"))
        .unwrap_or_else(|| panic!("no section {title:?} in the guide"));
    let rest = &guide[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_owned()
}

/// The fenced blocks of a section: (language, lines), in order.
fn blocks(section: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut open: Option<(String, Vec<String>)> = None;
    for line in section.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.trim().to_owned(), Vec::new())),
            (Some(_), Some(_)) => out.push(open.take().unwrap()),
            (Some((_, lines)), None) => lines.push(line.to_owned()),
            (None, None) => {}
        }
    }
    out
}

/// One `cargo run -p examples --bin X -- ARGS` of the guide.
#[derive(Debug)]
struct Step {
    bin: String,
    args: Vec<String>,
    /// From `# exit N` after the command or `echo $?  # N` on the next line.
    exit: Option<i32>,
    /// The sample output the guide shows for it (the `text` blocks after
    /// its `sh` block: one per command when they match in number).
    sample: String,
}

fn steps(section: &str) -> Vec<Step> {
    let blocks = blocks(section);
    let mut out: Vec<Step> = Vec::new();
    for (i, (lang, lines)) in blocks.iter().enumerate() {
        if lang != "sh" {
            continue;
        }
        let first = out.len();
        for (n, line) in lines.iter().enumerate() {
            let (command, comment) = match line.split_once(" #") {
                Some((c, rest)) => (c.trim(), Some(rest.trim())),
                None => (line.trim(), None),
            };
            let Some(rest) = command.strip_prefix("cargo run -p examples --bin ") else {
                continue;
            };
            let mut words = rest.split_whitespace();
            let bin = words.next().unwrap().to_owned();
            let args: Vec<String> = match words.next() {
                Some("--") => words.map(str::to_owned).collect(),
                Some(other) => panic!("{line:?}: expected `--` after the binary, found {other}"),
                None => Vec::new(),
            };
            let number = |text: &str| -> Option<i32> {
                text.trim_start_matches("exit")
                    .trim()
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|d| d.parse().ok())
            };
            let exit = comment.and_then(number).or_else(|| {
                lines
                    .get(n + 1)
                    .filter(|l| l.starts_with("echo $?"))
                    .and_then(|l| l.split_once('#'))
                    .and_then(|(_, c)| number(c))
            });
            out.push(Step {
                bin,
                args,
                exit,
                sample: String::new(),
            });
        }
        let samples: Vec<&Vec<String>> = blocks[i + 1..]
            .iter()
            .take_while(|(lang, _)| lang != "sh")
            .filter(|(lang, _)| lang == "text")
            .map(|(_, lines)| lines)
            .collect();
        let commands = out.len() - first;
        if commands > 0 && samples.len() == commands {
            for (step, sample) in out[first..].iter_mut().zip(&samples) {
                step.sample = sample.join("\n");
            }
        } else if let Some(last) = out.last_mut().filter(|_| commands > 0) {
            last.sample = samples
                .iter()
                .map(|l| l.join("\n"))
                .collect::<Vec<_>>()
                .join("\n");
        }
    }
    out
}

/// A scratch directory, removed when the test ends, passing or not.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("getting-started-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn exe(bin: &str) -> &'static str {
    match bin {
        "sandbox" => env!("CARGO_BIN_EXE_sandbox"),
        "sync" => env!("CARGO_BIN_EXE_sync"),
        "who-has-access" => env!("CARGO_BIN_EXE_who-has-access"),
        "demo" => env!("CARGO_BIN_EXE_demo"),
        other => panic!("the guide runs an unknown binary {other}"),
    }
}

/// A command run the way the guide's reader runs it: in `dir`, with only
/// PATH and the sandbox's exports in its environment.
fn command(step: &Step, dir: &Path, exports: &[(String, String)]) -> Command {
    let mut cmd = Command::new(exe(&step.bin));
    cmd.args(&step.args).current_dir(dir).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd.envs(exports.iter().map(|(k, v)| (k, v)));
    cmd
}

/// A background process, killed when the test ends, passing or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the sandbox as `step` says and reads what it prints up to
/// "# serving until Ctrl-C": the lines, and the exports among them.
fn start_sandbox(step: &Step, dir: &Path) -> (Running, Vec<String>, Vec<(String, String)>) {
    assert_eq!(step.bin, "sandbox");
    let mut child = command(step, dir, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("the sandbox printed {lines:?}, then {e}"));
        let done = line == "# serving until Ctrl-C";
        lines.push(line);
        if done {
            break;
        }
    }
    let exports = lines
        .iter()
        .filter_map(|l| l.strip_prefix("export "))
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    (running, lines, exports)
}

fn run(step: &Step, dir: &Path, exports: &[(String, String)]) -> Output {
    let out = command(step, dir, exports).output().unwrap();
    if let Some(code) = step.exit {
        assert_eq!(
            out.status.code(),
            Some(code),
            "{} {:?}: the guide says exit {code}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            step.bin,
            step.args,
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `line` is in the guide's sample output for `step` and in what it printed.
fn shown(step: &Step, out: &Output, line: &str) {
    assert!(
        step.sample.contains(line),
        "the guide's sample for {} {:?} lacks {line:?}:\n{}",
        step.bin,
        step.args,
        step.sample
    );
    let printed = text(&out.stdout);
    assert!(
        printed.contains(line),
        "{} {:?} did not print {line:?}:\n{printed}",
        step.bin,
        step.args
    );
}

#[test]
fn try_it_offline_first() {
    let guide = guide();
    let steps = steps(&section(&guide, "Try it offline first"));
    let shape: Vec<(&str, Option<i32>)> = steps.iter().map(|s| (s.bin.as_str(), s.exit)).collect();
    assert_eq!(
        shape,
        vec![
            ("sandbox", None),
            ("sync", Some(3)),
            ("sync", Some(0)),
            ("sync", Some(0)),
            ("who-has-access", Some(0)),
        ],
        "the guide's steps changed: {steps:#?}"
    );
    let dir = Scratch::new("offline");

    // 1. the sandbox prints exactly what the guide shows, and writes both files
    let (_sandbox, printed, exports) = start_sandbox(&steps[0], &dir);
    assert_eq!(printed.join("\n"), steps[0].sample);
    let config = &steps[0].args[steps[0]
        .args
        .iter()
        .position(|a| a == "--write-config")
        .unwrap()
        + 1];
    assert!(dir.join(config).exists());
    assert!(dir.join(format!("{config}.scim.json")).exists());

    // 2. a dry run: changes pending, every source read, the SCIM directory's too
    let dry = run(&steps[1], &dir, &exports);
    for line in [
        "source entrata: ok",
        "source officernd: ok",
        "source directory:connect-hq: ok",
        "scope    directory connect-hq: 0 named",
        "Run again with --apply to make these changes.",
    ] {
        shown(&steps[1], &dry, line);
    }

    // 3. apply once: every action succeeds; the run state is beside the config
    let apply = run(&steps[2], &dir, &exports);
    shown(&steps[2], &apply, " ok, 0 failed, 0 skipped; Brivo calls: ");
    assert!(dir.join(format!("{config}.state.sqlite")).exists());

    // 4. the dry run again: in step
    let again = run(&steps[3], &dir, &exports);
    shown(&steps[3], &again, "(nothing to do)");
    shown(&steps[3], &again, "Brivo is in step: nothing to do.");

    // 5. who has access: only the person asked about, as Brivo holds it now
    let who = run(&steps[4], &dir, &exports);
    shown(&steps[4], &who, "PERSON");
    let rows: Vec<String> = text(&who.stdout)
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("PERSON"))
        .skip(2)
        .take_while(|l| !l.trim_start().starts_with("changes next") && !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert!(!rows.is_empty(), "{}", text(&who.stdout));
    for row in &rows {
        assert!(row.trim_start().starts_with("Ivan Petrov"), "{row}");
        assert!(
            row.contains("  yes  "),
            "after the apply Brivo agrees: {row}"
        );
    }
}

/// The value of `series` in Prometheus text.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[test]
fn run_it_as_a_service_against_the_sandbox() {
    let guide = guide();
    let section = section(&guide, "Run it as a service");
    let block = blocks(&section)
        .into_iter()
        .find(|(lang, lines)| lang == "sh" && lines.iter().any(|l| l.contains("--sync-url")))
        .expect("the service section tries it against the sandbox")
        .1;
    // the guide's port, replaced by any: sync says which it bound
    let addr = "127.0.0.1:0";
    let mut steps = steps(&format!("```sh\n{}\n```\n", block.join("\n")));
    for step in &mut steps {
        for arg in &mut step.args {
            *arg = arg.replace("127.0.0.1:8080", addr);
        }
    }
    let shape: Vec<&str> = steps.iter().map(|s| s.bin.as_str()).collect();
    assert_eq!(shape, ["sandbox", "sync"], "{steps:#?}");
    assert!(steps[1].args.contains(&"--listen".to_owned()));
    let curl = block.join("\n").replace("\\\n", " ");
    let post = curl
        .lines()
        .find(|l| l.contains("curl") && l.contains("-X POST"))
        .unwrap();
    assert!(
        post.contains("http://127.0.0.1:8080/scim/v2/Users"),
        "{post}"
    );
    assert!(
        post.contains("\"authorization: Bearer $SCIM_BEARER_TOKEN\""),
        "{post}"
    );
    let body = post
        .split("-d '")
        .nth(1)
        .unwrap()
        .trim_end()
        .trim_end_matches('\'');
    let user: serde_json::Value = serde_json::from_str(body).unwrap();
    let name = format!(
        "{} {}",
        user["name"]["givenName"].as_str().unwrap(),
        user["name"]["familyName"].as_str().unwrap()
    );

    let dir = Scratch::new("service");
    let (_sandbox, _, exports) = start_sandbox(&steps[0], &dir);
    let token = exports
        .iter()
        .find(|(k, _)| k == "SCIM_BEARER_TOKEN")
        .map(|(_, v)| v.clone())
        .expect("the sandbox exports SCIM_BEARER_TOKEN");
    let mut sync = command(&steps[1], &dir, &exports)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = sync.stdout.take().unwrap();
    let _sync = Running(sync);
    // "Serving http://127.0.0.1:PORT: ..." names the port; the rest of the
    // output is drained so that sync never blocks on a full pipe
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("Serving http://") {
                let _ = tx.send(rest.split(':').take(2).collect::<Vec<_>>().join(":"));
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("sync --listen says where it serves");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    let get = |path: &str| {
        let req = http.get(format!("{base}{path}"));
        rt.block_on(async {
            let r = req.send().await.ok()?;
            let status = r.status().as_u16();
            Some((status, r.text().await.ok()?))
        })
    };
    // /healthz says ok once the first run succeeded
    let t = Instant::now();
    let health = loop {
        match get("/healthz") {
            Some((200, body)) => break body,
            _ if t.elapsed() > Duration::from_secs(30) => panic!("no healthy /healthz in 30 s"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    let before = get("/metrics").unwrap().1;
    let runs = metric(&before, "access_sync_runs_total{result=\"synced\"}");

    // the directory platform pushes a user; Brivo has it within seconds
    let created = rt.block_on(
        http.post(format!("{base}/scim/v2/Users"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/scim+json")
            .body(body.to_owned())
            .send(),
    );
    assert_eq!(created.unwrap().status().as_u16(), 201);
    let who = Step {
        bin: "who-has-access".into(),
        args: ["--config", "sandbox.json", "--person"]
            .into_iter()
            .map(str::to_owned)
            .chain([name.clone()])
            .collect(),
        exit: Some(0),
        sample: String::new(),
    };
    assert_eq!(steps[1].args[..2], who.args[..2], "the same config");
    let t = Instant::now();
    loop {
        let out = run(&who, &dir, &exports);
        let rows = text(&out.stdout);
        if rows
            .lines()
            .any(|l| l.trim_start().starts_with(&name) && l.contains("  yes  "))
        {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{name} not in Brivo 10 s after the SCIM push:\n{rows}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // the push woke a run that read the directory again, not Entrata or OfficeRnD
    let after = get("/metrics").unwrap().1;
    assert!(metric(&after, "access_sync_runs_total{result=\"synced\"}") > runs);
    for service in ["entrata", "officernd"] {
        let series = format!("access_sync_api_calls_total{{service=\"{service}\"}}");
        assert_eq!(
            metric(&before, &series),
            metric(&after, &series),
            "a SCIM push spent {service}'s budget"
        );
    }
}
