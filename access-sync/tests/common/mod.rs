//! Wiring the sandbox's three services to a Syncer, as a user would.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use access_engine::{GroupId, Mappings, Policy};
use access_sync::{BrivoBackend, EntrataSource, OfficeRndSource, Syncer, SyncerBuilder};
use sandbox::{Sandbox, SandboxConfig, SandboxCredentials, story};
use secrecy::SecretString;

pub fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// A sandbox with a generous Brivo limit so that tests run fast.
pub async fn start() -> Sandbox {
    Sandbox::start_with(
        sandbox::Seed::sample(),
        SandboxConfig::default().with_brivo_rate_limit(None),
    )
    .await
    .expect("sandbox starts")
}

pub fn brivo_client(sb: &Sandbox) -> brivo_client::Client {
    brivo_client_with(sb, sb.credentials())
}

/// A Brivo client of the sandbox using these credentials (e.g. wrong ones).
pub fn brivo_client_with(sb: &Sandbox, c: &SandboxCredentials) -> brivo_client::Client {
    brivo_client::Client::builder(brivo_client::Credentials::password(
        secret(&c.brivo_api_key),
        secret(&c.brivo_client_id),
        secret(&c.brivo_client_secret),
        secret(&c.brivo_username),
        secret(&c.brivo_password),
    ))
    .base_url(sb.brivo_api_url())
    .auth_url(sb.brivo_auth_url())
    .rate_limit(1000.0, 100)
    .retry_policy(
        brivo_client::RetryPolicy::default()
            .with_backoff(Duration::from_millis(5), Duration::from_millis(50))
            .with_max_retry_after(Duration::from_millis(100)),
    )
    .timeout(Duration::from_secs(5))
    .build()
    .expect("brivo client")
}

pub fn entrata_client(sb: &Sandbox) -> entrata_client::Client {
    entrata_client_with(sb, sb.credentials())
}

/// An Entrata client of the sandbox using these credentials.
pub fn entrata_client_with(sb: &Sandbox, c: &SandboxCredentials) -> entrata_client::Client {
    entrata_client::Client::builder(
        &format!("{}/", sb.entrata_api_url()),
        entrata_client::Credentials::basic(c.entrata_username.clone(), secret(&c.entrata_password)),
    )
    .rate_limit(1000.0, 100)
    .build()
    .expect("entrata client")
}

pub fn officernd_client(sb: &Sandbox) -> officernd_client::Client {
    officernd_client_with(sb, sb.credentials())
}

/// An OfficeRnD client of the sandbox using these credentials.
pub fn officernd_client_with(sb: &Sandbox, c: &SandboxCredentials) -> officernd_client::Client {
    officernd_client::Client::builder(
        c.officernd_org.clone(),
        c.officernd_client_id.clone(),
        secret(&c.officernd_client_secret),
    )
    .api_url(format!("{}/api/v2", sb.officernd_base_url()))
    .token_url(format!("{}/oauth/token", sb.officernd_identity_url()))
    .rate_limit(1000.0, 100)
    .build()
    .expect("officernd client")
}

fn ids(list: &[i64]) -> Vec<GroupId> {
    list.iter().copied().map(GroupId).collect()
}

/// The storyline's suggested mappings.
pub fn mappings() -> Mappings {
    let mut m = Mappings::default();
    for (property, groups) in story::property_groups() {
        m.properties.insert(property.into(), ids(&groups));
    }
    for (key, groups) in story::officernd_groups() {
        let groups = ids(&groups);
        let table = match key {
            "day-pass" => {
                m.day_pass_locations
                    .insert(story::LOCATION_DENVER.into(), groups);
                continue;
            }
            k if k == story::LOCATION_DENVER => &mut m.locations,
            k if k == story::FLOOR_2 => &mut m.floors,
            k if k.starts_with("64b00000000000000000b") => &mut m.plans,
            _ => &mut m.resources,
        };
        table.insert(key.into(), groups);
    }
    m
}

pub fn syncer(sb: &Sandbox) -> SyncerBuilder {
    Syncer::builder(BrivoBackend::new(brivo_client(sb)))
        .source(EntrataSource::new(entrata_client(sb)))
        .source(OfficeRndSource::new(officernd_client(sb)))
        .mappings(mappings())
        .policy(Policy::default())
        .concurrency(8)
}
