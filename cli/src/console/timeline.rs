//! Tasks × time: who ran each task over the last minutes, built from the
//! console's event history and the current owners. Before the history is
//! complete (the console started, or old events were dropped) only the
//! current owners' claims are known.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use tenure_core::TaskStatus;

use super::hub::Entry;

/// One stretch of ownership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// The owner.
    pub worker: String,
    /// From, in milliseconds since the Unix epoch.
    pub from_ms: u64,
    /// Until.
    pub to_ms: u64,
}

/// An ownership event on the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mark {
    /// When.
    pub at_ms: u64,
    /// `claimed`, `released`, `lost`, `taken-over`, `moved` or `renewed`.
    pub change: String,
    /// The worker concerned.
    pub worker: String,
    /// The previous owner, for `taken-over` and `moved`.
    pub from: Option<String>,
    /// Why.
    pub reason: String,
}

/// One task's line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The task.
    pub task: String,
    /// Who owned it when, oldest first, within the window.
    pub segments: Vec<Segment>,
    /// Its events within the window.
    pub marks: Vec<Mark>,
}

/// A stretch where events may be missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// From.
    pub from_ms: u64,
    /// Until.
    pub to_ms: u64,
}

/// The time window shown.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Its start, in milliseconds since the Unix epoch.
    pub from_ms: u64,
    /// Its end (now).
    pub to_ms: u64,
    /// Since when the history is complete.
    pub known_from_ms: u64,
}

/// The rows of `tasks` over `window`, from `history` (oldest first).
pub fn rows(tasks: &[&TaskStatus], history: &[Arc<Entry>], window: Window) -> Vec<Row> {
    let mut by_task: BTreeMap<&str, Vec<&super::hub::EventJson>> = BTreeMap::new();
    for t in tasks {
        by_task.insert(t.task.as_str(), Vec::new());
    }
    for entry in history {
        if let Entry::Event(e) = &**entry
            && let Some(list) = by_task.get_mut(e.event.task.as_str())
        {
            list.push(e);
        }
    }
    tasks
        .iter()
        .map(|t| {
            let events = by_task
                .get(t.task.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            row(t, events, window)
        })
        .collect()
}

fn row(t: &TaskStatus, events: &[&super::hub::EventJson], w: Window) -> Row {
    let mut segments = Vec::new();
    // The owner before the first event: the one that first let go, if the
    // first event is a release or a loss (it held the task since before
    // the history is complete); else nobody known.
    let mut open: Option<(String, u64)> = match events.first() {
        Some(first) if matches!(first.event.change, "released" | "lost" | "renewed") => {
            Some((first.event.worker.clone(), w.known_from_ms))
        }
        Some(_) => None,
        None => t.owner.as_ref().map(|o| (o.worker.to_string(), o.since_ms)),
    };
    let mut close = |open: &mut Option<(String, u64)>, at: u64| {
        if let Some((worker, from)) = open.take() {
            segments.push(Segment {
                worker,
                from_ms: from,
                to_ms: at,
            });
        }
    };
    for e in events {
        let at = e.event.at_ms;
        match e.event.change {
            "released" | "lost" => close(&mut open, at),
            "renewed" if open.as_ref().is_some_and(|(w, _)| *w == e.event.worker) => {}
            _ => {
                close(&mut open, at);
                open = Some((e.event.worker.clone(), at));
            }
        }
    }
    close(&mut open, w.to_ms);
    let segments = segments
        .into_iter()
        .filter(|s| s.to_ms > w.from_ms && s.from_ms < w.to_ms)
        .map(|s| Segment {
            from_ms: s.from_ms.clamp(w.from_ms, w.to_ms),
            to_ms: s.to_ms.clamp(w.from_ms, w.to_ms),
            worker: s.worker,
        })
        .collect();
    let marks = events
        .iter()
        .filter(|e| e.event.at_ms >= w.from_ms && e.event.at_ms <= w.to_ms)
        .map(|e| Mark {
            at_ms: e.event.at_ms,
            change: e.event.change.to_owned(),
            worker: e.event.worker.clone(),
            from: e.event.from.clone(),
            reason: e.reason.clone(),
        })
        .collect();
    Row {
        task: t.task.to_string(),
        segments,
        marks,
    }
}

/// The gaps of `history` that overlap the window.
pub fn gaps(history: &[Arc<Entry>], w: Window) -> Vec<Gap> {
    history
        .iter()
        .filter_map(|e| match &**e {
            Entry::Gap(g) if g.to_ms >= w.from_ms => Some(Gap {
                from_ms: g.from_ms.max(w.from_ms),
                to_ms: g.to_ms.min(w.to_ms),
            }),
            _ => None,
        })
        .collect()
}

/// Twelve colours far enough apart to tell workers by.
const PALETTE: [&str; 12] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#005f73",
    "#bcbd22", "#17becf", "#393b79", "#637939",
];

/// One colour per worker of `workers`: each takes the palette slot its
/// name hashes to, or the next free one, so a worker keeps its colour as
/// long as the others do not take it, and up to twelve workers never
/// share one.
pub fn colours<'a>(workers: impl IntoIterator<Item = &'a str>) -> BTreeMap<&'a str, &'static str> {
    let workers: std::collections::BTreeSet<&str> = workers.into_iter().collect();
    let mut taken = [false; PALETTE.len()];
    let mut out = BTreeMap::new();
    for w in workers {
        // FNV-1a: stable across runs and platforms, unlike the std hasher.
        let mut h: u32 = 0x811c_9dc5;
        for b in w.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        let first = h as usize % PALETTE.len();
        let slot = (0..PALETTE.len())
            .map(|i| (first + i) % PALETTE.len())
            .find(|i| !taken[*i])
            .unwrap_or(first);
        taken[slot] = true;
        out.insert(w, PALETTE[slot]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::hub::{EventJson, Hub};
    use crate::output::schema::{EventDoc, SCHEMA};
    use std::collections::BTreeSet;
    use tenure_core::{Ownership, TaskState};
    use tenure_core::{TaskId, WorkerId};

    fn event(at_ms: u64, worker: &str, change: &'static str, from: Option<&str>) -> EventJson {
        EventJson {
            event: EventDoc {
                schema: SCHEMA,
                kind: "event",
                at_ms,
                task: "T".into(),
                worker: worker.into(),
                token: 1,
                change,
                from: from.map(Into::into),
            },
            seq: at_ms,
            reason: String::new(),
        }
    }

    fn task(owner: Option<(&str, u64)>) -> TaskStatus {
        TaskStatus {
            task: TaskId::new("T").unwrap(),
            state: if owner.is_some() {
                TaskState::Running
            } else {
                TaskState::Waiting
            },
            weight: std::num::NonZeroU32::MIN,
            tags: BTreeSet::new(),
            pinned: None,
            payload_bytes: 0,
            owner: owner.map(|(w, since_ms)| Ownership {
                worker: WorkerId::new(w).unwrap(),
                token: 1,
                since_ms,
            }),
            target: None,
        }
    }

    fn seg(worker: &str, from_ms: u64, to_ms: u64) -> Segment {
        Segment {
            worker: worker.into(),
            from_ms,
            to_ms,
        }
    }

    const W: Window = Window {
        from_ms: 100,
        to_ms: 1000,
        known_from_ms: 50,
    };

    #[test]
    fn a_takeover_ends_one_segment_and_starts_the_next() {
        let events = [
            event(300, "A", "lost", None),
            event(450, "B", "taken-over", Some("A")),
            event(700, "B", "released", None),
            event(710, "A", "moved", Some("B")),
        ];
        let refs: Vec<&EventJson> = events.iter().collect();
        let r = row(&task(Some(("A", 710))), &refs, W);
        assert_eq!(
            r.segments,
            [seg("A", 100, 300), seg("B", 450, 700), seg("A", 710, 1000)],
            "the first owner is cut at the window's start"
        );
        assert_eq!(r.marks.len(), 4);
    }

    #[test]
    fn without_events_the_current_owner_runs_since_its_claim() {
        let r = row(&task(Some(("A", 400))), &[], W);
        assert_eq!(r.segments, [seg("A", 400, 1000)]);
        assert!(row(&task(None), &[], W).segments.is_empty());
    }

    #[test]
    fn history_before_the_window_decides_the_owner_at_its_start() {
        let hub = Hub::new(10);
        let t = task(Some(("B", 20)));
        hub.push_event(event(20, "B", "claimed", None).event, String::new());
        let (history, _) = hub.all();
        let rows = rows(&[&t], &history, W);
        assert_eq!(rows[0].segments, [seg("B", 100, 1000)]);
        assert!(rows[0].marks.is_empty(), "the claim is before the window");
    }

    #[test]
    fn up_to_twelve_workers_get_colours_of_their_own_and_keep_them() {
        let names: Vec<String> = (0..12).map(|i| format!("worker-{i}")).collect();
        let all = colours(names.iter().map(String::as_str));
        let distinct: std::collections::BTreeSet<_> = all.values().collect();
        assert_eq!(distinct.len(), 12);
        let again = colours(names.iter().rev().map(String::as_str));
        assert_eq!(all, again, "the order given does not matter");
        assert_eq!(colours(["a"]).len(), 1);
    }
}
