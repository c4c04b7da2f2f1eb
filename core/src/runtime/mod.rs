//! The coordination runtime: workers, claims, failover, handoff, the
//! leader, and the admin API, all over [`CoordinationStore`] only.
//!
//! [`CoordinationStore`]: crate::store::CoordinationStore

pub(crate) mod admin;
pub mod claim;
pub(crate) mod events;
pub(crate) mod handler;
pub(crate) mod health;
pub(crate) mod layout;
mod leader;
mod malformed;
mod member;
mod owners;
pub mod records;
pub(crate) mod timing;
mod view;
pub(crate) mod worker;
