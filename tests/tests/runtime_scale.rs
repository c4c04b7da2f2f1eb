//! How store traffic grows, counted on the memory server under paused
//! tokio time: reads and watches grow with workers + tasks, not workers ×
//! tasks, an idle cluster reads each task about once a minute (the leader's
//! periodic re-read) and writes nothing, and a moved task costs a small
//! constant number of writes.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_memory::OpCounts;
use tenure_tests::runtime::{Cluster, SESSION};

/// What one cluster of `workers` × `tasks` cost.
#[derive(Debug)]
struct Cost {
    /// Requests from the first join until everything settled.
    startup: OpCounts,
    /// Requests over an idle minute after that.
    idle: OpCounts,
    /// Watches armed once settled.
    watches: usize,
}

const IDLE: Duration = Duration::from_secs(60);

async fn measure(workers: usize, tasks: usize) -> Cost {
    let mut c = Cluster::new().await;
    c.add_tasks(tasks).await;
    let watches_before = c.server.watch_count();
    let start = c.server.op_counts();
    for w in 0..workers {
        c.join(&format!("W{w}")).await;
    }
    c.wait_until("balanced", SESSION * 4, |c| {
        c.running().len() == tasks
            && (0..workers).all(|w| c.on(&format!("W{w}")).len() == tasks / workers)
    })
    .await;
    tokio::time::sleep(SESSION).await;
    let settled = c.server.op_counts();
    let watches = c.server.watch_count() - watches_before;
    tokio::time::sleep(IDLE).await;
    let idle = c.server.op_counts() - settled;
    c.stop().await;
    Cost {
        startup: settled - start,
        idle,
        watches,
    }
}

#[tokio::test(start_paused = true)]
async fn reads_and_watches_grow_with_workers_plus_tasks_not_their_product() {
    let small = measure(2, 10).await;
    let double = measure(4, 20).await;
    let quad = measure(8, 40).await;
    let more_tasks = measure(2, 40).await;
    for (name, c) in [
        ("2x10", &small),
        ("4x20", &double),
        ("8x40", &quad),
        ("2x40", &more_tasks),
    ] {
        println!("{name}: {c:?}");
    }
    // Fit cost = a·workers + b·tasks + c on three clusters and predict the
    // fourth: a workers × tasks term would miss the prediction by far.
    for (what, of) in [
        (
            "startup reads",
            (|c: &Cost| c.startup.reads) as fn(&Cost) -> u64,
        ),
        ("idle reads", |c: &Cost| c.idle.reads),
        ("startup writes", |c: &Cost| c.startup.mutations()),
    ] {
        let (s, t4, w2) = (
            of(&small) as f64,
            of(&more_tasks) as f64,
            of(&double) as f64,
        );
        let per_task = (t4 - s) / 30.0; // 2x40 - 2x10
        let per_worker = (w2 - s - 10.0 * per_task) / 2.0; // 4x20 - 2x10
        let fixed = s - 2.0 * per_worker - 10.0 * per_task;
        let predicted = 8.0 * per_worker + 40.0 * per_task + fixed;
        let actual = of(&quad) as f64;
        println!(
            "{what}: {per_worker:.1}/worker + {per_task:.1}/task + {fixed:.1}; 8x40 predicted {predicted:.0}, counted {actual}"
        );
        assert!(
            (actual - predicted).abs() <= actual * 0.1,
            "{what} at 8x40: {actual}, linear model says {predicted:.0}"
        );
    }
    // Idle, each task costs about two reads a minute: the leader's periodic
    // re-read (default every 60 s) of its task node and its ownership
    // record; between re-reads the leader reads only what its watches
    // report changed. (Before: 30 a task a minute, a re-read every 2 s by
    // the leader and by the workers.)
    let idle_per_task = (more_tasks.idle.reads as f64 - small.idle.reads as f64) / 30.0;
    assert!(
        idle_per_task <= 3.0,
        "{idle_per_task} idle reads per task per minute"
    );
    // Idle, nobody writes: workers that do not lead wait on a watch of the
    // `leader` node instead of retrying its creation (before: one failing
    // create every 4 s per worker).
    for c in [&small, &double, &quad, &more_tasks] {
        assert_eq!(c.idle.mutations(), 0, "{c:?}");
    }
    // No worker watches every task: four times the tasks on the same
    // workers arm only the leader's watch on each new ownership record;
    // each worker arms the same few.
    assert_eq!(more_tasks.watches, small.watches + 30);
    // Per worker: its target, the open list, the `leader` node (if it does
    // not lead) and the `workers` folder (for its standby plans).
    let per_worker = (double.watches - small.watches - 10) / 2;
    assert!(per_worker <= 4, "{per_worker} watches per worker");
    // A worker named in no standby plan watches no `workers` folder: 3 or
    // 4 per worker.
    let added = quad.watches - small.watches - 30;
    assert!(
        (6 * 3..=6 * 4).contains(&added),
        "{added} watches for 6 workers"
    );
}

/// Requests that change the tree while a joining worker takes its share of
/// `tasks` from one worker, and how many tasks moved.
async fn writes_for_a_join(tasks: usize) -> (u64, usize) {
    let mut c = Cluster::new().await;
    c.add_tasks(tasks).await;
    c.join("W1").await;
    c.wait_all_running(tasks, SESSION).await;
    tokio::time::sleep(SESSION).await;
    let before = c.server.op_counts();
    c.join("W2").await;
    c.wait_until("half moved", SESSION, |c| c.on("W2").len() == tasks / 2)
        .await;
    tokio::time::sleep(SESSION).await;
    let writes = (c.server.op_counts() - before).mutations();
    let moved = c.on("W2").len();
    c.stop().await;
    (writes, moved)
}

#[tokio::test(start_paused = true)]
async fn writes_per_moved_task_are_a_small_constant() {
    let (w10, m10) = writes_for_a_join(20).await;
    let (w20, m20) = writes_for_a_join(40).await;
    println!("{m10} moved: {w10} writes; {m20} moved: {w20} writes");
    // Each move: one release, one claim (a claim that finds the old owner's
    // record still there, while it stops, writes nothing and waits on the
    // record's watch). The rest (registration, targets, leader campaign)
    // does not depend on how many tasks move.
    let marginal = (w20 - w10) as f64 / (m20 - m10) as f64;
    assert!(marginal <= 2.0, "{marginal} writes per extra moved task");
    assert!(w20 <= 2 * m20 as u64 + 10, "{w20} writes for {m20} moves");
}

/// What one admin change does to a settled cluster.
#[derive(Clone, Copy)]
enum Change {
    /// T0's payload changes: its owner restarts it.
    Update,
    /// T0 is paused: its owner stops it and releases its ownership record.
    Pause,
}

/// Reads over the second after `change`, in a settled cluster of two
/// workers and `tasks` tasks.
async fn reads_for(change: Change, tasks: usize) -> u64 {
    let mut c = Cluster::new().await;
    c.add_tasks(tasks).await;
    c.join("W0").await;
    c.join("W1").await;
    c.wait_all_running(tasks, SESSION * 4).await;
    tokio::time::sleep(SESSION).await;
    let before = c.server.op_counts();
    let t0 = tenure_core::TaskId::new("T0").unwrap();
    match change {
        Change::Update => {
            let spec = tenure_core::TaskSpec::new("T0").unwrap().payload("v2");
            c.admin.update_task(spec).await.unwrap();
        }
        Change::Pause => {
            c.admin.pause_task(&t0).await.unwrap();
            c.wait_until("T0 stopped", SESSION, |c| !c.running().contains_key(&t0))
                .await;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let reads = (c.server.op_counts() - before).reads;
    c.stop().await;
    reads
}

/// The reads after `change` with 10 and with 40 tasks differ by at most 2.
async fn assert_reads_do_not_grow_with_tasks(change: Change, what: &str) {
    let (r10, r40) = (reads_for(change, 10).await, reads_for(change, 40).await);
    println!("{what}: {r10} reads with 10 tasks, {r40} with 40");
    assert!(
        r40 <= r10 + 2,
        "{what}: {r10} reads with 10 tasks, {r40} with 40"
    );
}

#[tokio::test(start_paused = true)]
async fn the_leader_reads_only_the_task_that_changed() {
    // The admin's reads, the leader's folder node and that one task, the
    // owner's target and task, heartbeats: none of it grows with the tasks.
    assert_reads_do_not_grow_with_tasks(Change::Update, "one update").await;
}

#[tokio::test(start_paused = true)]
async fn the_leader_reads_only_the_ownership_record_that_changed() {
    // Before, the leader re-read every ownership record whenever one
    // changed (40 more reads with 40 tasks).
    assert_reads_do_not_grow_with_tasks(Change::Pause, "one release").await;
}
