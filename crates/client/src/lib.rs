//! Client SDK for Coupa and coupa-compatible instances.

pub mod admin;
pub mod error;

pub use admin::AdminClient;
pub use error::ClientError;
