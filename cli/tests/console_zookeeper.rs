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

/// The console at 10,000 tasks (a measurement, run by hand; numbers in
/// BENCHMARKS.md): the time of a full status read, of a page of tasks
/// served from it, and the size of the Cluster page.
///
/// `cargo test --release -p tenure-cli --test console_zookeeper
/// console_at_10000_tasks -- --ignored --nocapture`
#[test]
#[ignore = "a measurement: run by hand"]
fn console_at_10000_tasks() {
    use std::time::{Duration, Instant};
    const TASKS: usize = 10_000;
    let c = zookeeper().cluster("con-scale");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    runtime.block_on(async {
        let store = tenure_zookeeper::ZkConfig::new(&c.target.connect)
            .connect()
            .await
            .unwrap();
        let admin = tenure_core::Admin::new(std::sync::Arc::new(store), &c.name)
            .await
            .unwrap();
        for i in 0..TASKS {
            let spec = tenure_core::TaskSpec::new(format!("task-{i:05}")).unwrap();
            admin.add_task(spec).await.unwrap();
        }
    });
    println!("added {TASKS} tasks in {:?}", started.elapsed());
    let console = c.console(&[], &[]);
    let time = |path: &str| {
        let t = Instant::now();
        let r = console.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        (t.elapsed(), r.body.len())
    };
    let (cold, _) = time("/api/tasks?limit=100");
    println!("first page (a full status read): {cold:?}");
    let mut cached = Vec::new();
    let mut pages = Vec::new();
    for i in 0..20 {
        std::thread::sleep(Duration::from_millis(50));
        cached.push(
            time(&format!(
                "/api/tasks?q={i}&sort=owner&order=desc&offset=100&limit=100"
            ))
            .0,
        );
        pages.push(time("/"));
    }
    cached.sort();
    pages.sort();
    println!(
        "filtered, sorted page of 100 from the cache: median {:?}, max {:?}",
        cached[10], cached[19]
    );
    println!(
        "Cluster page: median {:?}, max {:?}, {} bytes",
        pages[10].0, pages[19].0, pages[10].1
    );
    // The cache serves for twice the read's time (at least a second).
    std::thread::sleep(cold * 2 + Duration::from_millis(200));
    let (fresh, _) = time("/api/tasks?limit=100");
    println!("a page once the cache aged (a full status read): {fresh:?}");
}
