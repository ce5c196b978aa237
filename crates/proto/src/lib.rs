//! Wire types shared by the coupa server and client. No I/O.

pub mod admin;
pub mod errors;
pub mod hosts;
pub mod oauth;
pub mod rate;
pub mod scopes;
