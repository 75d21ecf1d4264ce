//! Pure access planner: leases, memberships, bookings and day passes in, an exact timezone-correct Brivo grant/revoke plan out.
//!
//! Work in progress: see the workspace README.
#![warn(missing_docs)]
