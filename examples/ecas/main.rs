//! The ECAS story: an application deployed as ECAS_1 and ECAS_2 runs
//! TASK_1..TASK_4. Both workers compete for the tasks, the strategy spreads
//! them, the host of ECAS_1 dies and ECAS_2 takes its tasks over, then
//! ECAS_1 comes back and gets its share back by graceful handoff.
//!
//! ```sh
//! cargo run --example ecas                                         # in-memory
//! cargo run --example ecas -- --backend zookeeper --connect 127.0.0.1:2181
//! cargo run --example ecas -- --backend etcd --connect 127.0.0.1:2379
//! ```

mod backend;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tenure::{Admin, OwnershipChange, TaskContext, TaskSpec, Worker};

use backend::{Backend, Options};

const CLUSTER: &str = "ecas";
const TASKS: [&str; 4] = ["TASK_1", "TASK_2", "TASK_3", "TASK_4"];

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let options = Options::parse();
    let backend = Backend::start(&options).await?;
    let started = Instant::now();
    let say = move |line: String| println!("[{:>6.2}s] {line}", started.elapsed().as_secs_f64());

    let admin_client = backend.connect().await?;
    let admin = Admin::new(admin_client.store.clone(), CLUSTER).await?;
    let mut events = Box::pin(admin.ownership_events());
    let timeline = tokio::spawn(async move {
        while let Some(e) = events.next().await {
            let what = match &e.change {
                OwnershipChange::Claimed => format!("{} claims {}", e.worker, e.task),
                OwnershipChange::Released => format!("{} releases {}", e.worker, e.task),
                OwnershipChange::Lost => format!("{} loses {} (session ended)", e.worker, e.task),
                OwnershipChange::TakenOver { from } => {
                    format!("{} takes {} over from {from}", e.worker, e.task)
                }
                OwnershipChange::Moved { from } => {
                    format!("{} receives {} from {from} (handoff)", e.worker, e.task)
                }
                OwnershipChange::Renewed => format!("{} renews {}", e.worker, e.task),
            };
            say(format!("{what:<48} token {}", e.token));
        }
    });

    // Start from a clean slate (a real server may keep an earlier run's tasks).
    for old in admin.tasks().await? {
        admin.remove_task(&old.task).await?;
    }
    for task in TASKS {
        admin
            .add_task(TaskSpec::new(task)?.payload(format!("work of {task}")))
            .await?;
    }
    say(format!("tasks {} added", TASKS.join(", ")));

    let ecas1 = backend.connect().await?;
    let ecas2 = backend.connect().await?;
    let w1 = start_worker(ecas1.store.clone(), "ECAS_1")?;
    let w2 = start_worker(ecas2.store.clone(), "ECAS_2")?;
    let r1 = w1.spawn();
    let r2 = w2.spawn();
    let spread = wait_for(&admin, |o| {
        count(o, "ECAS_1") == 2 && count(o, "ECAS_2") == 2
    })
    .await?;
    say(format!("balanced: {}", show(&spread)));

    say(format!(
        "the host of ECAS_1 dies (session timeout {:?})",
        ecas1.store.info().session_timeout
    ));
    let crash = Instant::now();
    w1.kill().await;
    ecas1.kill_host().await?;
    let after = wait_for(&admin, |o| count(o, "ECAS_2") == 4).await?;
    say(format!(
        "ECAS_2 runs everything {:.2}s after the crash: {}",
        crash.elapsed().as_secs_f64(),
        show(&after)
    ));
    let _ = r1.await;

    say("ECAS_1 comes back".into());
    let ecas1 = backend.connect().await?;
    let w1 = start_worker(ecas1.store.clone(), "ECAS_1")?;
    let r1 = w1.spawn();
    let back = wait_for(&admin, |o| {
        count(o, "ECAS_1") == 2 && count(o, "ECAS_2") == 2
    })
    .await?;
    say(format!("rebalanced by handoff: {}", show(&back)));

    say("shutting down gracefully".into());
    w1.shutdown().await;
    w2.shutdown().await;
    r1.await??;
    r2.await??;
    tokio::time::sleep(Duration::from_millis(100)).await;
    timeline.abort();
    for task in TASKS {
        admin.remove_task(&task.parse()?).await?;
    }
    admin_client.store.close().await?;
    say("done".into());
    Ok(())
}

fn start_worker(store: tenure::DynStore, id: &str) -> Result<Worker, Error> {
    Ok(Worker::builder(store, CLUSTER)
        .id(id)
        .handler(|ctx: TaskContext| async move {
            // A real handler would do the task's work here, passing
            // ctx.token() along with every write it makes elsewhere.
            ctx.cancelled().await;
            Ok(())
        })
        .build()?)
}

fn count(owners: &BTreeMap<String, String>, worker: &str) -> usize {
    owners.values().filter(|w| *w == worker).count()
}

fn show(owners: &BTreeMap<String, String>) -> String {
    owners
        .iter()
        .map(|(t, w)| format!("{t}→{w}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Polls the owners until `done` holds (at most 30 s).
async fn wait_for(
    admin: &Admin,
    done: impl Fn(&BTreeMap<String, String>) -> bool,
) -> Result<BTreeMap<String, String>, Error> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let owners: BTreeMap<String, String> = admin
            .owners()
            .await?
            .into_iter()
            .map(|(t, o)| (t.to_string(), o.worker.to_string()))
            .collect();
        if done(&owners) {
            return Ok(owners);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting; owners now: {}", show(&owners)).into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
