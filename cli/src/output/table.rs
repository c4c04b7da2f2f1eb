//! The text forms of listings: aligned tables and event lines.

use std::time::{Duration, SystemTime};

use tenure_core::OwnershipEvent;
use tenure_core::{ClusterStatus, TaskStatus};

use crate::duration::human;
use crate::output::schema::{change_name, millis, state_name};

/// Columns padded to their widest cell, two spaces apart.
pub fn render(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".to_owned())
}

fn tags(tags: &std::collections::BTreeSet<String>) -> String {
    if tags.is_empty() {
        "-".to_owned()
    } else {
        tags.iter().cloned().collect::<Vec<_>>().join(",")
    }
}

/// How long ago `at_ms` (milliseconds since the Unix epoch) was.
pub fn ago(at_ms: u64) -> String {
    let now = millis(SystemTime::now());
    human(Duration::from_millis(now.saturating_sub(at_ms)))
}

/// The task table of `tenure tasks ls`.
pub fn tasks(tasks: &[TaskStatus]) -> String {
    let rows = tasks
        .iter()
        .map(|t| {
            vec![
                t.task.to_string(),
                state_name(t.state).to_owned(),
                or_dash(t.owner.as_ref().map(|o| o.worker.to_string())),
                or_dash(t.owner.as_ref().map(|o| o.token.to_string())),
                t.weight.to_string(),
                tags(&t.tags),
                or_dash(t.pinned.as_ref().map(ToString::to_string)),
                format!("{}B", t.payload_bytes),
            ]
        })
        .collect();
    render(
        &[
            "TASK", "STATE", "OWNER", "TOKEN", "WEIGHT", "TAGS", "PINNED", "PAYLOAD",
        ],
        rows,
    )
}

/// The worker table of `tenure workers ls`.
pub fn workers(status: &ClusterStatus) -> String {
    let leader = status.leader.as_ref().map(|l| &l.worker);
    let rows = status
        .workers
        .iter()
        .map(|w| {
            vec![
                w.worker.to_string(),
                w.capacity.to_string(),
                tags(&w.tags),
                w.owned.to_string(),
                if leader == Some(&w.worker) {
                    "yes"
                } else {
                    "-"
                }
                .to_owned(),
                if w.drained { "yes" } else { "-" }.to_owned(),
                format!("{:#x}", w.session),
                ago(w.since_ms),
            ]
        })
        .collect();
    render(
        &[
            "WORKER", "CAPACITY", "TAGS", "OWNED", "LEADER", "DRAINED", "SESSION", "UP",
        ],
        rows,
    )
}

/// The summary line and task table of `tenure status`.
pub fn status(cluster: &str, status: &ClusterStatus) -> String {
    let leader = match &status.leader {
        Some(l) => format!("leader {} (term {})", l.worker, l.term),
        None => "no leader".to_owned(),
    };
    let drained: Vec<&str> = status
        .workers
        .iter()
        .filter(|w| w.drained)
        .map(|w| w.worker.as_str())
        .collect();
    let drained = if drained.is_empty() {
        String::new()
    } else {
        format!(" ({} drained: {})", drained.len(), drained.join(", "))
    };
    let mut out = format!(
        "cluster {cluster}: {leader}, {} worker{}{drained}, {} task{}\n",
        status.workers.len(),
        plural(status.workers.len()),
        status.tasks.len(),
        plural(status.tasks.len()),
    );
    let rows = status
        .tasks
        .iter()
        .map(|t| {
            vec![
                t.task.to_string(),
                state_name(t.state).to_owned(),
                or_dash(t.owner.as_ref().map(|o| o.worker.to_string())),
                or_dash(t.owner.as_ref().map(|o| o.token.to_string())),
                or_dash(t.target.as_ref().map(ToString::to_string)),
                or_dash(t.owner.as_ref().map(|o| ago(o.since_ms))),
            ]
        })
        .collect();
    out.push_str(&render(
        &["TASK", "STATE", "OWNER", "TOKEN", "TARGET", "SINCE"],
        rows,
    ));
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One line of the event log of `tenure watch`.
pub fn event(e: &OwnershipEvent) -> String {
    let (change, from) = change_name(&e.change);
    let from = from.map(|f| format!(" from {f}")).unwrap_or_default();
    format!(
        "{}  {}  {change} by {}  token {}{from}",
        clock(millis(e.at)),
        e.task,
        e.worker,
        e.token
    )
}

/// `hh:mm:ss.mmm` in UTC.
fn clock(at_ms: u64) -> String {
    let ms = at_ms % 1000;
    let s = (at_ms / 1000) % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{ms:03}Z",
        s / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell() {
        let text = render(
            &["A", "BB"],
            vec![
                vec!["long-name".into(), "x".into()],
                vec!["s".into(), "y".into()],
            ],
        );
        assert_eq!(text, "A          BB\nlong-name  x\ns          y\n");
    }

    #[test]
    fn clock_is_utc_time_of_day() {
        assert_eq!(clock(86_400_000 + 3_723_045), "01:02:03.045Z");
    }
}
