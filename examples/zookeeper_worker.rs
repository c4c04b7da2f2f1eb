//! A worker on ZooKeeper: builds the store from a `ZkConfig`, joins a
//! cluster, runs the task `hello` (added unless it exists), and hands it
//! off on SIGTERM or Ctrl-C.
//!
//! ```sh
//! cargo run --example zookeeper_worker --features zookeeper -- 127.0.0.1:2181 [CLUSTER] [ID]
//! ```
//!
//! Start two in two terminals (each gets its own id) and stop one: the
//! other takes `hello` over. Credentials come from `TENURE_USER` and
//! `TENURE_PASSWORD` if set (digest; the nodes are then readable only
//! with them).

#[path = "common/serve.rs"]
mod serve;
#[path = "common/signal.rs"]
mod signal;

use std::sync::Arc;

use tenure::DynStore;
use tenure::zookeeper::{Credentials, ZkConfig};

#[tokio::main]
async fn main() -> Result<(), serve::Error> {
    let args = serve::Args::parse("127.0.0.1:2181");
    let mut config = ZkConfig::new(&args.connect).with_session_timeout(serve::SESSION);
    if let Some((user, password)) = serve::credentials() {
        config = config.with_credentials(Credentials::new(&user, &password)?);
    }
    let store: DynStore = Arc::new(config.connect().await?);
    serve::serve(store, &args).await
}
