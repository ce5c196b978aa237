//! The one integration-test binary: real servers on port 0, real HTTP, real databases.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_api;
mod api;
mod api_keys;
mod attachments;
mod audit;
mod bearer;
mod cli;
mod client_sdk;
mod discovery;
mod faults;
mod floods;
mod hardening;
mod interactive;
mod key_rotation;
mod metrics;
mod outage;
mod postman;
mod propagation;
mod report_card;
mod sandbox;
mod sandbox_tls;
mod seeds;
mod setup_ui;
mod store_conformance;
mod support;
mod third_party;
mod token_endpoint;
