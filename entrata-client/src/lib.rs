//! Typed async client for Entrata's JSON-RPC web services (leases, customers, properties, units).
//!
//! Work in progress: see the workspace README.
#![warn(missing_docs)]
