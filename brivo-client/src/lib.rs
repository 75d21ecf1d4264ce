//! Typed async client for the Brivo Access REST API (users, groups, membership, credentials, sites).
//!
//! Work in progress: see the workspace README.
#![warn(missing_docs)]
