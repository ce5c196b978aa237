//! Pure rules: no HTTP, no SQL. Everything here is unit-tested on its own.

pub mod api_key;
pub mod audit;
pub mod authorization_header;
pub mod authorization_request;
pub mod client;
pub mod cookie;
pub mod custom_field;
pub mod device;
pub mod faults;
pub mod form;
pub mod grant;
pub mod key_schedule;
pub mod lifetime;
pub mod listing;
pub mod origin;
pub mod pkce;
pub mod rate_limit;
pub mod report;
pub mod scope;
pub mod secret;
pub mod setup;
pub mod throttle;
pub mod time;
pub mod token;
pub mod user;
