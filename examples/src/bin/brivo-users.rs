//! `brivo-users`: lists a Brivo account's users and groups as two tables.
//!
//! Environment:
//!
//! | Variable              | Required | Meaning                                                        |
//! |-----------------------|----------|----------------------------------------------------------------|
//! | `BRIVO_API_KEY`       | yes      | the `api-key` from developer.brivo.com                         |
//! | `BRIVO_CLIENT_ID`     | yes      | client id of the "Password" application in Brivo Access        |
//! | `BRIVO_CLIENT_SECRET` | yes      | its client secret                                              |
//! | `BRIVO_USERNAME`      | yes      | the **Administrator ID** (not the e-mail used in the web UI)   |
//! | `BRIVO_PASSWORD`      | yes      | that administrator's password                                  |
//! | `BRIVO_REGION`        | no       | `us` (default) or `eu`                                         |
//! | `BRIVO_BASE_URL`      | no       | API base URL override (sandbox, staging), e.g. `http://127.0.0.1:8080` |
//! | `BRIVO_AUTH_URL`      | no       | OAuth base URL override (default: the base URL's host, or the region's) |
//! | `BRIVO_RATE`          | no       | calls per second (default 5)                                   |
//! | `RUST_LOG`            | no       | log filter, e.g. `brivo_client=debug`                          |
//!
//! Cost: one token request, `ceil(users / 100)` calls for the users, then
//! `ceil(groups / 100)` calls for the groups and one call per group for its
//! member count. The calls made are printed at the end.
//!
//! ```text
//! cargo run -p examples --bin brivo-users
//! ```

use std::process::ExitCode;

use brivo_client::{Client, Credentials, Error, GroupQuery, Region, UserQuery};
use secrecy::SecretString;

fn required(name: &str) -> Result<SecretString, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v)),
        _ => Err(format!("{name} is not set (see the top of brivo-users.rs)")),
    }
}

fn client_from_env() -> Result<Client, String> {
    let credentials = Credentials::password(
        required("BRIVO_API_KEY")?,
        required("BRIVO_CLIENT_ID")?,
        required("BRIVO_CLIENT_SECRET")?,
        required("BRIVO_USERNAME")?,
        required("BRIVO_PASSWORD")?,
    );
    let region = match std::env::var("BRIVO_REGION").as_deref().map(str::trim) {
        Err(_) | Ok("") | Ok("us") | Ok("US") => Region::Us,
        Ok("eu") | Ok("EU") => Region::Eu,
        Ok(other) => return Err(format!("BRIVO_REGION must be us or eu, not {other:?}")),
    };
    let rate = match std::env::var("BRIVO_RATE") {
        Ok(r) => r
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("BRIVO_RATE must be a number, not {r:?}"))?,
        Err(_) => 5.0,
    };
    let mut builder = Client::builder(credentials)
        .region(region)
        .rate_limit(rate, 5);
    if let Ok(url) = std::env::var("BRIVO_BASE_URL") {
        builder = builder.base_url(url);
    }
    if let Ok(url) = std::env::var("BRIVO_AUTH_URL") {
        builder = builder.auth_url(url);
    }
    builder.build().map_err(|e| e.to_string())
}

/// Cuts `s` to `width` characters, marking the cut.
fn cell(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

async fn run(client: &Client) -> Result<(), Error> {
    let users = client
        .list_users(UserQuery::default())
        .collect_all()
        .await?;
    println!(
        "{:>10}  {:<28}  {:<28}  {:<32}  SUSPENDED",
        "ID", "EXTERNAL ID", "NAME", "EMAIL"
    );
    for u in &users.items {
        println!(
            "{:>10}  {:<28}  {:<28}  {:<32}  {}",
            u.id,
            cell(u.external_id.as_deref().unwrap_or("-"), 28),
            cell(&u.display_name(), 28),
            cell(u.primary_email().unwrap_or("-"), 32),
            match u.suspended {
                Some(true) => "yes",
                Some(false) => "no",
                None => "?",
            }
        );
    }
    println!("{} users", users.items.len());
    for s in &users.skipped {
        eprintln!(
            "warning: skipped an unreadable user record (id {:?}): {}",
            s.id, s.reason
        );
    }

    let groups = client
        .list_groups(GroupQuery::default())
        .collect_all()
        .await?;
    println!();
    println!("{:>10}  {:<36}  {:>7}", "ID", "GROUP", "MEMBERS");
    for g in &groups.items {
        let members = client.group_members(g.id).total().await?;
        println!(
            "{:>10}  {:<36}  {:>7}",
            g.id,
            cell(&g.name, 36),
            members.map_or_else(|| "?".to_owned(), |n| n.to_string())
        );
    }
    println!("{} groups", groups.items.len());
    for s in &groups.skipped {
        eprintln!(
            "warning: skipped an unreadable group record (id {:?}): {}",
            s.id, s.reason
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    let client = match client_from_env() {
        Ok(c) => c,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let result = run(&client).await;
    let calls = client.calls();
    eprintln!(
        "\n{} calls made ({} retries, {} throttled answers)",
        calls.calls, calls.retries, calls.throttled
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
