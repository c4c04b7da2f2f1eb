use std::collections::BTreeMap;

use tenure_core::{CreateMode, Error, Op, Path, SessionId, Version};

use super::*;

fn p(s: &str) -> Path {
    Path::new(s).unwrap()
}

fn create(path: &str) -> Op {
    Op::Create {
        path: p(path),
        data: b"d".to_vec(),
        mode: CreateMode::Persistent,
    }
}

fn delete(path: &str, version: Option<u64>) -> Op {
    Op::Delete {
        path: p(path),
        version: version.map(Version),
    }
}

fn set(path: &str, version: Option<u64>) -> Op {
    Op::Set {
        path: p(path),
        data: b"s".to_vec(),
        version: version.map(Version),
    }
}

/// A stored state: key → (mod_revision, lease).
struct State(BTreeMap<Vec<u8>, (i64, i64)>);

impl Oracle for State {
    fn holds(&mut self, fact: Fact) -> bool {
        match fact {
            Fact::Exists(k) => self.0.contains_key(&k),
            Fact::Absent(k) => !self.0.contains_key(&k),
            Fact::Version(k, v) => self.0.get(&k).is_some_and(|(m, _)| *m == v),
            Fact::NotEphemeral(k) => self.0.get(&k).is_none_or(|(_, l)| *l == 0),
            Fact::NoKeysIn(a, b) => self.0.range(a..b).next().is_none(),
        }
    }
}

fn state(keys: &Keys, nodes: &[(&str, i64, i64)]) -> State {
    let mut map: BTreeMap<Vec<u8>, (i64, i64)> = nodes
        .iter()
        .map(|(path, rev, lease)| (keys.node(&p(path)), (*rev, *lease)))
        .collect();
    map.insert(keys.node(&Path::root()), (1, 0));
    State(map)
}

fn error_of(keys: &Keys, ops: &[Op], st: &mut State) -> Option<Error> {
    simulate(keys, ops, 99, st).fails
}

#[test]
fn a_create_compares_parent_absence_and_parent_lease() {
    let keys = Keys::new("/ns");
    let mut assume = Assume::default();
    let plan = simulate(&keys, &[create("/a/b")], 0, &mut assume);
    assert!(plan.fails.is_none());
    assert_eq!(
        assume.facts,
        [
            Fact::Exists(keys.node(&p("/a"))),
            Fact::Absent(keys.node(&p("/a/b"))),
            Fact::NotEphemeral(keys.node(&p("/a"))),
        ]
    );
    assert_eq!(plan.outcomes, [Outcome::Created]);
    assert_eq!(
        plan.writes.get(&keys.node(&p("/a/b"))),
        Some(&Write::Put(b"d".to_vec(), Lease::Id(0)))
    );
}

#[test]
fn parent_created_earlier_in_the_multi_needs_no_comparison() {
    let keys = Keys::new("/ns");
    let mut assume = Assume::default();
    let plan = simulate(&keys, &[create("/a"), create("/a/b")], 0, &mut assume);
    assert!(plan.fails.is_none(), "{:?}", plan.fails);
    // /a's existence and lease are settled by the first create: only
    // /a/b's absence is compared for the second.
    assert_eq!(assume.facts.len(), 4, "{:?}", assume.facts);
    assert_eq!(assume.facts[3], Fact::Absent(keys.node(&p("/a/b"))));
    assert_eq!(plan.writes.len(), 2);
}

#[test]
fn failures_name_the_first_failing_op_and_its_kind() {
    let keys = Keys::new("/ns");
    let mut st = state(
        &keys,
        &[
            ("/x", 5, 0),
            ("/full", 6, 0),
            ("/full/kid", 7, 0),
            ("/eph", 8, 3),
        ],
    );
    let kind = |ops: &[Op], st: &mut State| match error_of(&keys, ops, st) {
        Some(Error::NotFound { path }) => format!("NotFound {path}"),
        Some(Error::AlreadyExists { path }) => format!("AlreadyExists {path}"),
        Some(Error::NoParent { path }) => format!("NoParent {path}"),
        Some(Error::NotEmpty { path }) => format!("NotEmpty {path}"),
        Some(Error::VersionConflict { path }) => format!("VersionConflict {path}"),
        Some(Error::EphemeralParent { path }) => format!("EphemeralParent {path}"),
        Some(other) => format!("{other:?}"),
        None => "ok".into(),
    };
    assert_eq!(kind(&[create("/x")], &mut st), "AlreadyExists /x");
    assert_eq!(kind(&[create("/no/kid")], &mut st), "NoParent /no/kid");
    assert_eq!(
        kind(&[create("/eph/kid")], &mut st),
        "EphemeralParent /eph/kid"
    );
    assert_eq!(kind(&[delete("/full", None)], &mut st), "NotEmpty /full");
    assert_eq!(kind(&[set("/x", Some(4))], &mut st), "VersionConflict /x");
    assert_eq!(kind(&[set("/x", Some(0))], &mut st), "VersionConflict /x");
    assert_eq!(kind(&[set("/ghost", Some(5))], &mut st), "NotFound /ghost");
    assert_eq!(kind(&[set("/x", Some(5))], &mut st), "ok");
    assert_eq!(
        kind(&[create("/y"), create("/y")], &mut st),
        "AlreadyExists /y"
    );
    assert_eq!(
        kind(&[delete("/full/kid", None), delete("/full", None)], &mut st),
        "ok"
    );
    assert_eq!(
        kind(
            &[
                create("/full/kid2"),
                delete("/full/kid", None),
                delete("/full", None)
            ],
            &mut st
        ),
        "NotEmpty /full"
    );
    assert_eq!(
        kind(&[delete("/x", None), create("/x/kid")], &mut st),
        "NoParent /x/kid"
    );
    assert_eq!(
        kind(&[set("/x", None), set("/x", Some(5))], &mut st),
        "VersionConflict /x"
    );
    assert_eq!(
        kind(&[create("/"), create("/x")], &mut st),
        "AlreadyExists /"
    );
}

#[test]
fn writes_coalesce_per_key_and_sets_keep_the_lease() {
    let keys = Keys::new("/ns");
    let mut assume = Assume::default();
    let e = Op::Create {
        path: p("/e"),
        data: b"1".to_vec(),
        mode: CreateMode::Ephemeral(SessionId(42)),
    };
    let plan = simulate(
        &keys,
        &[e, set("/e", None), set("/x", None)],
        42,
        &mut assume,
    );
    assert!(plan.fails.is_none());
    assert_eq!(
        plan.writes.get(&keys.node(&p("/e"))),
        Some(&Write::Put(b"s".to_vec(), Lease::Id(42)))
    );
    assert_eq!(
        plan.writes.get(&keys.node(&p("/x"))),
        Some(&Write::Put(b"s".to_vec(), Lease::Keep))
    );
    let plan = simulate(
        &keys,
        &[create("/y"), delete("/y", None)],
        0,
        &mut Assume::default(),
    );
    assert_eq!(plan.writes.get(&keys.node(&p("/y"))), Some(&Write::Delete));
    assert_eq!(plan.outcomes, [Outcome::Created, Outcome::Deleted]);
}

#[test]
fn deleting_after_deleting_children_compares_the_gaps_only() {
    let keys = Keys::new("/ns");
    let mut assume = Assume::default();
    let plan = simulate(
        &keys,
        &[delete("/d/b", None), delete("/d", None)],
        0,
        &mut assume,
    );
    assert!(plan.fails.is_none());
    let gaps: Vec<_> = assume
        .facts
        .iter()
        .filter_map(|f| match f {
            Fact::NoKeysIn(a, b) => Some((a.clone(), b.clone())),
            _ => None,
        })
        .collect();
    let kid = keys.node(&p("/d/b"));
    let prefix = keys.children_prefix(&p("/d"));
    assert!(gaps.contains(&(prefix.clone(), kid.clone())));
    assert!(gaps.contains(&(crate::keys::key_after(&kid), range_end(&prefix))));
}
