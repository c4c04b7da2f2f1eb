//! A worker on etcd: builds the store from an `EtcdConfig`, joins a
//! cluster, runs the task `hello` (added unless it exists), and hands it
//! off on SIGTERM or Ctrl-C. Building it needs `protoc`.
//!
//! ```sh
//! cargo run --example etcd_worker --features etcd -- 127.0.0.1:2379 [CLUSTER] [ID]
//! ```
//!
//! Start two in two terminals (each gets its own id) and stop one: the
//! other takes `hello` over. Credentials come from `TENURE_USER` and
//! `TENURE_PASSWORD` if set (etcd's user/password authentication).

#[path = "common/serve.rs"]
mod serve;
#[path = "common/signal.rs"]
mod signal;

use std::sync::Arc;

use tenure::DynStore;
use tenure::etcd::{Credentials, EtcdConfig};

#[tokio::main]
async fn main() -> Result<(), serve::Error> {
    let args = serve::Args::parse("127.0.0.1:2379");
    let mut config = EtcdConfig::new(args.connect.split(',')).with_session_timeout(serve::SESSION);
    if let Some((user, password)) = serve::credentials() {
        config = config.with_credentials(Credentials::new(&user, &password)?);
    }
    let store: DynStore = Arc::new(config.connect().await?);
    serve::serve(store, &args).await
}
