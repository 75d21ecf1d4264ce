//! Integration tests: brivo-client against httpmock servers that answer in
//! Brivo's recorded wire shapes (`tests/fixtures/`).
#![allow(clippy::unwrap_used)] // test helpers panic on broken fixtures by design

mod auth;
mod caller_client;
mod common;
mod credentials;
mod groups;
mod hostile;
mod paging;
mod resilience;
mod secrets;
mod sites;
mod users;
