//! Shared HTTP plumbing for the access-sync clients: retry with jittered backoff, Retry-After, rate limiting, single-flight token cache.
//!
//! Work in progress: see the workspace README.
#![warn(missing_docs)]
