//! Everything `coupa serve` runs: a Coupa-compatible OAuth 2.0 authorization server and a
//! scope-enforcing Coupa-style REST API.

pub mod api;
pub mod api_keys;
pub mod app;
pub mod cache;
pub mod clients;
pub mod config;
pub mod demo;
pub mod domain;
pub mod grants;
pub mod http;
pub mod key_encryption;
pub mod keys;
pub mod passwords;
pub mod private_files;
pub mod revocations;
pub mod sign_ins;
pub mod store;
pub mod ui;
pub mod users;
pub mod uses;

pub use app::{App, StartError};
pub use config::{Config, ConfigLayer};
