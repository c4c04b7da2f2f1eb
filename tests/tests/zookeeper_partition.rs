//! A worker whose ZooKeeper server is a follower cut off from its leader,
//! on a real 3-member ensemble whose peer links run through proxies
//! (`tenure_tests::zookeeper::PartitionedEnsemble`).
//!
//! The leader expires sessions; a follower that lost its leader keeps
//! answering its clients' reads and pings for up to syncLimit × tickTime
//! (here 30 × 100 ms = 3 s, three session timeouts). A worker connected to
//! it must not take those answers as proof that its session lives: it
//! must stop its handlers before the leader expires its session and
//! another worker claims the task.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use tenure_core::{Admin, DynStore, Layout, TaskId, TaskSpec, Worker, WorkerId};
use tenure_tests::backend::unique_root;
use tenure_tests::sim::History;
use tenure_tests::sim::history::Entry;
use tenure_tests::zookeeper::{PartitionedEnsemble, ZkTiming};
use tenure_zookeeper::ZkConfig;
use tokio::time::Instant;

/// The session timeout of both workers.
const SESSION: Duration = Duration::from_secs(1);

/// tickTime 100 ms, syncLimit 30: a cut follower serves its clients for
/// 3 s, while the leader expires their 1 s sessions.
const TIMING: ZkTiming = ZkTiming {
    tick: Duration::from_millis(100),
    init_limit: 30,
    sync_limit: 30,
    min_session: Duration::from_millis(200),
    max_session: Duration::from_secs(10),
};

/// How long anything the test waits for may take.
const PATIENCE: Duration = Duration::from_secs(20);

async fn store_on(ens: &PartitionedEnsemble, member: usize) -> DynStore {
    let servers = ens.members()[member].connect_string();
    let store = ZkConfig::new(servers)
        .with_session_timeout(SESSION)
        .connect()
        .await
        .unwrap();
    Arc::new(store)
}

/// Polls `done` every 10 ms until it holds; panics after [`PATIENCE`].
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < PATIENCE,
            "not within {PATIENCE:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The first start of `task` on `worker` at or after `from_ms`, and the
/// first stop of it.
fn first(history: &History, task: &TaskId, worker: &str, from_ms: u64, stop: bool) -> Option<u64> {
    history.entries().into_iter().find_map(|e| match e {
        Entry::Start {
            at_ms,
            task: t,
            worker: w,
            ..
        } if !stop && &t == task && w.as_str() == worker && at_ms >= from_ms => Some(at_ms),
        Entry::Stop {
            at_ms,
            task: t,
            worker: w,
            ..
        } if stop && &t == task && w.as_str() == worker && at_ms >= from_ms => Some(at_ms),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_on_a_follower_cut_from_its_leader_stops_before_another_takes_its_task() {
    let ens = PartitionedEnsemble::start(3, TIMING).await;
    let leader = tokio::task::block_in_place(|| ens.leader()).expect("a leader");
    let followers: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    let (cut, other) = (followers[0], followers[1]);

    let history = History::new();
    let root = unique_root("zkcut");
    let layout = Layout::at(root.clone()).unwrap();
    let admin = Admin::at(store_on(&ens, other).await, layout)
        .await
        .unwrap();
    let worker = |store: DynStore, id: &str| {
        Worker::builder(store, "cut")
            .root(root.clone())
            .id(id)
            .handler(history.handler())
            .build()
            .unwrap()
    };
    let a = worker(store_on(&ens, cut).await, "A");
    let run_a = a.spawn();
    let task = TaskId::new("T0").unwrap();
    admin.add_task(TaskSpec::new("T0").unwrap()).await.unwrap();
    let a_id = WorkerId::new("A").unwrap();
    wait_for("A runs T0", || history.runs_on(&a_id)).await;

    let b = worker(store_on(&ens, other).await, "B");
    let run_b = b.spawn();
    let registered = async {
        loop {
            let workers = admin.workers().await.unwrap();
            if workers.iter().any(|w| w.worker.as_str() == "B") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(PATIENCE, registered)
        .await
        .expect("B registers");
    // Steady for a while: both sessions renewed many times over.
    tokio::time::sleep(SESSION * 2).await;

    let cut_at = history.ms_at(Instant::now());
    // Steady: the store's own renewal keeps the deadline far enough ahead
    // that A never stopped T0 before the cut.
    let a_before: Vec<Entry> = history
        .entries()
        .into_iter()
        .filter(|e| matches!(e, Entry::Start { worker, .. } | Entry::Stop { worker, .. } if worker == &a_id))
        .collect();
    assert!(
        matches!(a_before.as_slice(), [Entry::Start { .. }]),
        "A did not run T0 steadily before the cut: {a_before:?}"
    );
    ens.cut(cut);
    wait_for("B runs T0", || {
        first(&history, &task, "B", cut_at, false).is_some()
    })
    .await;
    wait_for("A stops T0", || {
        first(&history, &task, "A", cut_at, true).is_some()
    })
    .await;
    let a_stopped = first(&history, &task, "A", cut_at, true).unwrap() - cut_at;
    let b_started = first(&history, &task, "B", cut_at, false).unwrap() - cut_at;
    eprintln!("after the cut: A stopped at {a_stopped} ms, B started at {b_started} ms");

    a.kill().await;
    b.kill().await;
    let _ = run_a.await;
    let _ = run_b.await;
    assert!(
        a_stopped <= b_started,
        "two runners: A (on the cut follower) stopped T0 {a_stopped} ms after the cut, \
         B started it {b_started} ms after the cut; violations: {:?}",
        history.violations()
    );
    assert!(
        history.violations().is_empty(),
        "{:?}",
        history.violations()
    );
    drop(ens);
}

/// `srvr`'s `Received:` count and `Zxid:` of member `i`.
fn counters(ens: &PartitionedEnsemble, i: usize) -> (u64, u64) {
    let srvr = tokio::task::block_in_place(|| ens.members()[i].four_letter("srvr")).unwrap();
    let field = |name: &str| {
        srvr.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {name} in {srvr}"))
            .to_string()
    };
    let received = field("Received:").parse().unwrap();
    let zxid = u64::from_str_radix(field("Zxid:").trim_start_matches("0x"), 16).unwrap();
    (received, zxid)
}

/// The median and the 99th percentile of `n` runs of `op`, in µs.
async fn latency<F: std::future::Future<Output = ()>>(
    n: usize,
    mut op: impl FnMut() -> F,
) -> (u128, u128) {
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let start = std::time::Instant::now();
        op().await;
        took.push(start.elapsed().as_micros());
    }
    took.sort_unstable();
    (took[n / 2], took[n * 99 / 100])
}

/// The price of proving the session at the leader, on the same ensemble:
/// the latency of each request of a renewal round from a client of a
/// follower, and what an idle store (fitted as a worker fits it) sends,
/// writes and keeps of its deadline, without and with the ensemble's tick
/// configured:
/// `cargo test -p tenure-tests --test zookeeper_partition renewal_cost -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it with --ignored --nocapture"]
async fn renewal_cost_measured() {
    use tenure_core::{CoordinationStore, Timing};
    use tenure_zookeeper::zookeeper_client as zk;

    let ens = PartitionedEnsemble::start(3, TIMING).await;
    let leader = tokio::task::block_in_place(|| ens.leader()).expect("a leader");
    let follower = (0..3).find(|&i| i != leader).unwrap();
    let servers = ens.members()[follower].connect_string();

    let client = zk::Client::connector()
        .with_session_timeout(SESSION)
        .connect(&servers)
        .await
        .unwrap();
    client
        .create(
            "/bench",
            b"",
            &zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all()),
        )
        .await
        .unwrap();
    let n = 500;
    let exists = latency(n, || async {
        client.check_stat("/").await.unwrap();
    })
    .await;
    let sync = latency(n, || async {
        client.sync("/").await.unwrap();
    })
    .await;
    let check = latency(n, || async {
        let mut w = client.new_multi_writer();
        w.add_check_version("/", -1).unwrap();
        w.commit().await.unwrap();
    })
    .await;
    let set = latency(n, || async {
        client.set_data("/bench", b"x", None).await.unwrap();
    })
    .await;
    eprintln!("client of a follower, {n} sequential requests each (p50 / p99, µs):");
    for (what, (p50, p99)) in [
        ("exists", exists),
        ("sync", sync),
        ("multi{check}", check),
        ("set_data", set),
    ] {
        eprintln!("  {what:<13} {p50:>6} / {p99:>6}");
    }
    drop(client);

    let span = Duration::from_secs(10);
    for tick in [None, Some(TIMING.tick)] {
        let mut config = ZkConfig::new(servers.clone()).with_session_timeout(SESSION);
        if let Some(t) = tick {
            config = config.with_tick_time(t);
        }
        let store = config.connect().await.unwrap();
        let timing = Timing::for_session(store.info().session_timeout);
        let fitted = store.fit_renewal(timing.heartbeat);
        tokio::time::sleep(SESSION).await;
        let ((recv0, _), (_, zxid0)) = (counters(&ens, follower), counters(&ens, leader));
        let start = Instant::now();
        let mut worst = Duration::ZERO;
        while start.elapsed() < span {
            let now = Instant::now();
            let deadline = store.session_deadline().unwrap();
            worst = worst.max((now + SESSION).saturating_duration_since(deadline));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let secs = start.elapsed().as_secs_f64();
        let ((recv1, _), (_, zxid1)) = (counters(&ens, follower), counters(&ens, leader));
        eprintln!(
            "idle store, 1 s session, tick {}: renewal period {fitted:?}; {:.1} packets/s to its server \
             (client pings included), {:.1} writes/s; deadline at worst {worst:?} behind now + timeout",
            tick.map_or("unknown".to_string(), |t| format!("{t:?}")),
            (recv1 - recv0) as f64 / secs,
            (zxid1 - zxid0) as f64 / secs,
        );
        store.close().await.unwrap();
    }
}
