//! One file per command of `coupa`, each with its `exec`.

pub mod admin;
pub mod api;
pub mod bridge;
pub mod broker;
pub mod ca;
pub mod demo;
pub mod postman;
pub mod profiles;
pub mod sandbox;
pub mod scopes;
pub mod serve;
pub mod token;
