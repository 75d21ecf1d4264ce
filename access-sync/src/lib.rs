//! Runs access-engine plans against Brivo from Entrata, OfficeRnD and directory sources: dry-run, apply, audit, scheduling.
//!
//! Work in progress: see the workspace README.
#![warn(missing_docs)]
