//! The in-process coordination store of tenure: deterministic, with fault
//! hooks for simulation tests.
//!
//! A [`MemoryServer`] is a shared in-process server (a tree of versioned
//! nodes, sessions, one-shot watches) with ZooKeeper's semantics; each
//! [`MemoryStore`] is one client of it and implements
//! [`CoordinationStore`](tenure_core::CoordinationStore). The fault hooks on
//! [`MemoryStore`] end a session, cut a connection (reported, or silently
//! as a partition), delay or drop watch events, lose the answers of
//! writes that were applied, delay the answers of requests, and count
//! requests; every timer runs on tokio time, so a test
//! under `tokio::time::pause()` replays the same history every time.
//!
//! | module | what it holds |
//! |---|---|
//! | `server` | [`MemoryServer`]: the lock around everything, connect |
//! | `store` | [`MemoryStore`]: the client and its store interface |
//! | `tree` | nodes, ZooKeeper's create/set/delete rules, versions and incarnations |
//! | `watches` | pending watches and which change fires which |
//! | `client` | one client's connection and watch delivery path |
//! | `session` | sessions: open, cut off, expire, resume, close |
//! | `ops`, `multi` | the requests, and atomic multi-operations |
//! | `faults` | the fault hooks |
//! | `answers` | answers on their way back: lost or delayed |
//! | `config`, `counts` | [`MemoryConfig`], [`OpCounts`] |

#![deny(missing_docs)]

mod answers;
mod client;
mod config;
mod counts;
mod faults;
mod multi;
mod ops;
mod server;
mod session;
mod store;
mod tree;
mod watches;

#[cfg(test)]
mod tests;

pub use config::MemoryConfig;
pub use counts::OpCounts;
pub use server::MemoryServer;
pub use store::MemoryStore;
