//! The ECAS demo (`examples/ecas`) against the real ZooKeeper and etcd test
//! servers: the example's own code (options, backend wiring, the loopback
//! links it cuts to crash a host, the story) compiled into this test, so
//! the demo that `cargo run --example ecas -- --backend …` runs is the one
//! checked here.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "../../examples/ecas/backend.rs"]
mod backend;
#[path = "../../examples/ecas/demo.rs"]
mod demo;
#[path = "../../examples/ecas/etcd.rs"]
mod etcd;
#[path = "../../examples/ecas/proxy.rs"]
mod proxy;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use backend::{Backend, Options};
use tenure_tests::etcd::EtcdServer;
use tenure_tests::zookeeper::ZkServer;

/// Runs the demo on `backend` at `connect`, printing and returning its
/// lines; panics if it fails or takes more than a minute.
async fn run_demo(backend: &str, connect: String) -> (demo::Report, Vec<String>) {
    let options = Options {
        backend: backend.into(),
        connect: Some(connect),
        cluster: format!("ecas-demo-{}", std::process::id()),
        ..Options::default()
    };
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let say: demo::Say = Arc::new(move |line: String| {
        eprintln!("{line}");
        sink.lock().unwrap().push(line);
    });
    let backend = Backend::start(&options).unwrap();
    let report = tokio::time::timeout(
        Duration::from_secs(60),
        demo::run(&backend, &options.cluster, say),
    )
    .await
    .expect("the demo ends within a minute")
    .expect("the demo succeeds");
    let lines = lines.lock().unwrap().clone();
    (report, lines)
}

/// The position of the first line after `from` containing every one of
/// `words`.
fn find(lines: &[String], from: usize, words: &[&str]) -> Option<usize> {
    lines
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, l)| words.iter().all(|w| l.contains(w)))
        .map(|(i, _)| i)
}

/// The story happened in order: balanced, crash, takeover by ECAS_2 after
/// the session ended (not sooner), ECAS_1 back, handback, clean end.
fn assert_story(report: &demo::Report, lines: &[String]) {
    let all = lines.join("\n");
    let step = |from: usize, words: &[&str]| {
        find(lines, from, words).unwrap_or_else(|| panic!("no {words:?} after line {from}:\n{all}"))
    };
    let balanced = step(0, &["balanced:"]);
    let crash = step(balanced, &["the host of ECAS_1 dies"]);
    let taken = step(crash, &["ECAS_2 takes", "over from ECAS_1"]);
    let runs_all = step(taken, &["ECAS_2 runs everything"]);
    let back = step(runs_all, &["ECAS_1 comes back"]);
    let moved = step(back, &["ECAS_1 receives", "from ECAS_2 (handoff)"]);
    let rebalanced = step(moved, &["rebalanced by handoff"]);
    step(rebalanced, &["done"]);
    let timeout = report.session_timeout;
    assert!(
        report.takeover >= timeout / 2 && report.takeover <= timeout + Duration::from_secs(5),
        "takeover after {:?} with a session timeout of {timeout:?}: a crash is noticed when the session ends\n{all}",
        report.takeover
    );
    assert!(
        report.handback < Duration::from_secs(10),
        "handback took {:?}\n{all}",
        report.handback
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecas_demo_on_zookeeper_takes_over_after_a_crash_and_hands_back() {
    let server = tokio::task::spawn_blocking(ZkServer::shared).await.unwrap();
    let (report, lines) = run_demo("zookeeper", server.connect_string()).await;
    eprintln!("zookeeper: takeover {:?}", report.takeover);
    assert_story(&report, &lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecas_demo_on_etcd_takes_over_after_a_crash_and_hands_back() {
    let server = tokio::task::spawn_blocking(EtcdServer::shared)
        .await
        .unwrap();
    let (report, lines) = run_demo("etcd", server.endpoint()).await;
    eprintln!("etcd: takeover {:?}", report.takeover);
    assert_story(&report, &lines);
}
