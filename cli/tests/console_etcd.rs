//! `tenure console` against a real etcd server: the same routes,
//! operations and event stream as on ZooKeeper, and a server that goes
//! away and comes back.

#![cfg(feature = "etcd")]
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::Target;
use tenure_tests::etcd::EtcdServer;

fn etcd() -> Target {
    Target {
        backend: "etcd",
        connect: EtcdServer::shared().endpoint(),
    }
}

console_suite!(etcd());

#[test]
fn console_reports_disconnected_and_recovers() {
    let server = EtcdServer::start();
    let target = Target {
        backend: "etcd",
        connect: server.endpoint(),
    };
    common::console_suite::console_reports_disconnected_and_recovers(
        &target,
        &|| server.stop(),
        &|| {
            server.start_again();
        },
    );
}
