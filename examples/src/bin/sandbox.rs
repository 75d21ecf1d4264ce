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
//! With `--write-config`, the SCIM directory's store is created empty
//! beside the config (`sandbox.json.scim.json`). With `--sync-url`, the
//! sandbox's OfficeRnD sends its webhooks there; a directory platform can
//! push users to `<sync-url>/scim/v2/Users` (the printed `curl` shows one).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use examples::sandbox_wiring::{SCIM_TOKEN, WEBHOOK_SECRET, config_json, env, write_config};

/// Serve the embedded sandbox until Ctrl-C and print a ready config.
#[derive(Debug, Parser)]
#[command(name = "sandbox", version)]
struct Cli {
    /// Write the `sync` config here (default: print it on stdout), and
    /// create its empty SCIM store beside it.
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
    let sb = match sandbox::Sandbox::start_default().await {
        Ok(sb) => sb,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    match &cli.write_config {
        Some(path) => match write_config(&sb, path) {
            Ok(store) => {
                let _ = writeln!(out, "# config written to {}", path.display());
                let _ = writeln!(out, "# empty SCIM directory written to {}", store.display());
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => match serde_json::to_string_pretty(&config_json(&sb)) {
            Ok(config) => {
                let _ = writeln!(out, "{config}");
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
    }
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
    let _ = tokio::signal::ctrl_c().await;
    sb.shutdown().await;
    ExitCode::SUCCESS
}
