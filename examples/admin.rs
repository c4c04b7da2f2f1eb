//! Admin operations: add tasks (payload, weight, tags, pinning), update
//! one, pause and resume it, read the cluster's status, and remove a task,
//! with a worker running them. In-memory backend, no setup.
//!
//! ```sh
//! cargo run --example admin
//! ```

use std::sync::Arc;
use std::time::Duration;

use tenure::memory::MemoryServer;
use tenure::{Admin, DynStore, TaskContext, TaskId, TaskSpec, TaskState, Worker};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Prints every task: state, owner and token, weight, tags.
async fn show(admin: &Admin, when: &str) -> Result<(), Error> {
    println!("-- {when}");
    for t in admin.tasks().await? {
        let owner = t
            .owner
            .map(|o| format!("{} (token {})", o.worker, o.token))
            .unwrap_or_else(|| "-".into());
        println!(
            "   {:<8} {:<8} owner {owner}, weight {}, tags {:?}",
            t.task.to_string(),
            format!("{:?}", t.state).to_lowercase(),
            t.weight,
            t.tags
        );
    }
    Ok(())
}

/// Waits until `task` is in `state`.
async fn wait_for(admin: &Admin, task: &TaskId, state: TaskState) -> Result<(), Error> {
    for _ in 0..500 {
        if admin.tasks().await?.iter().any(|t| {
            &t.task == task && t.state == state && (state != TaskState::Paused || t.owner.is_none())
        }) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("{task} not {state:?} within 10 s").into())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = MemoryServer::new();
    let store: DynStore = Arc::new(server.connect(Duration::from_secs(2)).await?);
    let worker = Worker::builder(store.clone(), "ops")
        .id("eu-1")
        .tag("eu")
        .handler(|ctx: TaskContext| async move {
            ctx.cancelled().await;
            Ok(())
        })
        .build()?;
    let running = worker.spawn();

    let admin = Admin::new(store, "ops").await?;
    admin
        .add_task(TaskSpec::new("report")?.payload("daily"))
        .await?;
    admin
        .add_task(TaskSpec::new("billing")?.weight(3)?.tag("eu")?)
        .await?;
    admin
        .add_task(TaskSpec::new("audit")?.pinned("eu-1")?)
        .await?;
    let report = TaskId::new("report")?;
    wait_for(&admin, &report, TaskState::Running).await?;
    show(&admin, "three tasks added").await?;

    admin
        .update_task(TaskSpec::new("report")?.payload("hourly"))
        .await?;
    let payload = admin.task(&report).await?.payload;
    println!(
        "-- report updated: payload {:?}",
        String::from_utf8_lossy(&payload)
    );

    admin.pause_task(&report).await?;
    wait_for(&admin, &report, TaskState::Paused).await?;
    show(&admin, "report paused").await?;
    admin.resume_task(&report).await?;
    wait_for(&admin, &report, TaskState::Running).await?;

    let status = admin.status().await?;
    println!(
        "-- status: {} workers, {} tasks, leader {:?}",
        status.workers.len(),
        status.tasks.len(),
        status.leader.map(|l| l.worker.to_string())
    );

    admin.remove_task(&report).await?;
    show(&admin, "report removed").await?;

    worker.shutdown().await;
    running.await??;
    Ok(())
}
