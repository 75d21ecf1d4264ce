//! The sandbox as a server: Entrata, Brivo and OfficeRnD fakes on loopback
//! ports, a ready `sync` config, and the environment it needs, so that `sync`
//! and `who-has-access` can be tried with no account.
//!
//! ```text
//! sandbox --write-config sandbox.json --sync-url http://127.0.0.1:8080
//! # in another shell: paste the exports, then
//! sync --config sandbox.json                # dry run against the sandbox
//! sync --config sandbox.json --apply --once
//! who-has-access --config sandbox.json --person petrov
//! sync --config sandbox.json --apply --listen 127.0.0.1:8080   # the service
//! ```
//!
//! With `--write-config FILE`, the config goes to FILE and the SCIM
//! directory's store is created empty beside it (`FILE.scim.json`); stdout
//! carries `#` notes and the `export` lines to paste. Without it, stdout
//! carries the config alone (`sandbox > sandbox.json` saves a working
//! config) and stderr the notes and exports; the SCIM store is then an empty
//! file in a temporary directory that the config names (`server.scim_store`)
//! and that the sandbox removes when it stops. With `--sync-url`, the
//! sandbox's OfficeRnD sends its webhooks there; a directory platform can
//! push users to `<sync-url>/scim/v2/Users` (the printed `curl` shows one).
//!
//! It stops on Ctrl-C or SIGTERM.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use examples::sandbox_wiring::{
    SCIM_TOKEN, WEBHOOK_SECRET, config_json_with_store, env, write_config,
};

/// Serve the embedded sandbox until Ctrl-C and print a ready config.
#[derive(Debug, Parser)]
#[command(name = "sandbox", version)]
struct Cli {
    /// Write the `sync` config here and create its empty SCIM store beside
    /// it (default: print the config alone on stdout, the exports on stderr,
    /// with the store in a temporary directory removed on exit).
    #[arg(long, value_name = "FILE")]
    write_config: Option<PathBuf>,
    /// Where `sync --listen` serves (e.g. http://127.0.0.1:8080): the
    /// sandbox's OfficeRnD sends its signed webhooks there.
    #[arg(long, value_name = "URL")]
    sync_url: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let stop = stop_signal();
    let sb = match sandbox::Sandbox::start_default().await {
        Ok(sb) => sb,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // the notes and exports go where the config does not
    let mut temp_dir = None;
    let mut out: Box<dyn Write> = match &cli.write_config {
        Some(path) => match write_config(&sb, path) {
            Ok(store) => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "# config written to {}", path.display());
                let _ = writeln!(out, "# empty SCIM directory written to {}", store.display());
                Box::new(out)
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => {
            let dir =
                std::env::temp_dir().join(format!("access-sync-sandbox-{}", std::process::id()));
            let store = dir.join("scim.json");
            let config = std::fs::create_dir_all(&dir)
                .and_then(|()| config_json_with_store(&sb, &store))
                .and_then(|c| serde_json::to_string_pretty(&c).map_err(std::io::Error::other));
            temp_dir = Some(dir);
            match config {
                Ok(config) => {
                    let mut stdout = std::io::stdout().lock();
                    let _ = writeln!(stdout, "{config}");
                    let _ = stdout.flush();
                }
                Err(e) => {
                    eprintln!(
                        "error: cannot write the SCIM store {}: {e}",
                        store.display()
                    );
                    remove(temp_dir.as_deref());
                    return ExitCode::FAILURE;
                }
            }
            let mut out = std::io::stderr().lock();
            let _ = writeln!(
                out,
                "# config printed on stdout; its empty SCIM directory is {} (removed when the sandbox stops)",
                store.display()
            );
            Box::new(out)
        }
    };
    let _ = writeln!(
        out,
        "# the sandbox's dummy secrets, for sync and who-has-access:"
    );
    for (k, v) in env(&sb) {
        let _ = writeln!(out, "export {k}={v}");
    }
    if let Some(url) = &cli.sync_url {
        let url = url.trim_end_matches('/');
        sb.officernd()
            .send_webhooks_to(format!("{url}/webhooks/officernd"), WEBHOOK_SECRET);
        let _ = writeln!(
            out,
            "# OfficeRnD sends signed webhooks to {url}/webhooks/officernd\n\
             # a directory platform pushes a user (once sync --listen is up):\n\
             # curl -s -X POST {url}/scim/v2/Users -H 'authorization: Bearer {SCIM_TOKEN}' \\\n\
             #   -H 'content-type: application/scim+json' \\\n\
             #   -d '{{\"userName\":\"rene\",\"name\":{{\"givenName\":\"Rene\",\"familyName\":\"Ortiz\"}},\"emails\":[{{\"value\":\"rene@example.com\"}}]}}'"
        );
    }
    let _ = writeln!(out, "# serving until Ctrl-C");
    let _ = out.flush();
    drop(out);
    stop.await;
    sb.shutdown().await;
    remove(temp_dir.as_deref());
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM (`kill`, a test harness): either stops it cleanly.
/// The handlers are installed when this is called, not when it is awaited,
/// so a signal sent as soon as the exports are printed is not lost.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)))
    };
    async move {
        #[cfg(unix)]
        if let Ok((mut int, mut term)) = signals {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn remove(dir: Option<&std::path::Path>) {
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}
