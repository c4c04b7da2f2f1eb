//! The etcd test harness: real servers ([`EtcdServer`], [`EtcdCluster`])
//! and etcd as a conformance [`Backend`](crate::backend::Backend)
//! ([`EtcdBackend`]), each client behind its own proxy.

mod auth;
mod backend;
mod server;

pub use auth::{User, start_with_users};
pub use backend::{CONNECT_TIMEOUT, EtcdBackend, EtcdControl, NAMESPACE, admin_client};
pub use server::{EtcdCluster, EtcdServer, MIN_SESSION_TIMEOUT};
