//! The etcd test harness: real servers ([`EtcdServer`], [`EtcdCluster`])
//! and etcd as a conformance [`Backend`](crate::backend::Backend)
//! ([`EtcdBackend`]), each client behind its own proxy.

mod backend;
mod server;

pub use backend::{CONNECT_TIMEOUT, EtcdBackend, EtcdControl, NAMESPACE, admin_client};
pub use server::{EtcdCluster, EtcdServer, MIN_SESSION_TIMEOUT};
