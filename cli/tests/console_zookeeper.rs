//! `tenure console` against a real ZooKeeper server: every route, the
//! operations and their refusals, the event stream, and a server that goes
//! away and comes back.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::Target;
use tenure_tests::zookeeper::ZkServer;

fn zookeeper() -> Target {
    Target {
        backend: "zookeeper",
        connect: ZkServer::shared().connect_string(),
    }
}

console_suite!(zookeeper());

#[test]
fn console_reports_disconnected_and_recovers() {
    let server = ZkServer::start();
    let target = Target {
        backend: "zookeeper",
        connect: server.connect_string(),
    };
    common::console_suite::console_reports_disconnected_and_recovers(
        &target,
        &|| server.stop(),
        &|| {
            server.start_again();
        },
    );
}

/// `--allow-writes` without a token, or with one too short, is refused
/// before anything is served, and the token never shows.
#[test]
fn writes_without_a_usable_token_are_refused_at_start() {
    let c = zookeeper().cluster("con-opts");
    let out = common::run_bounded(
        c.command()
            .args(["console", "--listen", "127.0.0.1:0", "--allow-writes"])
            .env_remove("TENURE_CONSOLE_TOKEN"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--allow-writes needs a token"), "{stderr}");
    let out = common::run_bounded(
        c.command()
            .args(["console", "--listen", "127.0.0.1:0", "--allow-writes"])
            .env("TENURE_CONSOLE_TOKEN", "ops:tiny-secret"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("shorter than 16"), "{stderr}");
    assert!(!stderr.contains("tiny-secret"), "{stderr}");
    let file = c.path("missing-tokens");
    let out = common::run_bounded(c.command().args([
        "console",
        "--allow-writes",
        "--token-file",
        file.to_str().unwrap(),
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the token file"));
}
