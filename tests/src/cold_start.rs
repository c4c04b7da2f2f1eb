//! A cold start over any backend: tasks exist, a fleet of workers starts
//! together (one every 20 ms), and every task's handler
//! starts exactly once — no task is placed, started, stopped and moved
//! while the workers are still joining.

use std::sync::Arc;
use std::time::Duration;

use tenure_core::TaskSpec;

use crate::backend::Backend;
use crate::live::LiveCluster;
use crate::runtime::task_name;
use crate::sim::history::Entry;

/// Starts `workers` workers over `tasks` tasks and checks that, once every
/// task runs, spread evenly, and a session more has passed, each task's
/// handler started exactly once.
///
/// # Panics
/// When a task started more than once, or the cluster did not settle.
pub async fn each_task_starts_once(backend: Arc<dyn Backend>, workers: usize, tasks: usize) {
    const SESSION: Duration = Duration::from_secs(2);
    const BOUND: Duration = Duration::from_secs(30);
    // Processes started by a loop: well inside the leader's join settle.
    const GAP: Duration = Duration::from_millis(20);
    let mut c = LiveCluster::new(backend, SESSION).await;
    for i in 0..tasks {
        c.admin
            .add_task(TaskSpec::new(task_name(i)).unwrap())
            .await
            .unwrap();
    }
    let names: Vec<String> = (0..workers).map(|w| format!("W{w}")).collect();
    c.join_many(&names, GAP).await;
    let share = tasks / workers;
    c.wait_until("every task runs, spread evenly", BOUND, |c| {
        let running = c.running();
        running.len() == tasks
            && (0..workers).all(|w| {
                let name = format!("W{w}");
                running
                    .values()
                    .filter(|(on, _)| on.as_str() == name)
                    .count()
                    == share
            })
    })
    .await;
    // Anything still moving would stop and start a handler by now.
    tokio::time::sleep(SESSION).await;
    let starts: Vec<Entry> = c
        .runs
        .history
        .entries()
        .into_iter()
        .filter(|e| matches!(e, Entry::Start { .. }))
        .collect();
    let running = c.running().len();
    c.stop().await;
    assert_eq!(running, tasks);
    let again: Vec<&Entry> = starts
        .iter()
        .filter(|e| matches!(e, Entry::Start { token, .. } if *token > 1))
        .collect();
    assert_eq!(
        starts.len(),
        tasks,
        "handler starts for {tasks} tasks on {workers} workers; started again: {again:?}"
    );
}
