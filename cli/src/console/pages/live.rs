//! The Live page: ownership events, newest first, as they happen (the
//! script follows `/api/events/stream` from the newest event shown).

use std::fmt::Write;

use axum::extract::State;
use axum::response::Response;

use super::ok;
use crate::console::html::clock;
use crate::console::html::{Nav, escape, page, problem_text};
use crate::console::hub::Entry;
use crate::console::state::Shared;

/// Events shown when the page opens.
const SHOWN: usize = 200;

/// `GET /live`.
pub async fn page_handler(State(c): State<Shared>) -> Response {
    let view = c.snapshots.view().await;
    let problem = view
        .problem
        .as_ref()
        .map(|p| problem_text(p, view.snapshot.as_ref().map(|s| s.read_ms)));
    let entries = c.hub.after(None, SHOWN);
    let after = entries.last().map_or(0, |e| e.seq());
    let mut rows = String::new();
    for e in entries.iter().rev() {
        rows.push_str(&row(e));
    }
    let body = format!(
        r#"<p class="hint">Ownership events as this console sees them, newest first. A worker that fences itself (its connection was lost) shows as <b>lost</b> and <b>taken-over</b> when its session ended, or <b>renewed</b> when it came back in time.</p>
<table id="events" data-after="{after}"><thead><tr><th>time (UTC)</th><th>change</th><th>task</th><th>worker</th><th>token</th><th>from</th><th>reason</th></tr></thead><tbody>{rows}</tbody></table>"#
    );
    ok(page(&c, Nav::Live, "Live", problem, &body))
}

/// One entry as a table row (the script builds the same for new ones).
fn row(e: &Entry) -> String {
    let mut out = String::new();
    match e {
        Entry::Event(e) => {
            let ev = &e.event;
            let _ = write!(
                out,
                r#"<tr class="event {change}" data-seq="{}" data-task="{task}"><td>{}</td><td class="change">{change}</td><td>{task}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                e.seq,
                clock(ev.at_ms),
                escape(&ev.worker),
                ev.token,
                escape(ev.from.as_deref().unwrap_or("")),
                escape(&e.reason),
                change = ev.change,
                task = escape(&ev.task),
            );
        }
        Entry::Gap(g) => {
            let _ = write!(
                out,
                r#"<tr class="gap" data-seq="{}"><td>{}</td><td class="change">gap</td><td colspan="5">{}</td></tr>"#,
                g.seq,
                clock(g.to_ms),
                escape(&g.detail)
            );
        }
    }
    out
}
