//! Typed async client for the OfficeRnD Flex API v2 (members, memberships, bookings, passes) with webhook verification.
//!
//! Work in progress: see the workspace README.
#![warn(missing_docs)]
