//! The coordination runtime: workers, claims, failover, handoff, the
//! leader, and the admin API, all over [`CoordinationStore`] only.
//!
//! [`CoordinationStore`]: crate::store::CoordinationStore

pub mod admin;
pub mod claim;
pub mod events;
pub mod handler;
pub mod health;
pub mod layout;
mod leader;
mod malformed;
mod owners;
pub mod records;
pub mod timing;
mod view;
pub mod worker;
