//! `tenure worker --metrics-addr` serves the Kubernetes probes next to
//! `/metrics`, against a real ZooKeeper server reached through a proxy
//! that can cut the worker off.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::time::Duration;

use common::{Target, expect_within};
use tenure_tests::proxy::Proxy;
use tenure_tests::server_util::{free_port, tcp_request};
use tenure_tests::zookeeper::ZkServer;

/// The status line and body of `GET path`, or "" if nothing answered.
fn get(port: u16, path: &str) -> String {
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let request = format!("GET {path} HTTP/1.0\r\n\r\n");
    tcp_request(addr, request.as_bytes(), Duration::from_secs(5)).unwrap_or_default()
}

fn status(response: &str) -> Option<u16> {
    response
        .lines()
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `/readyz` answers 503 until the worker is registered, 200 while its
/// session is connected, 503 while it is cut off from the server (its
/// session at risk, its tasks fenced), and 200 again once it is back;
/// `/healthz` answers 200 throughout, and `/metrics` the library's
/// metrics.
#[test]
fn readyz_is_unavailable_while_the_session_is_at_risk() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let upstream = ZkServer::shared().addr();
    let proxy = runtime.block_on(Proxy::start(upstream)).unwrap();
    let target = Target {
        backend: "zookeeper",
        connect: proxy.addr().to_string(),
    };
    let c = target.cluster("probes");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut worker = c.worker("a", &["--metrics-addr", &addr], "sleep 600");
    let ready = || status(&get(port, "/readyz")) == Some(200);
    expect_within(Duration::from_secs(20), "ready", &[&worker], ready);
    let body = get(port, "/readyz");
    assert!(body.contains("session=connected registered=true"), "{body}");
    assert!(body.contains("fenced=false"), "{body}");
    assert_eq!(status(&get(port, "/healthz")), Some(200));
    let metrics = get(port, "/metrics");
    assert!(
        metrics.contains(r#"tenure_session_state{state="connected"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("tenure_store_request_seconds"),
        "{metrics}"
    );

    proxy.suspend();
    expect_within(
        Duration::from_secs(10),
        "not ready while cut off",
        &[&worker],
        || status(&get(port, "/readyz")) == Some(503),
    );
    assert_eq!(status(&get(port, "/healthz")), Some(200));
    proxy.resume();
    expect_within(Duration::from_secs(30), "ready again", &[&worker], ready);

    worker.signal("TERM");
    let exit = worker.wait_exit(Duration::from_secs(10));
    assert!(exit.is_some_and(|s| s.success()), "{}", worker.log());
}
