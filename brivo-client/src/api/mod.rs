//! One method per Brivo remote method, as `impl Client` blocks.

pub(crate) mod account;
pub(crate) mod credentials;
pub(crate) mod groups;
pub(crate) mod sites;
pub(crate) mod users;
