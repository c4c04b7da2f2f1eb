//! The etcd coordination store of tenure, on the `etcd-client` crate.
//!
//! ```no_run
//! # async fn demo() -> tenure_core::Result<()> {
//! use tenure_etcd::EtcdConfig;
//! let store = EtcdConfig::new(["127.0.0.1:2379"]).connect().await?;
//! # drop(store); Ok(()) }
//! ```
//!
//! # How the store contract maps onto etcd
//!
//! **Hierarchy.** etcd has a flat, byte-ordered keyspace; a node at path
//! `p` of depth `d` is the key `<namespace>/<d, 4 digits><p>` (`/a/b` →
//! `/tenure/0002/a/b`), so the children of a node are one key range that
//! can hold neither grandchildren nor the children of a sibling sharing a
//! prefix (`/a/b` vs `/a/bc`); see [`keys`](crate#key-layout) below. The
//! root `/` is the key `<namespace>/0000/`, created empty when a store
//! connects; it cannot be deleted.
//!
//! **ZooKeeper's rules** hold through transaction comparisons, never
//! read-then-write: a create compares that the parent exists
//! (`create_revision > 0`, else `NoParent`), that the node does not
//! (`AlreadyExists`) and that the parent has no lease (`lease == 0`, else
//! `EphemeralParent`); a delete compares `create_revision == 0` over the
//! children's range — etcd compares an empty range as one key whose
//! fields are all 0, so this holds exactly when there are no children
//! (`NotEmpty`). A multi is simulated in order so that later operations see
//! earlier ones (a node created earlier is a valid parent); when a
//! transaction fails, its failure branch has read every key it compared at
//! that same revision, and replaying the operations on that state names the
//! first failing operation, its kind and its path.
//!
//! **Versions** are `mod_revision`s: the store revision of the node's last
//! write. Unlike etcd's per-key `version`, which restarts at 1 when a key
//! is deleted and created again, a revision never repeats, so a version
//! read before a delete and re-create can never match the new node by
//! accident — the ABA problem of ZooKeeper's data versions does not exist
//! here. All writes of one multi share one revision, so a node written
//! earlier in a multi can be written again in it only without an expected
//! version.
//!
//! **Sessions** are leases. The session timeout becomes the TTL, rounded up
//! to whole seconds (at least 1 s; the server may raise it to its minimum,
//! 1.5 × election timeout). Only ephemeral nodes are attached to the lease
//! (persistent writes keep no lease, and a set keeps a node's lease): etcd's
//! puts slow down as many keys accumulate on one lease (etcd-io/etcd#15993,
//! measured here: 10,000 keys on one lease made the last puts ~5× slower),
//! so keep the number of ephemeral nodes per store bounded. See
//! [`session`](crate#sessions) below for the states.
//!
//! **Watches** read at revision `R` and watch from `R + 1`, so no change
//! between the read and the watch is missed; all watches of a store share
//! one gRPC watch stream. A compacted start revision fires the watch (re-read
//! and re-arm); the end of the session fires `Lost`.
//!
//! **Endpoints**: the client balances over every endpoint and keeps
//! sending to one whose member is down, so the store keeps a rotation of
//! its own: it connects through the endpoints that accept connections,
//! drops one when a request could not connect to it, and takes it back
//! once a probe (every second) finds it accepting again;
//! [`EtcdStore::endpoints_in_use`] tells which are in use.
//!
//! **Limits**: payloads over [`limits::max_payload`] (1,507,328 bytes with
//! etcd's default 1.5 MiB `--max-request-bytes`) are refused before
//! sending, and so is a multi needing more than `--max-txn-ops` (128)
//! comparisons or operations.
//!
//! # Key layout
//! See the `keys` module: `<namespace>/<depth><path>`; with `etcdctl`,
//! `etcdctl get --prefix /tenure/0003/a/b/` lists the children of `/a/b`.
//!
//! # Sessions
//! A background task renews the lease every TTL/3, but at least every
//! second, on one keep-alive stream. No answer within that interval makes
//! the state `Suspended(s)` and requests fail at once with
//! `ConnectionLost`; an answer brings back `Connected(s)`. etcd reporting the lease gone makes
//! it `Expired(s)`; a new lease follows as `Connected(t)`. The session
//! deadline is the send time of the last answered keep-alive plus the TTL
//! the server reported.
//!
//! # Modules
//! - [`config`]: endpoints, namespace, timeouts, credentials, limits
//!   ([`EtcdConfig`]); `tls` (feature `tls`): CA and client certificates.
//!   `config_file` (feature `serde`): [`EtcdConfig`] and [`Credentials`]
//!   from a configuration file.
//! - [`EtcdStore`] (`store`): the store contract; `read`, `write`: reads
//!   with their revision, writes as transactions; `plan`: ZooKeeper's rules
//!   as comparisons; `keys`: the key layout; `shared`: what the clones
//!   and the background tasks share (client, lease, state, keep-alive
//!   period) and the plumbing every request goes through.
//! - `session`, `connect`: the lease, its keep-alive and renewal; opening a
//!   store within a bound. `endpoints`: the rotation of reachable members.
//!   `watch`: the shared watch stream.
//! - [`limits`]: what fits in one request; `errors`: etcd's errors in
//!   tenure's terms.
//!
//! # Features
//! - `tls`: `https://` endpoints through etcd-client's rustls transport
//!   (adds rustls and ring to the build).
//! - `serde`: [`EtcdConfig`] and [`Credentials`] implement
//!   `serde::Deserialize`, through the builder's checks (see
//!   [`EtcdConfig`] for the fields).

#![deny(missing_docs)]

pub mod config;
#[cfg(feature = "serde")]
mod config_file;
mod connect;
mod endpoints;
mod errors;
mod keys;
pub mod limits;
mod plan;
mod read;
mod session;
mod shared;
mod store;
#[cfg(feature = "tls")]
mod tls;
mod watch;
mod watch_shared;
mod write;

pub use config::{Credentials, EtcdConfig};
/// The etcd client library this backend is built on.
pub use etcd_client;
pub use limits::MAX_PAYLOAD;
pub use store::EtcdStore;
#[cfg(feature = "tls")]
pub use tls::TlsConfig;
