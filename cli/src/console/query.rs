//! Filtering, sorting and paging the task list on the server, so a page
//! of a 10,000-task cluster carries one page of rows.

use std::cmp::Ordering;

use serde::Deserialize;
use tenure_core::{TaskState, TaskStatus};

use super::error::ApiError;

/// Rows per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest `limit`.
pub const MAX_LIMIT: usize = 1000;

/// The query string of task listings, as given (empty values mean "not
/// set", as an HTML form sends them).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TaskQuery {
    /// Part of the task's name.
    pub q: Option<String>,
    /// `running`, `waiting`, `unplaced` or `paused`.
    pub state: Option<String>,
    /// The owner's name, or `-` for none.
    pub owner: Option<String>,
    /// The target worker's name, or `-` for none.
    pub target: Option<String>,
    /// A tag the task requires.
    pub tag: Option<String>,
    /// The sort key.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub order: Option<String>,
    /// Rows to skip.
    pub offset: Option<String>,
    /// Rows to return.
    pub limit: Option<String>,
}

/// A task's state as the console shows it: `waiting` split in two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// A worker owns it.
    Running,
    /// The leader placed it; the claim has not happened yet.
    Waiting,
    /// Not paused, nobody owns it, and the leader placed it nowhere (no
    /// eligible worker, or no leader).
    Unplaced,
    /// Paused.
    Paused,
    /// Done: its command finished the work; runs nowhere until re-armed.
    Done,
}

/// The names of the states, as filters take them.
pub const STATES: [&str; 5] = ["running", "waiting", "unplaced", "paused", "done"];

impl Shown {
    /// The state of `t`.
    pub fn of(t: &TaskStatus) -> Shown {
        match t.state {
            TaskState::Running => Shown::Running,
            TaskState::Paused => Shown::Paused,
            TaskState::Done => Shown::Done,
            TaskState::Waiting if t.target.is_none() => Shown::Unplaced,
            TaskState::Waiting => Shown::Waiting,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Shown::Running => "running",
            Shown::Waiting => "waiting",
            Shown::Unplaced => "unplaced",
            Shown::Paused => "paused",
            Shown::Done => "done",
        }
    }
}

/// The sort keys.
pub const SORT_KEYS: [&str; 7] = [
    "task", "state", "owner", "token", "target", "since", "weight",
];

/// A checked [`TaskQuery`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Part of the name.
    pub q: Option<String>,
    /// The state wanted (`waiting` includes `unplaced`).
    pub state: Option<&'static str>,
    /// The owner wanted (`-`: none).
    pub owner: Option<String>,
    /// The target wanted (`-`: none).
    pub target: Option<String>,
    /// A required tag.
    pub tag: Option<String>,
    /// One of [`SORT_KEYS`].
    pub sort: &'static str,
    /// Descending.
    pub desc: bool,
    /// Rows skipped.
    pub offset: usize,
    /// Rows returned.
    pub limit: usize,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn number(what: &str, value: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    let Some(text) = value else {
        return Ok(default);
    };
    match text.parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(ApiError::Invalid(format!(
            "{what} must be a whole number from 0 to {max}, not {text:?}"
        ))),
    }
}

impl TaskQuery {
    /// Checks the query.
    ///
    /// # Errors
    /// [`ApiError::Invalid`] naming the bad parameter and what it takes.
    pub fn check(&self) -> Result<Filter, ApiError> {
        let state = match given(&self.state) {
            None => None,
            Some(s) => Some(STATES.into_iter().find(|k| *k == s).ok_or_else(|| {
                ApiError::Invalid(format!(
                    "unknown state {s:?}: use running, waiting, unplaced, paused or done"
                ))
            })?),
        };
        let sort = match given(&self.sort) {
            None => "task",
            Some(s) => SORT_KEYS.into_iter().find(|k| *k == s).ok_or_else(|| {
                ApiError::Invalid(format!(
                    "unknown sort key {s:?}: use one of {}",
                    SORT_KEYS.join(", ")
                ))
            })?,
        };
        let desc = match given(&self.order) {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(o) => {
                return Err(ApiError::Invalid(format!(
                    "unknown order {o:?}: use asc or desc"
                )));
            }
        };
        let limit = number("limit", given(&self.limit), DEFAULT_LIMIT, MAX_LIMIT)?;
        if limit == 0 {
            return Err(ApiError::Invalid(format!(
                "limit must be a whole number from 1 to {MAX_LIMIT}, not 0"
            )));
        }
        Ok(Filter {
            q: given(&self.q).map(str::to_owned),
            state,
            owner: given(&self.owner).map(str::to_owned),
            target: given(&self.target).map(str::to_owned),
            tag: given(&self.tag).map(str::to_owned),
            sort,
            desc,
            offset: number("offset", given(&self.offset), 0, usize::MAX)?,
            limit,
        })
    }
}

/// One page of a filtered, sorted task list.
pub struct Page<'a> {
    /// Tasks in the cluster.
    pub total: usize,
    /// Tasks the filter kept.
    pub matched: usize,
    /// The rows of this page.
    pub rows: Vec<&'a TaskStatus>,
}

fn names(worker: Option<&str>, wanted: &str) -> bool {
    match worker {
        None => wanted == "-",
        Some(w) => w == wanted,
    }
}

impl Filter {
    /// Whether `t` passes the filter.
    pub fn keeps(&self, t: &TaskStatus) -> bool {
        let shown = Shown::of(t);
        self.q
            .as_deref()
            .is_none_or(|q| t.task.as_str().contains(q))
            && self
                .state
                .is_none_or(|s| s == shown.name() || (s == "waiting" && shown == Shown::Unplaced))
            && self
                .owner
                .as_deref()
                .is_none_or(|o| names(t.owner.as_ref().map(|o| o.worker.as_str()), o))
            && self
                .target
                .as_deref()
                .is_none_or(|w| names(t.target.as_ref().map(|w| w.as_str()), w))
            && self.tag.as_deref().is_none_or(|tag| t.tags.contains(tag))
    }

    fn compare(&self, a: &TaskStatus, b: &TaskStatus) -> Ordering {
        let owner = |t: &TaskStatus| t.owner.as_ref().map(|o| o.worker.as_str().to_owned());
        let by = match self.sort {
            "state" => Shown::of(a).name().cmp(Shown::of(b).name()),
            "owner" => owner(a).cmp(&owner(b)),
            "token" => a
                .owner
                .as_ref()
                .map(|o| o.token)
                .cmp(&b.owner.as_ref().map(|o| o.token)),
            "target" => a.target.cmp(&b.target),
            "since" => a
                .owner
                .as_ref()
                .map(|o| o.since_ms)
                .cmp(&b.owner.as_ref().map(|o| o.since_ms)),
            "weight" => a.weight.cmp(&b.weight),
            _ => Ordering::Equal,
        };
        let by = if self.desc { by.reverse() } else { by };
        by.then_with(|| {
            let name = a.task.cmp(&b.task);
            if self.desc && self.sort == "task" {
                name.reverse()
            } else {
                name
            }
        })
    }

    /// The page of `tasks` this filter asks for.
    pub fn page<'a>(&self, tasks: &'a [TaskStatus]) -> Page<'a> {
        let mut kept: Vec<&TaskStatus> = tasks.iter().filter(|t| self.keeps(t)).collect();
        let matched = kept.len();
        kept.sort_by(|a, b| self.compare(a, b));
        let rows = kept
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        Page {
            total: tasks.len(),
            matched,
            rows,
        }
    }

    /// This filter as a query string (without `?`), changed by `change`.
    pub fn query_string(&self, change: impl FnOnce(&mut Filter)) -> String {
        let mut f = self.clone();
        change(&mut f);
        let mut parts = Vec::new();
        let mut put = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                parts.push(format!("{k}={}", encode(v)));
            }
        };
        put("q", f.q.as_deref());
        put("state", f.state);
        put("owner", f.owner.as_deref());
        put("target", f.target.as_deref());
        put("tag", f.tag.as_deref());
        put("sort", (f.sort != "task").then_some(f.sort));
        put("order", f.desc.then_some("desc"));
        let offset = f.offset.to_string();
        put("offset", (f.offset != 0).then_some(offset.as_str()));
        let limit = f.limit.to_string();
        put(
            "limit",
            (f.limit != DEFAULT_LIMIT).then_some(limit.as_str()),
        );
        parts.join("&")
    }
}

/// Percent-encodes a query string value.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
