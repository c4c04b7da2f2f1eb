//! Fuzzing what users hand to tenure: names (task, worker, cluster, path
//! segments) near every rule and limit, paths, payloads at and around the
//! backend's limit (through the store and through the admin), and the
//! `TaskSpec` builders. Nothing panics; each input is taken exactly when
//! the documented rules allow it, otherwise refused with a typed error
//! naming the problem; and a refused input changes nothing stored (the
//! memory server's whole tree is compared before and after).
//!
//! Each property runs proptest's default number of cases (256, a few
//! seconds for the whole file in a debug build); for a longer run set
//! `PROPTEST_CASES`, e.g.
//! `PROPTEST_CASES=20000 cargo nextest run -p tenure-tests --test fuzz_inputs`.
//! A failure prints the shrunk input and saves its seed beside this file
//! (`fuzz_inputs.proptest-regressions`), replayed first on the next run.

#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use tenure_core::internals::records::{Record, TaskRecord};
use tenure_core::store::MAX_PATH_LEN;
use tenure_core::{
    Admin, CoordinationStore, CreateMode, Error, Layout, Name, Op, Path, StoreExt, TaskId,
    TaskSpec, WorkerId,
};
use tenure_memory::{MemoryConfig, MemoryServer, MemoryStore};
use tenure_tests::fuzz::{self, obeys_the_name_rules};
use tenure_tests::runtime::snapshot;

/// The memory server's payload limit in these tests.
const LIMIT: usize = 4096;
const SESSION: Duration = Duration::from_secs(10);

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

async fn server_and_store() -> (MemoryServer, MemoryStore) {
    let server = MemoryServer::with_config(MemoryConfig {
        max_payload: LIMIT,
        ..MemoryConfig::default()
    });
    let store = server.connect(SESSION).await.unwrap();
    (server, store)
}

async fn everything(store: &MemoryStore) -> Vec<(String, Vec<u8>, u64)> {
    snapshot(store, &Path::root()).await
}

/// A payload of `size` bytes: plain, needing JSON escapes, or not UTF-8.
fn payload(size: usize, kind: u8, seed: u8) -> Vec<u8> {
    match kind % 3 {
        0 => vec![b'x'; size],
        1 => (0..size)
            .map(|i| b"a\"\\\n"[(i + seed as usize) % 4])
            .collect(),
        _ => (0..size)
            .map(|i| (i as u8).wrapping_mul(seed | 1) | 0x80)
            .collect(),
    }
}

proptest! {
    #[test]
    fn names_are_taken_exactly_by_the_rules(name in fuzz::name()) {
        let valid = obeys_the_name_rules(&name);
        match Name::new(&name) {
            Ok(n) => {
                prop_assert!(valid, "{name:?} taken");
                prop_assert_eq!(n.as_str(), name.as_str());
            }
            Err(Error::InvalidName { name: shown, reason }) => {
                prop_assert!(!valid, "{name:?} refused: {reason}");
                prop_assert_eq!(shown, name.chars().take(64).collect::<String>());
                prop_assert!(!reason.is_empty());
            }
            Err(other) => prop_assert!(false, "{other:?}"),
        }
        for (what, result) in [
            ("task name", TaskId::new(&name).map(|t| t.to_string())),
            ("worker name", WorkerId::new(&name).map(|w| w.to_string())),
        ] {
            match result {
                Ok(id) => prop_assert!(valid && id == name),
                Err(Error::InvalidName { reason, .. }) => {
                    prop_assert!(!valid);
                    prop_assert!(reason.starts_with(what), "{reason}");
                }
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
        let json = serde_json::Value::String(name.clone());
        prop_assert_eq!(serde_json::from_value::<TaskId>(json).is_ok(), valid);
    }

    #[test]
    fn paths_parse_exactly_the_valid_ones(
        segments in vec(fuzz::name(), 0..4),
        repeat in 1usize..20,
        raw in any::<String>(),
    ) {
        let segments: Vec<String> = segments
            .iter()
            .cycle()
            .take(segments.len() * repeat)
            .cloned()
            .collect();
        let text = format!("/{}", segments.join("/"));
        // A `/` inside a segment makes two segments of the path.
        let valid = text == "/"
            || (text.len() <= MAX_PATH_LEN && text[1..].split('/').all(obeys_the_name_rules));
        match Path::new(&text) {
            Ok(path) => {
                prop_assert!(valid, "{text:?} taken");
                prop_assert_eq!(path.as_str(), text.as_str());
                if let (Some(parent), Some(name)) = (path.parent(), path.name()) {
                    prop_assert_eq!(parent.child(name).unwrap(), path);
                }
            }
            Err(Error::InvalidPath { .. } | Error::InvalidName { .. }) => prop_assert!(!valid),
            Err(other) => prop_assert!(false, "{other:?}"),
        }
        if let Ok(path) = Path::new(&raw) {
            prop_assert_eq!(Path::new(path.as_str()).unwrap(), path);
        }
    }

    #[test]
    fn cluster_layouts_leave_room_for_every_name_or_are_refused_before_writing(
        cluster in fuzz::name(),
        depth in 0usize..20,
        name in "[a-z]{255}",
    ) {
        let name = TaskId::new(&name).unwrap();
        let worker = WorkerId::new(name.as_str()).unwrap();
        // Roots of every length up to past the limit.
        let root = format!("/{}", vec!["r".repeat(200); depth].join("/"));
        if let Ok(layout) = Path::new(&root).and_then(Layout::at) {
            for path in [
                layout.task(&name),
                layout.owner(&name),
                layout.epoch(&name),
                layout.worker(&worker),
                layout.target(&worker),
            ] {
                prop_assert!(path.as_str().len() <= MAX_PATH_LEN);
            }
        }
        block_on(async {
            let (_server, store) = server_and_store().await;
            let before = everything(&store).await;
            let made = Admin::new(Arc::new(store.clone()), &cluster).await;
            match made {
                Ok(_) => prop_assert!(obeys_the_name_rules(&cluster)),
                Err(Error::InvalidName { .. }) => {
                    prop_assert!(!obeys_the_name_rules(&cluster));
                    prop_assert_eq!(everything(&store).await, before);
                }
                Err(other) => prop_assert!(false, "{other:?}"),
            }
            Ok(())
        })?;
    }

    #[test]
    fn store_payloads_are_taken_exactly_up_to_the_limit(
        delta in -3i64..=3,
        far in proptest::option::of(0usize..3 * LIMIT),
        op in 0u8..3,
        kind in any::<u8>(),
    ) {
        let size = far.unwrap_or((LIMIT as i64 + delta) as usize);
        let data = payload(size, kind, 7);
        block_on(async {
            let (_server, store) = server_and_store().await;
            let dir = Path::new("/fuzz").unwrap();
            store.create_all(&dir).await.unwrap();
            let old = dir.child("old").unwrap();
            let new = dir.child("new").unwrap();
            store.create(&old, b"x", CreateMode::Persistent).await.unwrap();
            let before = everything(&store).await;
            let (written, result) = match op {
                0 => (&new, store.create(&new, &data, CreateMode::Persistent).await.map(drop)),
                1 => (&old, store.set(&old, &data, None).await.map(drop)),
                _ => {
                    let ops = [
                        Op::Create { path: new.clone(), data: b"small".to_vec(), mode: CreateMode::Persistent },
                        Op::Set { path: old.clone(), data: data.clone(), version: None },
                    ];
                    (&old, store.multi(&ops).await.map(drop))
                }
            };
            match result {
                Ok(()) => {
                    prop_assert!(size <= LIMIT, "{size} bytes taken");
                    prop_assert_eq!(store.get(written).await.unwrap().unwrap().data, data);
                }
                Err(Error::PayloadTooLarge { size: s, limit }) => {
                    prop_assert!(size > LIMIT);
                    prop_assert_eq!((s, limit), (size, LIMIT));
                    prop_assert_eq!(everything(&store).await, before);
                }
                Err(other) => prop_assert!(false, "{other:?}"),
            }
            Ok(())
        })?;
    }

    #[test]
    fn admin_payloads_are_taken_up_to_the_limit_and_refusals_change_nothing(
        size in (LIMIT - 160)..(LIMIT + 40),
        kind in any::<u8>(),
        seed in any::<u8>(),
        update in any::<bool>(),
    ) {
        let data = payload(size, kind, seed);
        block_on(async {
            let (_server, store) = server_and_store().await;
            let admin = Admin::new(Arc::new(store.clone()), "fuzz").await.unwrap();
            admin.add_task(TaskSpec::new("T0").unwrap().payload("old")).await.unwrap();
            let before = everything(&store).await;
            let id = if update { "T0" } else { "T1" };
            let spec = TaskSpec::new(id).unwrap().payload(data.clone());
            let result = if update {
                admin.update_task(spec).await
            } else {
                admin.add_task(spec).await
            };
            let path = admin.layout().task(&TaskId::new(id).unwrap());
            match result {
                Ok(()) => {
                    let node = store.get(&path).await.unwrap().unwrap();
                    prop_assert!(node.data.len() <= LIMIT);
                    let stored = TaskRecord::decode(&path, &node.data).unwrap();
                    prop_assert_eq!(stored.payload_bytes().unwrap(), data);
                }
                Err(Error::PayloadTooLarge { size: s, limit }) => {
                    prop_assert_eq!(s, size);
                    prop_assert!(limit < LIMIT);
                    prop_assert_eq!(everything(&store).await, before);
                    // The limit named is one a plain payload can reach.
                    let plain = TaskSpec::new("T2").unwrap().payload(vec![b'x'; limit]);
                    prop_assert!(admin.add_task(plain).await.is_ok());
                }
                Err(other) => prop_assert!(false, "{other:?}"),
            }
            Ok(())
        })?;
    }

    #[test]
    fn task_specs_take_exactly_what_their_builders_document(
        name in fuzz::name(),
        weight in prop_oneof![Just(0u32), Just(1), any::<u32>()],
        tags in vec(prop_oneof![fuzz::name(), Just(String::new()), "[a-z]{0,3}[\t\n\u{85}][a-z]{0,3}"], 0..3),
        pinned in proptest::option::of(fuzz::name()),
    ) {
        let spec = match TaskSpec::new(&name) {
            Ok(spec) => spec,
            Err(Error::InvalidName { .. }) => {
                prop_assert!(!obeys_the_name_rules(&name));
                return Ok(());
            }
            Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        let mut spec = match spec.weight(weight) {
            Ok(spec) => spec,
            Err(Error::InvalidInput(reason)) => {
                prop_assert_eq!(weight, 0);
                prop_assert!(reason.contains("weight"));
                return Ok(());
            }
            Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        for tag in &tags {
            let fine = !tag.is_empty() && !tag.chars().any(char::is_control);
            match spec.clone().tag(tag.clone()) {
                Ok(next) => {
                    prop_assert!(fine, "{tag:?} taken");
                    spec = next;
                }
                Err(Error::InvalidInput(reason)) => prop_assert!(!fine && reason.contains("tag")),
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
        if let Some(worker) = &pinned {
            match spec.clone().pinned(worker) {
                Ok(next) => spec = next,
                Err(Error::InvalidName { reason, .. }) => {
                    prop_assert!(!obeys_the_name_rules(worker) && reason.starts_with("worker name"));
                }
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
        // What the builders took, the admin stores and reads back as given.
        block_on(async {
            let (_server, store) = server_and_store().await;
            let admin = Admin::new(Arc::new(store.clone()), "fuzz").await.unwrap();
            admin.add_task(spec.clone()).await.unwrap();
            let path = admin.layout().task(&spec.id);
            let node = store.get(&path).await.unwrap().unwrap();
            let stored = TaskRecord::decode(&path, &node.data).unwrap();
            prop_assert_eq!((stored.weight, &stored.tags, &stored.pinned), (spec.weight, &spec.tags, &spec.pinned));
            // Adding it again, or changing a task that does not exist, is
            // refused and changes nothing.
            let before = everything(&store).await;
            let again = admin.add_task(spec.clone()).await;
            prop_assert!(matches!(again, Err(Error::AlreadyExists { .. })), "{again:?}");
            let ghost = TaskId::new(format!("{}-gone", &spec.id.as_str()[..spec.id.as_str().len().min(200)])).unwrap();
            for refused in [
                admin.pause_task(&ghost).await,
                admin.remove_task(&ghost).await,
                admin.update_task(TaskSpec { id: ghost.clone(), ..spec.clone() }).await,
            ] {
                prop_assert!(matches!(&refused, Err(Error::UnknownTask { task }) if *task == ghost.to_string()), "{refused:?}");
            }
            prop_assert_eq!(everything(&store).await, before);
            Ok(())
        })?;
    }
}
