//! A strategy of your own: tasks named `<region>-…` prefer workers tagged
//! with that region, and run anywhere else only while no such worker is
//! live. It rewrites the input and lets `Sticky` do the balancing, so it
//! keeps Sticky's minimal movement within each region.
//!
//! ```sh
//! cargo run --example custom_strategy
//! ```
//!
//! Runs on the in-memory backend and checks its own result.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tenure::memory::{MemoryServer, MemoryStore};
use tenure::strategy::{Sticky, Strategy, StrategyInput, Target, TaskInfo};
use tenure::{Admin, DynStore, TaskContext, TaskSpec, Worker};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Prefers, for a task named `<region>-…`, the workers tagged `<region>`.
///
/// Deterministic and pure, as every strategy must be: the same input gives
/// the same target on whichever worker is the leader.
#[derive(Clone, Copy, Debug, Default)]
struct RegionAffinity;

impl RegionAffinity {
    fn region(task: &TaskInfo) -> Option<&str> {
        task.id.as_str().split_once('-').map(|(region, _)| region)
    }
}

impl Strategy for RegionAffinity {
    fn name(&self) -> &str {
        "region-affinity"
    }

    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        // A preference is a requirement while it can be met.
        let tasks: Vec<TaskInfo> = input
            .tasks
            .iter()
            .map(|task| {
                let mut preferred = task.clone();
                if let Some(region) = Self::region(task) {
                    preferred.tags.insert(region.to_owned());
                }
                if input.workers.iter().any(|w| preferred.eligible(w)) {
                    preferred
                } else {
                    task.clone()
                }
            })
            .collect();
        Sticky.assign(&StrategyInput {
            tasks: &tasks,
            ..*input
        })
    }
}

const CLUSTER: &str = "regions";
const TASKS: [&str; 6] = [
    "eu-billing",
    "eu-mail",
    "eu-search",
    "us-billing",
    "us-mail",
    "ap-billing",
];
const WORKERS: [(&str, Option<&str>); 4] = [
    ("eu-1", Some("eu")),
    ("eu-2", Some("eu")),
    ("us-1", Some("us")),
    ("spare-1", None),
];

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = MemoryServer::new();
    let session = Duration::from_secs(2);
    let admin = Admin::new(as_dyn(&server.connect(session).await?), CLUSTER).await?;
    for task in TASKS {
        admin.add_task(TaskSpec::new(task)?).await?;
    }

    let mut workers = BTreeMap::new();
    for (name, region) in WORKERS {
        let mut builder = Worker::builder(as_dyn(&server.connect(session).await?), CLUSTER)
            .id(name)
            .strategy(RegionAffinity)
            .handler(|ctx: TaskContext| async move {
                ctx.cancelled().await;
                Ok(())
            });
        if let Some(region) = region {
            builder = builder.tag(region);
        }
        let worker = builder.build()?;
        let run = worker.spawn();
        workers.insert(name, (worker, run));
    }

    // Until every worker has registered, a task may run outside its
    // region; it moves home as soon as a worker of its region is live.
    let placed = wait_for(&admin, |o| {
        o.len() == TASKS.len()
            && o.iter().all(|(task, worker)| match task.split_once('-') {
                Some(("eu", _)) => worker.starts_with("eu-"),
                Some(("us", _)) => worker == "us-1",
                _ => true, // no "ap" worker: anywhere
            })
    })
    .await?;
    println!("placement with every worker up:");
    show(&placed);

    println!("us-1 leaves: its tasks fall back to the other workers");
    if let Some((worker, run)) = workers.remove("us-1") {
        worker.shutdown().await;
        run.await??;
    }
    let fallback = wait_for(&admin, |o| {
        o.len() == TASKS.len() && o.values().all(|w| w != "us-1")
    })
    .await?;
    show(&fallback);
    for (task, worker) in &fallback {
        if task.starts_with("eu-") {
            assert_eq!(
                worker, &placed[task],
                "{task} moved although eu-1 and eu-2 stayed"
            );
        }
    }

    for (_, (worker, run)) in workers {
        worker.shutdown().await;
        run.await??;
    }
    println!("done");
    Ok(())
}

fn as_dyn(store: &MemoryStore) -> DynStore {
    std::sync::Arc::new(store.clone())
}

fn show(owners: &BTreeMap<String, String>) {
    for (task, worker) in owners {
        println!("  {task:<12} → {worker}");
    }
}

/// Polls the cluster's status until every task runs where the leader wants
/// it and `done` holds for the owners (at most 10 s).
async fn wait_for(
    admin: &Admin,
    done: impl Fn(&BTreeMap<String, String>) -> bool,
) -> Result<BTreeMap<String, String>, Error> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let tasks = admin.status().await?.tasks;
        let at_target = tasks.iter().all(|t| {
            t.target.is_some() && t.owner.as_ref().map(|o| &o.worker) == t.target.as_ref()
        });
        let owners: BTreeMap<String, String> = tasks
            .into_iter()
            .filter_map(|t| Some((t.task.to_string(), t.owner?.worker.to_string())))
            .collect();
        if at_target && done(&owners) {
            return Ok(owners);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out; owners now: {owners:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
