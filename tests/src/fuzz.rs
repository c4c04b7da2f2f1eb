//! Generators for the fuzz tests (`tests/fuzz_*.rs`): arbitrary JSON
//! leaning towards the shapes and field names of tenure's records, names
//! near the rules and limits of [`Name`](tenure_core::Name), and valid records to round-trip.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;

use proptest::collection::{btree_map, btree_set, vec};
use proptest::prelude::*;
use serde_json::Value;
use tenure_core::internals::records::{
    ChangeLog, LeaderRecord, OpenRecord, OpenTask, OwnerRecord, Revision, TargetRecord, TaskRecord,
    WorkerRecord,
};
use tenure_core::store::MAX_NAME_LEN;
use tenure_core::{TaskId, WorkerId};

/// Every field name of the records, so that generated objects often look
/// like one.
pub const FIELDS: &[&str] = &[
    "payload",
    "payload_base64",
    "paused",
    "weight",
    "tags",
    "pinned",
    "session",
    "capacity",
    "since_ms",
    "worker",
    "token",
    "term",
    "tasks",
    "seen_ms",
    "seen_session",
    "changes",
    "recent",
    "revision",
];

/// A JSON number of any kind: small, huge, negative, fractional.
pub fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u64..100).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
    ]
}

/// A JSON text value: names that are valid, names that are not, anything.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{1,12}",
        any::<String>(),
        Just(String::new()),
        Just("..".to_owned()),
        Just("a/b".to_owned()),
        Just("=!=".to_owned()),
    ]
}

/// Arbitrary JSON, nested a few levels, with record field names as keys
/// more often than not.
pub fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            3 => proptest::sample::select(FIELDS).prop_map(str::to_owned),
            1 => text(),
        ];
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(key, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `value` with one field of its top-level object replaced by `with`, or
/// removed when `with` is `None`: a record one mistake away from valid.
pub fn mutated(mut value: Value, field: usize, with: Option<Value>) -> Value {
    if let Value::Object(map) = &mut value
        && !map.is_empty()
    {
        let key = map
            .keys()
            .nth(field % map.len())
            .cloned()
            .unwrap_or_default();
        match with {
            Some(v) => {
                map.insert(key, v);
            }
            None => {
                map.remove(&key);
            }
        }
    }
    value
}

/// A name as users might type it: valid ones, ones breaking each rule,
/// ones at and around [`MAX_NAME_LEN`] bytes (in one-byte and multi-byte
/// characters).
pub fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_.-]{1,16}",
        any::<String>(),
        "[a-z]{250,260}",
        "[é]{126,129}",
        "[\u{10000}-\u{10010}]{62,65}",
        "[a-z]{0,4}[/\u{0}\u{1f}\u{7f}\u{9f}\u{e000}\u{f8ff}\u{fff0}\u{ffff}][a-z]{0,4}",
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just("...".to_owned()),
    ]
}

/// Whether `name` is a valid name, by the rules as documented on
/// [`Name`](tenure_core::Name), written independently of its code.
pub fn obeys_the_name_rules(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name != "."
        && name != ".."
        && !name.chars().any(|c| {
            c == '/'
                || matches!(c as u32, 0..=0x1F | 0x7F..=0x9F | 0xE000..=0xF8FF | 0xFFF0..=0xFFFF)
        })
}

fn task_id() -> impl Strategy<Value = TaskId> {
    "[A-Za-z0-9_-]{1,12}".prop_map(|n| TaskId::new(n).unwrap())
}

fn worker_id() -> impl Strategy<Value = WorkerId> {
    "[A-Za-z0-9_-]{1,12}".prop_map(|n| WorkerId::new(n).unwrap())
}

fn tags() -> impl Strategy<Value = BTreeSet<String>> {
    btree_set("[a-z=:é]{1,8}", 0..3)
}

fn revision() -> impl Strategy<Value = Revision> {
    (any::<u64>(), any::<u64>()).prop_map(Revision::from)
}

/// A valid task record (text or binary payload).
pub fn task_record() -> impl Strategy<Value = TaskRecord> {
    (
        vec(any::<u8>(), 0..64),
        any::<bool>(),
        1u32..,
        tags(),
        proptest::option::of(worker_id()),
    )
        .prop_map(|(payload, paused, weight, tags, pinned)| {
            let mut record = TaskRecord {
                done: false,
                payload: None,
                payload_base64: None,
                paused,
                weight: NonZeroU32::new(weight).expect("drawn from 1.."),
                tags,
                pinned,
            };
            record.set_payload(&payload);
            record
        })
}

/// A valid registration.
pub fn worker_record() -> impl Strategy<Value = WorkerRecord> {
    (any::<u64>(), 1u32.., tags(), any::<u64>()).prop_map(|(session, capacity, tags, since_ms)| {
        WorkerRecord {
            session,
            capacity: NonZeroU32::new(capacity).expect("drawn from 1.."),
            tags,
            since_ms,
        }
    })
}

/// A valid ownership record.
pub fn owner_record() -> impl Strategy<Value = OwnerRecord> {
    (worker_id(), any::<u64>(), any::<u64>(), any::<u64>()).prop_map(
        |(worker, token, session, since_ms)| OwnerRecord {
            worker,
            token,
            session,
            since_ms,
        },
    )
}

/// A valid target.
pub fn target_record() -> impl Strategy<Value = TargetRecord> {
    (
        any::<u64>(),
        btree_map(task_id(), revision(), 0..6),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        btree_map(worker_id(), btree_map(task_id(), revision(), 1..4), 0..3),
    )
        .prop_map(
            |(term, tasks, seen_ms, seen_session, standby)| TargetRecord {
                term,
                tasks,
                seen_ms,
                seen_session,
                standby,
            },
        )
}

/// A valid change log.
pub fn change_log() -> impl Strategy<Value = ChangeLog> {
    (any::<u64>(), vec(task_id(), 0..8)).prop_map(|(changes, recent)| ChangeLog { changes, recent })
}

/// A valid open list.
pub fn open_record() -> impl Strategy<Value = OpenRecord> {
    let open = (revision(), tags(), proptest::option::of(worker_id())).prop_map(
        |(revision, tags, pinned)| OpenTask {
            revision,
            tags,
            pinned,
        },
    );
    (any::<u64>(), btree_map(task_id(), open, 0..4))
        .prop_map(|(term, tasks): (u64, BTreeMap<TaskId, OpenTask>)| OpenRecord { term, tasks })
}

/// A valid leader record.
pub fn leader_record() -> impl Strategy<Value = LeaderRecord> {
    (worker_id(), any::<u64>(), any::<u64>()).prop_map(|(worker, session, term)| LeaderRecord {
        worker,
        session,
        term,
    })
}
