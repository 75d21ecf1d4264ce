//! The sandbox as a server: Entrata, Brivo and OfficeRnD fakes on loopback
//! ports, a ready `sync` config, and the environment it needs, so that `sync`
//! and `who-has-access` can be tried with no account.
//!
//! ```text
//! sandbox --write-config sandbox.json      # serves until Ctrl-C; prints the exports
//! # in another shell: paste the exports, then
//! sync --config sandbox.json                # dry run against the sandbox
//! sync --config sandbox.json --apply --once
//! who-has-access --config sandbox.json --person petrov
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use examples::sandbox_wiring::{config_json, env};

/// Serve the embedded sandbox until Ctrl-C and print a ready config.
#[derive(Debug, Parser)]
#[command(name = "sandbox", version)]
struct Cli {
    /// Write the `sync` config here (default: print it on stdout).
    #[arg(long, value_name = "FILE")]
    write_config: Option<PathBuf>,
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
    let config = match serde_json::to_string_pretty(&config_json(&sb)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    match &cli.write_config {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &config) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
            let _ = writeln!(out, "# config written to {}", path.display());
        }
        None => {
            let _ = writeln!(out, "{config}");
        }
    }
    let _ = writeln!(
        out,
        "# the sandbox's dummy secrets, for sync and who-has-access:"
    );
    for (k, v) in env(&sb) {
        let _ = writeln!(out, "export {k}={v}");
    }
    let _ = writeln!(out, "# serving until Ctrl-C");
    let _ = out.flush();
    drop(out);
    let _ = tokio::signal::ctrl_c().await;
    sb.shutdown().await;
    ExitCode::SUCCESS
}
