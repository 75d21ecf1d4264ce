//! Lists a property's leases as a table: lease id, unit, status, move-in,
//! move-out and customers.
//!
//! Environment:
//!
//! | variable | meaning |
//! |---|---|
//! | `ENTRATA_PROPERTY_ID` | the property (required) |
//! | `ENTRATA_SUBDOMAIN`, `ENTRATA_USERNAME`, `ENTRATA_PASSWORD` | per-customer host with HTTP Basic auth (`https://{subdomain}.entrata.com/api/v1`) |
//! | `ENTRATA_ORG`, `ENTRATA_API_KEY` | or: the API gateway (`https://apis.entrata.com/ext/orgs/{org}/v1`) |
//! | `ENTRATA_BASE_URL` | optional: another base URL (sandbox, staging); `http://` only on loopback |
//! | `ENTRATA_TIME_ZONE` | optional IANA zone used when Entrata names none (default `America/Denver`) |
//! | `RUST_LOG` | optional log filter, e.g. `entrata_client=debug` |
//!
//! Entrata's lease dates are already the property's local calendar dates;
//! the table says which zone they are in (from `getMitsPropertyUnits`).
//!
//! ```text
//! ENTRATA_SUBDOMAIN=acme ENTRATA_USERNAME=api ENTRATA_PASSWORD=... ENTRATA_PROPERTY_ID=739084 \
//!     cargo run -p examples --bin entrata-leases
//! ```

use std::process::ExitCode;

use entrata_client::{Client, ClientBuilder, Lease, LeasesRequest, PropertyId};
use futures::TryStreamExt;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn builder() -> Result<ClientBuilder, String> {
    let basic = (
        env("ENTRATA_SUBDOMAIN"),
        env("ENTRATA_USERNAME"),
        env("ENTRATA_PASSWORD"),
    );
    let gateway = (env("ENTRATA_ORG"), env("ENTRATA_API_KEY"));
    let builder = match (basic, gateway) {
        ((sub, Some(user), Some(pass)), _) => {
            let b = Client::builder_basic(sub.as_deref().unwrap_or("sandbox"), user, pass);
            if sub.is_none() && env("ENTRATA_BASE_URL").is_none() {
                return Err("set ENTRATA_SUBDOMAIN (or ENTRATA_BASE_URL) with ENTRATA_USERNAME/ENTRATA_PASSWORD".into());
            }
            b
        }
        (_, (org, Some(key))) => {
            if org.is_none() && env("ENTRATA_BASE_URL").is_none() {
                return Err("set ENTRATA_ORG (or ENTRATA_BASE_URL) with ENTRATA_API_KEY".into());
            }
            Client::builder_gateway(org.as_deref().unwrap_or("sandbox"), key)
        }
        _ => {
            return Err(
                "missing credentials: set ENTRATA_USERNAME and ENTRATA_PASSWORD (Basic, with \
                        ENTRATA_SUBDOMAIN) or ENTRATA_API_KEY (gateway, with ENTRATA_ORG)"
                    .into(),
            );
        }
    };
    Ok(match env("ENTRATA_BASE_URL") {
        Some(url) => builder.base_url(&url),
        None => builder,
    })
}

fn customers(lease: &Lease) -> String {
    lease
        .customers
        .iter()
        .map(|c| {
            let role = c.customer_type.as_ref().map_or("?", |t| t.as_str());
            match c.move_out_date {
                Some(out) => format!("{} ({role}, out {out})", c.display_name()),
                None => format!("{} ({role})", c.display_name()),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn unit(lease: &Lease) -> String {
    let spaces: Vec<String> = lease
        .unit_spaces
        .iter()
        .map(|s| {
            s.unit_space
                .clone()
                .unwrap_or_else(|| s.unit_space_id.to_string())
        })
        .collect();
    match (lease.unit(), lease.unit_id, spaces.is_empty()) {
        (Some(n), _, _) => n.to_owned(),
        (None, _, false) => spaces.join(","),
        (None, Some(id), true) => format!("#{id}"),
        (None, None, true) => "-".into(),
    }
}

fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map_or_else(|| "-".into(), |d| d.format("%Y-%m-%d").to_string())
}

async fn run() -> Result<(), String> {
    let property: PropertyId = env("ENTRATA_PROPERTY_ID")
        .ok_or("missing ENTRATA_PROPERTY_ID")?
        .parse()
        .map_err(|e| format!("ENTRATA_PROPERTY_ID is not a number: {e}"))?;
    let fallback_zone: chrono_tz::Tz = env("ENTRATA_TIME_ZONE")
        .unwrap_or_else(|| "America/Denver".into())
        .parse()
        .map_err(|e| format!("ENTRATA_TIME_ZONE: {e}"))?;
    let client = builder()?.build().map_err(|e| e.to_string())?;

    let zone = match client.property_time_zone(property).await {
        Ok(Some(tz)) => tz,
        Ok(None) => fallback_zone,
        Err(e) => {
            tracing::warn!(error = %e, "no time zone from getMitsPropertyUnits; using {fallback_zone}");
            fallback_zone
        }
    };

    let mut pages = std::pin::pin!(client.lease_pages(&LeasesRequest::new(property)));
    println!("Leases of property {property} (dates are local to {zone})");
    println!(
        "{:<10} {:<10} {:<10} {:<10} {:<10} customers",
        "lease", "unit", "status", "move-in", "move-out"
    );
    let (mut count, mut skipped) = (0, 0);
    while let Some(page) = pages.try_next().await.map_err(|e| e.to_string())? {
        for lease in &page.leases {
            count += 1;
            println!(
                "{:<10} {:<10} {:<10} {:<10} {:<10} {}",
                lease.id,
                unit(lease),
                lease.status().as_str(),
                date(lease.move_in_date),
                date(lease.move_out_date),
                customers(lease),
            );
        }
        for s in &page.skipped {
            skipped += 1;
            eprintln!("warning: {s}");
        }
    }
    println!(
        "{count} leases, {skipped} records skipped, {} calls",
        client.call_stats().calls
    );
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
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("entrata-leases: {e}");
            ExitCode::FAILURE
        }
    }
}
