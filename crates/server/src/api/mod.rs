//! The Coupa-style resource engine behind `/api/*`: declarative object definitions
//! (`model`), the query language of list calls (`query`), SQL generation (`sql`), and the JSON
//! and XML renderings (`render`). Adding an object is data in `model`, not a new handler.

pub mod actions;
pub mod derive;
pub mod model;
pub mod openapi;
pub mod query;
pub mod records;
pub mod render;
pub mod sql;
pub mod view;
pub mod xml_body;
