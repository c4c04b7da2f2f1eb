//! Every node under a path on a test server, read with the backend's
//! own store: what proves that a command wrote nothing.

use std::sync::Arc;

use tenure_core::{DynStore, Path};

use super::Target;

/// The path of every node under `root` (included, if it exists), sorted.
pub fn tree(target: &Target, root: &str) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store: DynStore = match target.backend {
            "zookeeper" => Arc::new(
                tenure_zookeeper::ZkConfig::new(&target.connect)
                    .connect()
                    .await
                    .unwrap(),
            ),
            _ => Arc::new(
                tenure_etcd::EtcdConfig::new([target.connect.as_str()])
                    .connect()
                    .await
                    .unwrap(),
            ),
        };
        let mut paths = Vec::new();
        let mut stack = vec![Path::new(root).unwrap()];
        while let Some(path) = stack.pop() {
            if store.get(&path).await.unwrap().is_none() {
                continue;
            }
            for name in store.children(&path).await.unwrap() {
                stack.push(path.join(&name).unwrap());
            }
            paths.push(path.to_string());
        }
        store.close().await.unwrap();
        paths.sort();
        paths
    })
}
