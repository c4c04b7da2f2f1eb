//! The ZooKeeper coordination store of tenure, on the `zookeeper-client`
//! crate.
//!
//! ```no_run
//! # async fn demo() -> tenure_core::Result<()> {
//! use tenure_zookeeper::ZkConfig;
//! let store = ZkConfig::new("127.0.0.1:2181").connect().await?;
//! # drop(store); Ok(()) }
//! ```
//!
//! - [`config`]: servers, chroot, timeouts, digest credentials;
//!   [`TlsConfig`] (feature `tls`): CA and client certificate.
//! - [`ZkStore`] (`store`, `ops`, `multi`, `read_many`): the store contract on ZooKeeper
//!   requests; `shared`: what every clone and the session supervisor
//!   share, and the plumbing every request goes through; `session`:
//!   session states and a new session after expiry;
//!   `connect`: opening one session, bounded in time.
//! - `proof`: which answers prove the session alive at the leader;
//!   `renewal`: the session deadline from that proof, and the store's own
//!   renewal writes that keep it moving.
//! - `acl`: who may touch the nodes the store creates.
//! - [`limits`]: what fits in one request ([`MAX_PAYLOAD`]).
//! - `errors`, `watch`, `versions`: ZooKeeper's errors, watch events and
//!   stats in tenure's terms.
//! - `config_file` (feature `serde`): [`ZkConfig`] and [`Credentials`] from
//!   a configuration file.

//!
//! Authentication: digest credentials (`addauth digest`), and over TLS a
//! client certificate. SASL is not offered: zookeeper-client 0.11 has
//! DIGEST-MD5 and GSSAPI SASL behind its `sasl` features (through
//! `rsasl`), but this store does not expose them yet.
//!
//! # Features
//! - `tls`: the servers' secure client port through zookeeper-client's
//!   rustls transport (`ZkConfig::with_tls`; adds rustls and aws-lc-rs
//!   to the build).
//! - `serde`: [`ZkConfig`] and [`Credentials`] implement
//!   `serde::Deserialize`, through the builder's checks (see [`ZkConfig`]
//!   for the fields).

#![deny(missing_docs)]

mod acl;
pub mod config;
#[cfg(feature = "serde")]
mod config_file;
mod connect;
mod errors;
pub mod limits;
mod multi;
mod ops;
mod proof;
mod read_many;
mod renewal;
mod session;
mod shared;
mod store;
#[cfg(feature = "tls")]
mod tls;
mod versions;
mod watch;

pub use config::{Credentials, ZkConfig};
pub use limits::MAX_PAYLOAD;
pub use store::ZkStore;
#[cfg(feature = "tls")]
pub use tls::TlsConfig;
/// The ZooKeeper client library this backend is built on.
pub use zookeeper_client;
