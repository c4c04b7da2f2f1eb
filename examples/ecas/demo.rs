//! The ECAS story itself, on whichever [`Backend`] it is given: four
//! tasks, two workers, a balanced start, the crash of ECAS_1's host, the
//! takeover by ECAS_2, ECAS_1's return and the graceful handback.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tenure::{Admin, DynStore, OwnershipChange, TaskContext, TaskSpec, Worker};
use tokio::sync::watch;

use crate::backend::{Backend, Error};

/// The tasks of the story.
pub const TASKS: [&str; 4] = ["TASK_1", "TASK_2", "TASK_3", "TASK_4"];

/// Task → worker.
type Owners = BTreeMap<String, String>;

/// How long the timeline may lag behind the store before a summary line.
const TIMELINE_LAG: Duration = Duration::from_secs(2);

/// Where the demo's lines go (standard output in the example).
pub type Say = Arc<dyn Fn(String) + Send + Sync>;

/// What the run measured.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    /// The session timeout the server granted.
    pub session_timeout: Duration,
    /// From the crash of ECAS_1's host until ECAS_2 owned every task.
    pub takeover: Duration,
    /// From ECAS_1's return until the tasks were balanced again.
    pub handback: Duration,
}

/// Runs the story on `backend` in cluster `cluster`, telling it through
/// `say`; every line starts with the seconds since the start.
///
/// # Errors
/// Store errors, or a step that did not happen within 30 s.
pub async fn run(backend: &Backend, cluster: &str, say: Say) -> Result<Report, Error> {
    let started = Instant::now();
    let say = move |line: String| {
        say(format!(
            "[{:>6.2}s] {line}",
            started.elapsed().as_secs_f64()
        ))
    };

    let admin_client = backend.connect().await?;
    let admin = Admin::new(admin_client.store.clone(), cluster).await?;
    let mut events = Box::pin(admin.ownership_events());
    // Who owns what as the timeline has told it, so that every summary
    // line comes after the events that led to it.
    let (told, mut shown) = watch::channel(Owners::new());
    let timeline_say = say.clone();
    let timeline = tokio::spawn(async move {
        while let Some(e) = events.next().await {
            let (task, worker) = (e.task.to_string(), e.worker.to_string());
            let what = match &e.change {
                OwnershipChange::Claimed => format!("{worker} claims {task}"),
                OwnershipChange::Released => format!("{worker} releases {task}"),
                OwnershipChange::Lost => format!("{worker} loses {task} (session ended)"),
                OwnershipChange::TakenOver { from } => {
                    format!("{worker} takes {task} over from {from}")
                }
                OwnershipChange::Moved { from } => {
                    format!("{worker} receives {task} from {from} (handoff)")
                }
                OwnershipChange::Renewed => format!("{worker} renews {task}"),
            };
            timeline_say(format!("{what:<48} token {}", e.token));
            told.send_modify(|owners| match e.change {
                OwnershipChange::Released | OwnershipChange::Lost => {
                    if owners.get(&task) == Some(&worker) {
                        owners.remove(&task);
                    }
                }
                _ => {
                    owners.insert(task, worker);
                }
            });
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
    let w1 = start_worker(ecas1.store.clone(), cluster, "ECAS_1")?;
    let w2 = start_worker(ecas2.store.clone(), cluster, "ECAS_2")?;
    let r1 = w1.spawn();
    let r2 = w2.spawn();
    let (spread, _) = wait_for(&admin, &mut shown, |o| {
        count(o, "ECAS_1") == 2 && count(o, "ECAS_2") == 2
    })
    .await?;
    say(format!("balanced: {}", show(&spread)));

    let session_timeout = ecas1.store.info().session_timeout;
    say(format!(
        "the host of ECAS_1 dies (session timeout {session_timeout:?})"
    ));
    let crash = Instant::now();
    w1.kill().await;
    ecas1.kill_host();
    let (after, seen) = wait_for(&admin, &mut shown, |o| count(o, "ECAS_2") == 4).await?;
    let takeover = seen - crash;
    say(format!(
        "ECAS_2 runs everything {:.2}s after the crash: {}",
        takeover.as_secs_f64(),
        show(&after)
    ));
    let _ = r1.await;
    // The dead client is gone for good: its session already ended.
    drop(w1);
    drop(ecas1);

    say("ECAS_1 comes back".into());
    let back_at = Instant::now();
    let ecas1 = backend.connect().await?;
    let w1 = start_worker(ecas1.store.clone(), cluster, "ECAS_1")?;
    let r1 = w1.spawn();
    let (back, seen) = wait_for(&admin, &mut shown, |o| {
        count(o, "ECAS_1") == 2 && count(o, "ECAS_2") == 2
    })
    .await?;
    let handback = seen - back_at;
    say(format!(
        "rebalanced by handoff {:.2}s after ECAS_1 came back: {}",
        handback.as_secs_f64(),
        show(&back)
    ));

    say("shutting down gracefully".into());
    tokio::join!(w1.shutdown(), w2.shutdown());
    r1.await??;
    r2.await??;
    tokio::time::sleep(Duration::from_millis(100)).await;
    timeline.abort();
    for task in TASKS {
        admin.remove_task(&task.parse()?).await?;
    }
    for client in [&ecas1, &ecas2, &admin_client] {
        client.store.close().await?;
    }
    say("done".into());
    Ok(Report {
        session_timeout,
        takeover,
        handback,
    })
}

fn start_worker(store: DynStore, cluster: &str, id: &str) -> Result<Worker, Error> {
    Ok(Worker::builder(store, cluster)
        .id(id)
        .handler(|ctx: TaskContext| async move {
            // A real handler would do the task's work here, passing
            // ctx.token() along with every write it makes elsewhere.
            ctx.cancelled().await;
            Ok(())
        })
        .build()?)
}

fn count(owners: &Owners, worker: &str) -> usize {
    owners.values().filter(|w| *w == worker).count()
}

fn show(owners: &Owners) -> String {
    owners
        .iter()
        .map(|(t, w)| format!("{t}→{w}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Polls the owners until `done` holds (at most 30 s), then gives the
/// timeline a moment to tell the same; returns the owners and when they
/// were seen.
async fn wait_for(
    admin: &Admin,
    shown: &mut watch::Receiver<Owners>,
    done: impl Fn(&Owners) -> bool,
) -> Result<(Owners, Instant), Error> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let owners: Owners = admin
            .owners()
            .await?
            .into_iter()
            .map(|(t, o)| (t.to_string(), o.worker.to_string()))
            .collect();
        if done(&owners) {
            let seen = Instant::now();
            let _ = tokio::time::timeout(TIMELINE_LAG, shown.wait_for(|t| *t == owners)).await;
            return Ok((owners, seen));
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting; owners now: {}", show(&owners)).into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
