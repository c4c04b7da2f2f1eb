//! Stranded time: while a task is wanted (it exists and is not paused),
//! the stretches when no command of it runs. Each gap belongs to the last
//! fault that began at or before it; it counts from that fault's clock
//! (see [`Episode::clock_from`]) or from its own start if later, and must
//! end within the session timeout + 1 s.

use std::collections::BTreeMap;
use std::time::Duration;

use super::children::{Child, Role};
use super::history::{Episode, History};

/// A stretch without a running command, while the task was wanted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The task.
    pub task: String,
    /// When the last command before it ended (or the task became wanted).
    pub from: u128,
    /// When the next command started (or the soak's checks ended).
    pub to: u128,
}

/// One gap measured against its fault.
#[derive(Clone, Debug)]
pub struct Stranded {
    /// The gap.
    pub gap: Gap,
    /// The index of its episode (`None`: before the first fault).
    pub episode: Option<usize>,
    /// How long the task was stranded, counted from the fault's clock.
    pub time: Duration,
}

/// The stretches, per task, when it was wanted, within the checks'
/// window `[history.start, history.end]`.
fn wanted(history: &History) -> BTreeMap<String, Vec<(u128, u128)>> {
    let mut changes: BTreeMap<String, Vec<(u128, bool)>> = BTreeMap::new();
    for task in &history.initial_tasks {
        changes
            .entry(task.clone())
            .or_default()
            .push((history.start, true));
    }
    for event in &history.task_events {
        changes
            .entry(event.task.clone())
            .or_default()
            .push((event.effective(), event.change.wanted()));
    }
    let mut stretches = BTreeMap::new();
    for (task, mut list) in changes {
        list.sort_by_key(|(at, _)| *at);
        let mut from: Option<u128> = None;
        let mut out = Vec::new();
        for (at, wanted) in list {
            match (from, wanted) {
                (None, true) => from = Some(at.max(history.start)),
                (Some(f), false) => {
                    out.push((f, at.min(history.end)));
                    from = None;
                }
                _ => {}
            }
        }
        if let Some(f) = from {
            out.push((f, history.end));
        }
        out.retain(|(a, b)| a < b);
        stretches.insert(task, out);
    }
    stretches
}

/// Every gap of every task.
pub fn gaps(history: &History, children: &[Child]) -> Vec<Gap> {
    let mut runs: BTreeMap<&str, Vec<(u128, u128)>> = BTreeMap::new();
    for child in children.iter().filter(|c| c.role == Role::Command) {
        runs.entry(&child.task)
            .or_default()
            .push((child.start, child.end().unwrap_or(u128::MAX)));
    }
    let mut found = Vec::new();
    for (task, stretches) in wanted(history) {
        let mut covered = runs.get(task.as_str()).cloned().unwrap_or_default();
        covered.sort_unstable();
        for (from, to) in stretches {
            let mut cursor = from;
            for &(start, end) in &covered {
                if end <= cursor || start >= to {
                    continue;
                }
                if start > cursor {
                    found.push(Gap {
                        task: task.clone(),
                        from: cursor,
                        to: start,
                    });
                }
                cursor = cursor.max(end);
                if cursor >= to {
                    break;
                }
            }
            if cursor < to {
                found.push(Gap {
                    task: task.clone(),
                    from: cursor,
                    to,
                });
            }
        }
    }
    found
}

/// The episode a gap starting at `at` belongs to: the last one that began
/// at or before it.
pub(super) fn episode_at(episodes: &[Episode], at: u128) -> Option<usize> {
    episodes.iter().rposition(|e| e.at <= at)
}

/// Every gap, measured against its fault.
pub fn stranded(history: &History, children: &[Child]) -> Vec<Stranded> {
    gaps(history, children)
        .into_iter()
        .map(|gap| {
            let episode = episode_at(&history.episodes, gap.from);
            let clock = episode
                .map(|i| history.episodes[i].clock_from.max(gap.from))
                .unwrap_or(gap.from);
            let time = Duration::from_nanos(gap.to.saturating_sub(clock) as u64);
            Stranded { gap, episode, time }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soak::children::test_child;
    use crate::soak::history::{Change, TaskEvent};

    fn child(task: &str, start: u128, end: Option<u128>) -> Child {
        test_child(task, 1, "w1", start, end)
    }

    fn history() -> History {
        History {
            session: Duration::from_secs(1),
            initial_tasks: vec!["a".into(), "b".into()],
            start: 100,
            end: 1000,
            ..History::default()
        }
    }

    #[test]
    fn gaps_are_the_wanted_stretches_without_a_command() {
        let children = [
            child("a", 50, Some(300)),
            child("a", 400, None),
            child("b", 90, Some(200)),
            child("b", 150, Some(500)),
        ];
        let found = gaps(&history(), &children);
        let gap = |task: &str, from, to| Gap {
            task: task.into(),
            from,
            to,
        };
        assert_eq!(found, vec![gap("a", 300, 400), gap("b", 500, 1000)]);
    }

    #[test]
    fn a_paused_task_is_not_stranded_and_a_resumed_one_counts_from_the_resume() {
        let mut h = history();
        let event = |change, began, returned| TaskEvent {
            task: "b".into(),
            change,
            began,
            returned,
        };
        h.task_events = vec![
            event(Change::Paused, 300, 310),
            event(Change::Resumed, 600, 650),
        ];
        let children = [
            child("a", 0, None),
            child("b", 0, Some(320)),
            child("b", 700, None),
        ];
        let found = gaps(&h, &children);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].from, found[0].to), (650, 700));
    }
}
