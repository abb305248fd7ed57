//! `devctl mcp`: a Model Context Protocol server on stdin/stdout for
//! coding agents. [`tools`] defines the tools over devctl's verbs;
//! [`server`] speaks the protocol (the `rmcp` crate).

pub mod server;
pub mod tools;

pub use server::serve;
