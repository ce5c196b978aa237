//! What the integration tests share: servers (`server`), the two stores (`backends`), the
//! `coupa` binary as a process (`process`), a browser without JavaScript (`browser`) and the
//! JavaScript peers (`node`).

pub mod backends;
pub mod browser;
pub mod node;
pub mod process;
pub mod server;
pub mod throwaway_postgres;

pub use backends::*;
pub use browser::*;
pub use node::*;
pub use process::*;
pub use server::*;
