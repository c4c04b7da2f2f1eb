//! Shared generators and checks for the strategy property tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::ops::RangeInclusive;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::subsequence;
use proptest::test_runner::TestCaseError;
use tenure_core::strategy::{Assignment, StrategyInput, Target, TaskInfo, WorkerInfo};
use tenure_core::{TaskId, WorkerId};

/// 1,000 cases (proptest's default is 256); `PROPTEST_CASES`, if set,
/// overrides it, as for every proptest.
pub fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    config.cases = config.cases.max(1000);
    config
}

pub fn wid(name: &str) -> WorkerId {
    name.parse().unwrap()
}

pub fn tid(name: &str) -> TaskId {
    name.parse().unwrap()
}

pub fn worker(name: &str, capacity: u32) -> WorkerInfo {
    WorkerInfo {
        id: wid(name),
        capacity: NonZeroU32::new(capacity).expect("at least 1"),
        tags: BTreeSet::new(),
        age: Duration::from_secs(3600),
    }
}

pub fn task(name: &str, weight: u32) -> TaskInfo {
    TaskInfo {
        id: tid(name),
        weight: NonZeroU32::new(weight).expect("at least 1"),
        tags: BTreeSet::new(),
        pinned: None,
    }
}

/// One strategy input, owned.
#[derive(Clone, Debug)]
pub struct Case {
    pub workers: Vec<WorkerInfo>,
    pub tasks: Vec<TaskInfo>,
    pub current: Assignment,
}

impl Case {
    pub fn input(&self) -> StrategyInput<'_> {
        StrategyInput {
            workers: &self.workers,
            tasks: &self.tasks,
            current: &self.current,
        }
    }

    pub fn worker(&self, id: &WorkerId) -> Option<&WorkerInfo> {
        self.workers.iter().find(|w| w.id == *id)
    }

    /// Tasks with at least one eligible live worker.
    pub fn placeable(&self, t: &TaskInfo) -> bool {
        self.workers.iter().any(|w| t.eligible(w))
    }

    /// Current placements on a live, eligible worker.
    pub fn valid_current(&self) -> Assignment {
        self.tasks
            .iter()
            .filter_map(|t| {
                let w = self.current.get(&t.id)?;
                let info = self.worker(w)?;
                t.eligible(info).then(|| (t.id.clone(), w.clone()))
            })
            .collect()
    }

    /// The same case with the slices reordered (rotated by `k`, reversed if
    /// `k` is odd): the contract sorts them, so the result must not change.
    pub fn permuted(&self, k: usize) -> Case {
        let mut c = self.clone();
        if !c.workers.is_empty() {
            let n = c.workers.len();
            c.workers.rotate_left(k % n);
        }
        if !c.tasks.is_empty() {
            let n = c.tasks.len();
            c.tasks.rotate_left(k % n);
        }
        if k % 2 == 1 {
            c.workers.reverse();
            c.tasks.reverse();
        }
        c
    }

    /// This case after the target took effect (every placement running).
    pub fn after(&self, target: &Target) -> Case {
        Case {
            current: target.placements.clone(),
            ..self.clone()
        }
    }
}

/// What the generated cases look like.
#[derive(Clone, Debug)]
pub struct Params {
    pub workers: RangeInclusive<usize>,
    pub tasks: RangeInclusive<usize>,
    pub max_capacity: u32,
    pub max_weight: u32,
    pub tags: bool,
    pub pins: bool,
}

impl Params {
    /// Everything varies.
    pub fn full() -> Self {
        Params {
            workers: 0..=8,
            tasks: 0..=40,
            max_capacity: 4,
            max_weight: 4,
            tags: true,
            pins: true,
        }
    }

    /// Unit task weights, no tags, no pins; capacities vary.
    pub fn unit() -> Self {
        Params {
            workers: 1..=8,
            tasks: 0..=60,
            max_capacity: 4,
            max_weight: 1,
            tags: false,
            pins: false,
        }
    }
}

const TAGS: [&str; 2] = ["x", "y"];

fn tag_set(v: Vec<&str>) -> BTreeSet<String> {
    v.into_iter().map(str::to_owned).collect()
}

/// Worker `i` of the name pool: `w0`..`w9` may be live; `gone0`, `gone1`
/// never are.
fn pool_name(i: usize) -> String {
    if i < 10 {
        format!("w{i}")
    } else {
        format!("gone{}", i - 10)
    }
}

pub fn arb_case(p: Params) -> impl Strategy<Value = Case> {
    let live = subsequence((0..10usize).collect::<Vec<_>>(), p.workers.clone());
    let worker_tags = if p.tags {
        subsequence(TAGS.to_vec(), 0..=2).boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    let task_tags = if p.tags {
        prop_oneof![3 => Just(Vec::new()), 1 => subsequence(TAGS.to_vec(), 1..=2)].boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    let pin = if p.pins {
        prop_oneof![8 => Just(None), 1 => (0..12usize).prop_map(Some)].boxed()
    } else {
        Just(None).boxed()
    };
    let attrs = proptest::collection::vec((1..=p.max_capacity, worker_tags, 0u64..20), 10);
    // current: 0..10 a pool worker, 10..12 a departed one, 12..14 none.
    let tasks = proptest::collection::vec(
        (1..=p.max_weight, task_tags, pin, 0..14usize),
        p.tasks.clone(),
    );
    (live, attrs, tasks).prop_map(|(live, attrs, tasks)| {
        let workers = live
            .into_iter()
            .map(|i| {
                let (capacity, tags, age) = attrs[i].clone();
                WorkerInfo {
                    id: wid(&pool_name(i)),
                    capacity: NonZeroU32::new(capacity).expect("at least 1"),
                    tags: tag_set(tags),
                    age: Duration::from_secs(age),
                }
            })
            .collect();
        let mut current = Assignment::new();
        let tasks = tasks
            .into_iter()
            .enumerate()
            .map(|(i, (weight, tags, pin, cur))| {
                let id = tid(&format!("t{i:02}"));
                if cur < 12 {
                    current.insert(id.clone(), wid(&pool_name(cur)));
                }
                TaskInfo {
                    id,
                    weight: NonZeroU32::new(weight).expect("at least 1"),
                    tags: tag_set(tags),
                    pinned: pin.map(|p| wid(&pool_name(p))),
                }
            })
            .collect();
        Case {
            workers,
            tasks,
            current,
        }
    })
}

/// Placements name live eligible workers; every placeable task is placed
/// (or open, if `open_allowed`); unplaceable tasks are neither.
pub fn check_valid(case: &Case, target: &Target, open_allowed: bool) -> Result<(), TestCaseError> {
    let tasks: BTreeMap<&TaskId, &TaskInfo> = case.tasks.iter().map(|t| (&t.id, t)).collect();
    for (t, w) in &target.placements {
        let task = tasks
            .get(t)
            .ok_or_else(|| TestCaseError::fail(format!("unknown task {t}")))?;
        let worker = case
            .worker(w)
            .ok_or_else(|| TestCaseError::fail(format!("{t} placed on dead worker {w}")))?;
        prop_assert!(task.eligible(worker), "{} placed on ineligible {}", t, w);
    }
    if !open_allowed {
        prop_assert!(
            target.open.is_empty(),
            "unexpected open tasks {:?}",
            target.open
        );
    }
    for t in &target.open {
        prop_assert!(tasks.contains_key(t), "unknown open task {}", t);
        prop_assert!(
            !target.placements.contains_key(t),
            "{} both placed and open",
            t
        );
    }
    for task in &case.tasks {
        let listed = target.placements.contains_key(&task.id) || target.open.contains(&task.id);
        prop_assert_eq!(listed, case.placeable(task), "task {}", &task.id);
    }
    Ok(())
}

/// Load (total weight) per live worker, zeros included.
pub fn loads(case: &Case, target: &Target) -> BTreeMap<WorkerId, u64> {
    let mut load: BTreeMap<WorkerId, u64> =
        case.workers.iter().map(|w| (w.id.clone(), 0)).collect();
    for t in &case.tasks {
        if let Some(w) = target.placements.get(&t.id) {
            *load.entry(w.clone()).or_default() += u64::from(t.weight.get());
        }
    }
    load
}

/// Tasks whose placement differs from their valid current worker (homeless
/// tasks that get placed count too).
pub fn moved(case: &Case, target: &Target) -> usize {
    let valid = case.valid_current();
    target
        .placements
        .iter()
        .filter(|(t, w)| valid.get(*t) != Some(*w))
        .count()
}

/// Tasks with a valid current worker that the target takes away from it.
pub fn running_moved(case: &Case, target: &Target) -> Vec<TaskId> {
    case.valid_current()
        .into_iter()
        .filter(|(t, w)| target.placements.get(t) != Some(w))
        .map(|(t, _)| t)
        .collect()
}

/// Floor of the share, and whether the share is fractional, per worker
/// (index order of `case.workers`).
pub fn shares(case: &Case, total: u64) -> Vec<(u64, bool)> {
    let c: u64 = case
        .workers
        .iter()
        .map(|w| u64::from(w.capacity.get()))
        .sum();
    case.workers
        .iter()
        .map(|w| {
            let s = total * u64::from(w.capacity.get());
            (s / c, !s.is_multiple_of(c))
        })
        .collect()
}

/// The least number of tasks any strategy must move to reach loads that
/// are shares rounded down or up, for unit weights and no eligibility
/// limits: every homeless task, plus the excess of each worker over its
/// quota for the best choice of which fractional shares round up (tried
/// exhaustively).
pub fn lower_bound_unit(case: &Case) -> usize {
    if case.workers.is_empty() {
        return 0;
    }
    let total = case.tasks.len() as u64;
    let valid = case.valid_current();
    let kept: Vec<u64> = case
        .workers
        .iter()
        .map(|w| valid.values().filter(|o| **o == w.id).count() as u64)
        .collect();
    let homeless = total - kept.iter().sum::<u64>();
    let shares = shares(case, total);
    let floors: u64 = shares.iter().map(|s| s.0).sum();
    let extra = (total - floors) as u32;
    let n = case.workers.len();
    let mut best = u64::MAX;
    for mask in 0u32..(1 << n) {
        if mask.count_ones() != extra || (0..n).any(|i| mask & (1 << i) != 0 && !shares[i].1) {
            continue;
        }
        let excess: u64 = (0..n)
            .map(|i| kept[i].saturating_sub(shares[i].0 + u64::from(mask & (1 << i) != 0)))
            .sum();
        best = best.min(excess);
    }
    (homeless + best) as usize
}
