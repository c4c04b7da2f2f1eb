//! The admin API driving real workers on the memory backend under paused
//! tokio time: pause, resume, remove and update reach the runner; bad input
//! is refused with a typed error naming the problem and changes nothing;
//! a claim under an ended session fails.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::internals::claim::{self, ClaimError};
use tenure_core::{CoordinationStore, Error, Layout, SessionId, TaskSpec, WorkerId};
use tenure_memory::{MemoryConfig, MemoryServer};
use tenure_tests::runtime::{Cluster, SESSION, snapshot, task, task_name};

const TASKS: usize = 2;
/// A bound for the leader round and the claim or stop after a change.
const BOUND: Duration = Duration::from_millis(200);

async fn one_worker() -> Cluster {
    let mut c = Cluster::new().await;
    c.add_tasks(TASKS).await;
    c.join("W1").await;
    c.wait_all_running(TASKS, SESSION).await;
    c
}

#[tokio::test(start_paused = true)]
async fn pause_stops_the_runner_and_resume_starts_it_again_with_a_new_token() {
    let c = one_worker().await;
    let (_, old) = c.running()[&task(0)].clone();
    c.admin.pause_task(&task(0)).await.unwrap();
    c.wait_until("T0 stopped", BOUND, |c| !c.running().contains_key(&task(0)))
        .await;
    tokio::time::sleep(SESSION * 2).await;
    assert!(!c.running().contains_key(&task(0)), "paused stays stopped");
    assert!(c.running().contains_key(&task(1)), "the other task runs on");
    assert!(
        !c.admin.owners().await.unwrap().contains_key(&task(0)),
        "released"
    );

    c.admin.resume_task(&task(0)).await.unwrap();
    c.wait_until("T0 runs again", BOUND, |c| {
        c.running().contains_key(&task(0))
    })
    .await;
    assert!(c.running()[&task(0)].1 > old);
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn remove_stops_the_runner_deletes_the_task_and_keeps_its_token_counter() {
    let c = one_worker().await;
    let (_, old) = c.running()[&task(0)].clone();
    c.admin.remove_task(&task(0)).await.unwrap();
    c.wait_until("T0 stopped", BOUND, |c| !c.running().contains_key(&task(0)))
        .await;
    let store = c.admin.store();
    let layout = c.admin.layout();
    assert!(store.get(&layout.task(&task(0))).await.unwrap().is_none());
    tokio::time::sleep(BOUND).await;
    assert!(store.get(&layout.owner(&task(0))).await.unwrap().is_none());
    assert!(
        c.admin
            .tasks()
            .await
            .unwrap()
            .iter()
            .all(|t| t.task != task(0))
    );

    // Added again, it never reuses a token.
    c.admin
        .add_task(TaskSpec::new(task_name(0)).unwrap())
        .await
        .unwrap();
    c.wait_until("T0 runs again", BOUND, |c| {
        c.running().contains_key(&task(0))
    })
    .await;
    assert!(c.running()[&task(0)].1 > old);
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn update_restarts_the_handler_with_the_new_payload_and_a_new_token() {
    let c = one_worker().await;
    let before = c.running();
    let old = before[&task(0)].1;
    assert_eq!(c.payload(&task(0), old).unwrap(), b"");
    let spec = TaskSpec::new(task_name(0)).unwrap().payload("v2");
    c.admin.update_task(spec).await.unwrap();
    c.wait_until("T0 restarted", BOUND, |c| {
        c.running().get(&task(0)).is_some_and(|(_, t)| *t > old)
    })
    .await;
    let new = c.running()[&task(0)].1;
    assert_eq!(c.payload(&task(0), new).unwrap(), b"v2");
    assert_eq!(c.running()[&task(1)], before[&task(1)], "T1 untouched");
    c.stop().await;
}

/// An edit changes only what it changes: the payload, the pause state and
/// the other fields stay; an edit that fails or renames writes nothing.
#[tokio::test(start_paused = true)]
async fn edit_changes_only_the_fields_it_sets_and_a_failed_edit_writes_nothing() {
    let c = Cluster::new().await;
    let spec = TaskSpec::new("E")
        .unwrap()
        .payload("keep me")
        .weight(3)
        .unwrap()
        .tag("gpu")
        .unwrap();
    c.admin.add_task(spec).await.unwrap();
    let id = tenure_core::TaskId::new("E").unwrap();
    c.admin.pause_task(&id).await.unwrap();
    c.admin.edit_task(&id, |spec| spec.weight(5)).await.unwrap();
    let store = c.admin.store().clone();
    let node = store
        .get(&c.admin.layout().task(&id))
        .await
        .unwrap()
        .unwrap();
    let record: tenure_core::internals::records::TaskRecord =
        serde_json::from_slice(&node.data).unwrap();
    assert_eq!(record.weight.get(), 5);
    assert_eq!(record.payload_bytes().unwrap(), b"keep me");
    assert!(record.tags.contains("gpu") && record.paused, "{record:?}");

    let before = snapshot(&*store, &c.root).await;
    let err = c
        .admin
        .edit_task(&id, |spec| spec.weight(0))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    let err = c
        .admin
        .edit_task(&id, |_| TaskSpec::new("OTHER"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot rename"), "{err}");
    let nope = tenure_core::TaskId::new("NOPE").unwrap();
    let err = c.admin.edit_task(&nope, Ok).await.unwrap_err();
    assert!(matches!(err, Error::UnknownTask { .. }), "{err:?}");
    assert_eq!(snapshot(&*store, &c.root).await, before, "nothing written");
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn bad_input_is_refused_with_a_typed_error_naming_it_and_changes_nothing() {
    let server = MemoryServer::with_config(MemoryConfig {
        max_payload: 4096,
        ..MemoryConfig::default()
    });
    let c = Cluster::on_server(server).await;
    c.add_tasks(1).await;
    let store = c.admin.store().clone();
    let before = snapshot(&*store, &c.root).await;

    for name in ["", "a/b", "..", "x\u{0}y"] {
        let err = TaskSpec::new(name).unwrap_err();
        assert!(
            matches!(err, Error::InvalidName { .. }),
            "{name:?}: {err:?}"
        );
    }
    assert!(matches!(
        TaskSpec::new("T9").unwrap().weight(0),
        Err(Error::InvalidInput(_))
    ));
    let err = c
        .admin
        .add_task(TaskSpec::new("T0").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists { path } if path.name() == Some("T0")),
        "{err:?}"
    );
    let big = TaskSpec::new("BIG").unwrap().payload(vec![b'x'; 5000]);
    let err = c.admin.add_task(big.clone()).await.unwrap_err();
    match &err {
        Error::PayloadTooLarge { size, limit } => {
            assert_eq!(*size, 5000);
            assert!(*limit < 4096, "{limit}");
            assert!(err.to_string().contains(&limit.to_string()), "{err}");
        }
        other => panic!("{other:?}"),
    }
    let big_update = TaskSpec::new("T0").unwrap().payload(vec![b'x'; 5000]);
    let err = c.admin.update_task(big_update).await.unwrap_err();
    assert!(
        matches!(err, Error::PayloadTooLarge { size: 5000, .. }),
        "{err:?}"
    );
    let nope = tenure_core::TaskId::new("NOPE").unwrap();
    let unknown = [
        c.admin.update_task(TaskSpec::new("NOPE").unwrap()).await,
        c.admin.pause_task(&nope).await,
        c.admin.resume_task(&nope).await,
        c.admin.remove_task(&nope).await,
    ];
    for r in unknown {
        let err = r.unwrap_err();
        assert!(
            matches!(&err, Error::UnknownTask { task } if task == "NOPE"),
            "{err:?}"
        );
        assert!(err.to_string().contains("NOPE"), "{err}");
    }
    let worker = tenure_core::Worker::builder(store.clone(), "rt")
        .id("")
        .handler(|_ctx: tenure_core::TaskContext| async { Ok(()) })
        .build();
    assert!(matches!(worker, Err(Error::InvalidName { .. })));

    assert_eq!(
        snapshot(&*store, &c.root).await,
        before,
        "nothing stored changed"
    );
    c.stop().await;
}

/// Helix #642: a claim issued under a session that has since ended must
/// not create an ownership record (it would outlive its session).
#[tokio::test(start_paused = true)]
async fn claim_under_an_expired_session_fails_and_leaves_no_record() {
    let c = Cluster::new().await;
    c.add_tasks(1).await;
    let store = c.server.connect(SESSION).await.unwrap();
    let old: SessionId = store.session_state().session().unwrap();
    store.expire_session();
    assert_ne!(store.session_state().session(), Some(old), "renewed");
    let layout = Layout::at(c.root.clone()).unwrap();
    let worker = WorkerId::new("W1").unwrap();
    let before = snapshot(&store, &c.root).await;
    let r = claim::claim(&store, &layout, &task(0), &worker, old).await;
    assert!(
        matches!(r, Err(ClaimError::Store(Error::SessionExpired { session })) if session == old.0),
        "{r:?}"
    );
    assert_eq!(
        snapshot(&store, &c.root).await,
        before,
        "no record, no token used"
    );
    // The same claim under the live session works and takes token 1.
    let live = store.session_state().session().unwrap();
    let ok = claim::claim(&store, &layout, &task(0), &worker, live).await;
    assert_eq!(ok.unwrap().claim.token, 1);
    c.stop().await;
}

/// `Admin::existing` on a cluster that does not exist is a typed error
/// naming its path and writes nothing; once `Admin::new` made the cluster,
/// it opens it.
#[tokio::test(start_paused = true)]
async fn existing_admin_of_a_missing_cluster_writes_nothing() {
    let server = MemoryServer::new();
    let store: tenure_core::DynStore = std::sync::Arc::new(server.connect(SESSION).await.unwrap());
    let root = tenure_core::Path::root();
    let before = snapshot(&*store, &root).await;
    let err = tenure_core::Admin::existing(store.clone(), "typo")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownCluster { path } if path == "/tenure/typo"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("no cluster at /tenure/typo"),
        "{err}"
    );
    assert_eq!(snapshot(&*store, &root).await, before, "nothing written");

    let made = tenure_core::Admin::new(store.clone(), "typo")
        .await
        .unwrap();
    made.add_task(TaskSpec::new("T0").unwrap()).await.unwrap();
    let found = tenure_core::Admin::existing(store.clone(), "typo")
        .await
        .unwrap();
    assert_eq!(found.tasks().await.unwrap().len(), 1);
}

/// Binary payloads are stored as base64: the limit a refusal names is the
/// real one for them (it once came out as 0 for a payload over three times
/// the backend's limit), and a payload of that size fits.
#[tokio::test(start_paused = true)]
async fn a_payload_over_the_limit_is_refused_naming_the_real_limit() {
    let server = MemoryServer::with_config(MemoryConfig {
        max_payload: 4096,
        ..MemoryConfig::default()
    });
    let c = Cluster::on_server(server).await;
    let binary = TaskSpec::new("BIN").unwrap().payload(vec![0xff; 20_000]);
    let err = c.admin.add_task(binary).await.unwrap_err();
    let Error::PayloadTooLarge {
        size: 20_000,
        limit,
    } = err
    else {
        panic!("{err:?}")
    };
    assert!((2900..3072).contains(&limit), "{limit}");
    let fits = TaskSpec::new("BIN").unwrap().payload(vec![0xff; limit]);
    c.admin.add_task(fits).await.unwrap();
    let text = TaskSpec::new("TXT").unwrap().payload(vec![b'x'; 20_000]);
    let err = c.admin.add_task(text).await.unwrap_err();
    let Error::PayloadTooLarge { limit, .. } = err else {
        panic!("{err:?}")
    };
    assert!((3900..4096).contains(&limit), "{limit}");
    let fits = TaskSpec::new("TXT").unwrap().payload(vec![b'x'; limit]);
    c.admin.add_task(fits).await.unwrap();
}
