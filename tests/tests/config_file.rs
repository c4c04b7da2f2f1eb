//! Store configurations read from TOML (the backends' `serde` features)
//! connect to real servers with what the document says.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::{CoordinationStore, CreateMode, Error, Path};
use tenure_etcd::EtcdConfig;
use tenure_tests::backend::unique_root;
use tenure_tests::etcd::EtcdBackend;
use tenure_tests::zookeeper::ZkBackend;
use tenure_zookeeper::ZkConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zookeeper_configuration_from_toml_connects_with_its_chroot_timeout_and_credentials() {
    let server = ZkBackend::shared().await.upstream();
    let chroot = unique_root("config-file");
    let config: ZkConfig = toml::from_str(&format!(
        r#"
        servers = "{server}"
        chroot = "{chroot}"
        session_timeout = "4s"
        connect_timeout = "10s"

        [credentials]
        user = "config-file"
        password = "config-file-password"
        "#
    ))
    .unwrap();
    let store = config.connect().await.unwrap();
    assert_eq!(store.info().session_timeout, Duration::from_secs(4));
    let x = Path::new("/x").unwrap();
    store
        .create(&x, b"in", CreateMode::Persistent)
        .await
        .unwrap();
    // The node is the chroot's, and only these credentials may read it.
    let outsider = ZkConfig::new(server.to_string()).connect().await.unwrap();
    let read = outsider.get(&chroot.child("x").unwrap()).await;
    assert!(matches!(read, Err(Error::Unauthorized { .. })), "{read:?}");
    store.delete(&x, None).await.unwrap();
    let _ = outsider.close().await;
    let _ = store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_etcd_configuration_from_toml_connects_in_its_namespace_with_its_timeout() {
    let server = EtcdBackend::shared().await.upstream();
    let namespace = unique_root("config-file");
    let config: EtcdConfig = toml::from_str(&format!(
        r#"
        endpoints = ["http://{server}"]
        namespace = "{namespace}"
        session_timeout = "4s"
        request_timeout = "5s"
        max_txn_ops = 128
        "#
    ))
    .unwrap();
    let store = config.connect().await.unwrap();
    assert_eq!(store.info().session_timeout, Duration::from_secs(4));
    let x = Path::new("/x").unwrap();
    store
        .create(&x, b"in", CreateMode::Persistent)
        .await
        .unwrap();
    // Another namespace does not see the node.
    let other = EtcdConfig::new([server.to_string()])
        .connect()
        .await
        .unwrap();
    assert!(other.get(&x).await.unwrap().is_none());
    assert_eq!(store.get(&x).await.unwrap().unwrap().data, b"in");
    store.delete(&x, None).await.unwrap();
    let _ = other.close().await;
    let _ = store.close().await;
}
