//! Lists today's bookings per OfficeRnD location, in each location's own
//! time zone, with the resource, the booker and the visitors.
//!
//! Environment:
//!
//! - `OFFICERND_ORG`: the organization slug (from `https://app.officernd.com/admin/<slug>`)
//! - `OFFICERND_CLIENT_ID`, `OFFICERND_CLIENT_SECRET`: an OfficeRnD application's
//!   credentials (Settings → Developer Tools → Applications), granted the read
//!   scopes in `officernd_client::config::READ_SCOPES`
//! - `OFFICERND_API_URL` (optional): API root up to `/api/v2`, e.g. a sandbox
//! - `OFFICERND_TOKEN_URL` (optional): token endpoint, e.g. a sandbox
//! - `OFFICERND_STAGING=1` (optional): use OfficeRnD's staging hosts
//! - `RUST_LOG` (optional): e.g. `officernd_client=debug`
//!
//! ```text
//! OFFICERND_ORG=acme OFFICERND_CLIENT_ID=… OFFICERND_CLIENT_SECRET=… \
//!   cargo run -p examples --bin officernd-bookings
//! ```
//!
//! Exits with status 1 and the error chain on stderr if anything fails.

use std::collections::HashMap;
use std::process::ExitCode;

use chrono::Utc;
use officernd_client::models::{MemberId, ResourceId, VisitorId};
use officernd_client::query::{BookingsQuery, LocationsQuery, ResourcesQuery};
use officernd_client::time::{local_date, local_day};
use officernd_client::{Client, Error};
use secrecy::SecretString;

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("environment variable {name} is not set"))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("officernd-bookings: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The error and its sources, one per line.
fn chain(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!("\n  caused by: {s}"));
        source = s.source();
    }
    text
}

async fn run() -> Result<(), String> {
    let org = env("OFFICERND_ORG")?;
    let client_id = env("OFFICERND_CLIENT_ID")?;
    let secret = SecretString::from(env("OFFICERND_CLIENT_SECRET")?);
    let mut builder = Client::builder(org, client_id, secret);
    if std::env::var("OFFICERND_STAGING").is_ok_and(|v| v == "1") {
        builder = builder.staging();
    }
    if let Ok(url) = env("OFFICERND_API_URL") {
        builder = builder.api_url(url);
    }
    if let Ok(url) = env("OFFICERND_TOKEN_URL") {
        builder = builder.token_url(url);
    }
    let client = builder.build().map_err(|e| chain(&e))?;

    let locations = client
        .list_locations(LocationsQuery::new())
        .collect_all()
        .await
        .map_err(|e| chain(&e))?;
    for s in &locations.skipped {
        eprintln!(
            "warning: location {:?} skipped: {} ({})",
            s.id, s.reason, s.path
        );
    }
    let resources: HashMap<ResourceId, String> = client
        .list_resources(ResourcesQuery::new())
        .collect_all()
        .await
        .map_err(|e| chain(&e))?
        .items
        .into_iter()
        .map(|r| {
            let name = r.name.unwrap_or_else(|| r.id.to_string());
            (r.id, name)
        })
        .collect();

    let mut members: HashMap<MemberId, String> = HashMap::new();
    let mut visitors: HashMap<VisitorId, String> = HashMap::new();
    let now = Utc::now();

    for location in &locations.items {
        let name = location.name.as_deref().unwrap_or(location.id.as_str());
        let Some(tz) = location.timezone else {
            eprintln!("warning: location {name} has no time zone; skipped");
            continue;
        };
        let today = local_date(tz, now);
        let (from, to) = local_day(tz, today).map_err(|e| chain(&e))?;
        let day = client
            .booking_occurrences(from, to, BookingsQuery::new().location(location.id.clone()))
            .await
            .map_err(|e| chain(&e))?;
        println!("{name} — {today} ({tz})");
        for s in &day.skipped {
            eprintln!("  warning: booking {:?} skipped: {}", s.id, s.reason);
        }
        let live: Vec<_> = day.occurrences.iter().filter(|o| !o.is_cancelled).collect();
        if live.is_empty() {
            println!("  no bookings");
        }
        for o in live {
            let resource = resources
                .get(&o.resource)
                .cloned()
                .unwrap_or_else(|| o.resource.to_string());
            let booker = match &o.member {
                Some(id) => member_name(&client, &mut members, id).await,
                None => "(no booker)".to_string(),
            };
            let mut guests = Vec::new();
            for v in &o.visitors {
                guests.push(visitor_name(&client, &mut visitors, v).await);
            }
            println!(
                "  {}–{}  {resource:<24} {booker}{}{}",
                o.start.with_timezone(&tz).format("%H:%M"),
                o.end.with_timezone(&tz).format("%H:%M"),
                if o.is_tentative { " (tentative)" } else { "" },
                if guests.is_empty() {
                    String::new()
                } else {
                    format!("; visitors: {}", guests.join(", "))
                },
            );
        }
    }
    Ok(())
}

async fn member_name(
    client: &Client,
    cache: &mut HashMap<MemberId, String>,
    id: &MemberId,
) -> String {
    if let Some(name) = cache.get(id) {
        return name.clone();
    }
    let name = match client.get_member(id).await {
        Ok(m) => m.name.unwrap_or_else(|| id.to_string()),
        Err(e) => {
            eprintln!("  warning: member {id}: {e}");
            id.to_string()
        }
    };
    cache.insert(id.clone(), name.clone());
    name
}

async fn visitor_name(
    client: &Client,
    cache: &mut HashMap<VisitorId, String>,
    id: &VisitorId,
) -> String {
    if let Some(name) = cache.get(id) {
        return name.clone();
    }
    let name = match client.get_visitor(id).await {
        Ok(v) => match (v.name, v.email) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (Some(n), None) => n,
            (None, Some(e)) => e,
            (None, None) => id.to_string(),
        },
        Err(e) => {
            eprintln!("  warning: visitor {id}: {e}");
            id.to_string()
        }
    };
    cache.insert(id.clone(), name.clone());
    name
}
