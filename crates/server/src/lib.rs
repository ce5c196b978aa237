//! Everything `coupa serve` runs: a Coupa-compatible OAuth 2.0 authorization server and a
//! scope-enforcing Coupa-style REST API.

pub mod admin;
pub mod api;
pub mod app;
pub mod audit_trail;
pub mod auth_failures;
pub mod cache;
pub mod config;
pub mod database_lock;
pub mod demo;
pub mod domain;
pub mod faults;
pub mod files;
pub mod grants;
pub mod http;
pub mod key_encryption;
pub mod keys;
pub mod passwords;
pub mod private_files;
pub mod report;
pub mod reveals;
pub mod revocations;
pub mod service_error;
pub mod sessions;
pub mod sign_ins;
pub mod signing_keys;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod uses;

pub use app::{App, StartError};
pub use config::{Config, ConfigLayer};
