//! Client SDK for Coupa and coupa-compatible instances: profiles, the token manager, the API
//! with paging, retries and rate limiting, typed records of the main objects, and the admin API
//! of `coupa serve`.

pub mod admin;
pub mod api;
pub mod error;
pub mod http;
pub mod objects;
pub mod profile;
pub mod tokens;

pub use admin::AdminClient;
pub use error::ClientError;
