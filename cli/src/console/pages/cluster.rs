//! The Cluster page: every live worker, and the tasks one page at a time
//! with filters and sorting; operations when writes are enabled.

use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::{ok, refused};
use crate::console::html::{Nav, escape, page, problem_text, state_marker};
use crate::console::query::{Filter, STATES, Shown, TaskQuery};
use crate::console::snapshot::View;
use crate::console::state::{Console, Shared};
use crate::output::schema::TaskJson;
use crate::output::table::ago;

/// `GET /`.
pub async fn page_handler(
    State(c): State<Shared>,
    query: Result<Query<TaskQuery>, QueryRejection>,
) -> Response {
    let filter = match query.map_err(Into::into).and_then(|Query(q)| q.check()) {
        Ok(f) => f,
        Err(e) => return refused(&c, Nav::Cluster, e),
    };
    let view = c.snapshots.view().await;
    let problem = view
        .problem
        .as_ref()
        .map(|p| problem_text(p, view.snapshot.as_ref().map(|s| s.read_ms)));
    let body = format!(
        r#"{form}{ops}<div id="rows" data-src="/cluster/rows?{qs}">{rows}</div>"#,
        form = filter_form(&filter),
        ops = if c.auth.writable() { task_form() } else { "" },
        qs = escape(&filter.query_string(|_| {})),
        rows = fragment(&c, &filter, &view),
    );
    ok(page(&c, Nav::Cluster, "Cluster", problem, &body))
}

/// `GET /cluster/rows`: the part of the page the script refreshes.
pub async fn rows_handler(
    State(c): State<Shared>,
    query: Result<Query<TaskQuery>, QueryRejection>,
) -> Response {
    let filter = match query.map_err(Into::into).and_then(|Query(q)| q.check()) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let view = c.snapshots.view().await;
    let status = if view.problem.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, Html(fragment(&c, &filter, &view))).into_response()
}

fn filter_form(f: &Filter) -> String {
    let value = |v: &Option<String>| escape(v.as_deref().unwrap_or(""));
    let mut states = String::from(r#"<option value="">any state</option>"#);
    for s in STATES {
        let selected = if f.state == Some(s) { " selected" } else { "" };
        let _ = write!(states, r#"<option{selected}>{s}</option>"#);
    }
    format!(
        r#"<form id="filter" class="bar" method="get" action="/">
<input name="q" placeholder="task name contains" value="{q}">
<select name="state">{states}</select>
<input name="owner" placeholder="owner (- for none)" value="{owner}">
<input name="target" placeholder="target (- for none)" value="{target}">
<input name="tag" placeholder="tag" value="{tag}">
<input type="hidden" name="sort" value="{sort}">
<input type="hidden" name="order" value="{order}">
<button>filter</button> <a href="/">clear</a>
</form>
"#,
        q = value(&f.q),
        owner = value(&f.owner),
        target = value(&f.target),
        tag = value(&f.tag),
        sort = f.sort,
        order = if f.desc { "desc" } else { "asc" },
    )
}

fn task_form() -> &'static str {
    r#"<form id="task-form" class="bar">
<input name="name" placeholder="task name" required>
<input name="payload" placeholder="payload (text; empty keeps it on update)">
<input name="weight" placeholder="weight" size="6">
<input name="tags" placeholder="tags, comma-separated">
<input name="pin" placeholder="pin to worker">
<button type="submit" data-form-op="add">add</button>
<button type="submit" data-form-op="update">update</button>
</form>
"#
}

/// Workers and one page of tasks, with the connection state.
pub fn fragment(c: &Console, f: &Filter, view: &View) -> String {
    let read_ms = view.snapshot.as_ref().map(|s| s.read_ms);
    let problem = view.problem.as_ref().map(|p| problem_text(p, read_ms));
    let mut out = state_marker(problem.as_deref(), read_ms);
    let Some(snapshot) = &view.snapshot else {
        out.push_str(r#"<p class="empty">no status read yet</p>"#);
        return out;
    };
    let status = &snapshot.status;
    let leader = status.leader.as_ref().map(|l| l.worker.as_str());
    let _ = write!(
        out,
        r#"<section><h2>Workers ({})</h2><table id="workers"><thead><tr><th>worker</th><th>capacity</th><th>tags</th><th>tasks held</th><th>joined</th><th>leader</th></tr></thead><tbody>"#,
        status.workers.len()
    );
    for w in &status.workers {
        let is_leader = leader == Some(w.worker.as_str());
        let _ = write!(
            out,
            r#"<tr data-worker="{name}"><td>{name}</td><td>{}</td><td>{}</td><td class="held">{}</td><td>{} ago</td><td>{}</td></tr>"#,
            w.capacity,
            escape(&join(w.tags.iter())),
            w.owned,
            ago(w.since_ms),
            if is_leader { "★ leader" } else { "" },
            name = escape(w.worker.as_str()),
        );
    }
    out.push_str("</tbody></table></section>");
    let page = f.page(&status.tasks);
    let first = if page.rows.is_empty() {
        0
    } else {
        f.offset + 1
    };
    let _ = write!(
        out,
        r#"<section><h2>Tasks <span class="count">{first}–{} of {} matching, {} in the cluster</span></h2>{}"#,
        f.offset + page.rows.len(),
        page.matched,
        page.total,
        pager(f, page.matched)
    );
    out.push_str(r#"<table id="tasks"><thead><tr>"#);
    for (key, label) in [
        ("task", "task"),
        ("state", "state"),
        ("owner", "owner"),
        ("token", "token"),
        ("target", "target"),
        ("since", "claimed"),
        ("weight", "weight"),
    ] {
        let desc = f.sort == key && !f.desc;
        let arrow = match (f.sort == key, f.desc) {
            (true, false) => " ▲",
            (true, true) => " ▼",
            _ => "",
        };
        let href = f.query_string(|f| {
            f.sort = crate::console::query::SORT_KEYS
                .into_iter()
                .find(|k| *k == key)
                .unwrap_or("task");
            f.desc = desc;
            f.offset = 0;
        });
        let _ = write!(
            out,
            r#"<th><a href="/?{}">{label}{arrow}</a></th>"#,
            escape(&href)
        );
    }
    out.push_str("<th>tags</th>");
    if c.auth.writable() {
        out.push_str("<th>operations</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for t in &page.rows {
        let shown = Shown::of(t).name();
        let j = TaskJson::from(*t);
        let name = escape(&j.task);
        let _ = write!(
            out,
            r#"<tr data-task="{name}" data-state="{shown}" data-owner="{owner}"><td>{name}</td><td class="state {shown}">{shown}</td><td class="owner">{owner}</td><td>{token}</td><td>{target}</td><td>{since}</td><td>{weight}</td><td>{tags}</td>"#,
            owner = escape(j.owner.as_deref().unwrap_or("")),
            token = j.token.map(|t| t.to_string()).unwrap_or_default(),
            target = escape(j.target.as_deref().unwrap_or("")),
            since = j
                .since_ms
                .map(|ms| format!("{} ago", ago(ms)))
                .unwrap_or_default(),
            weight = j.weight,
            tags = escape(&join(j.tags.iter())),
        );
        if c.auth.writable() {
            let toggle = if shown == "paused" { "resume" } else { "pause" };
            let _ = write!(
                out,
                r#"<td class="ops"><button data-op="{toggle}" data-task="{name}">{toggle}</button> <button data-op="edit" data-task="{name}" data-weight="{}" data-tags="{}" data-pin="{}">edit</button> <button data-op="remove" data-task="{name}">remove</button></td>"#,
                j.weight,
                escape(&j.tags.join(",")),
                escape(j.pinned.as_deref().unwrap_or("")),
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></section>");
    out
}

fn join<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items.map(String::as_str).collect::<Vec<_>>().join(",")
}

/// Links to the previous and next pages.
fn pager(f: &Filter, matched: usize) -> String {
    let mut out = String::from(r#"<span class="pager">"#);
    if f.offset > 0 {
        let prev = f.query_string(|f| f.offset = f.offset.saturating_sub(f.limit));
        let _ = write!(
            out,
            r#"<a rel="prev" href="/?{}">← previous</a> "#,
            escape(&prev)
        );
    }
    if f.offset + f.limit < matched {
        let next = f.query_string(|f| f.offset += f.limit);
        let _ = write!(
            out,
            r#"<a rel="next" href="/?{}">next →</a>"#,
            escape(&next)
        );
    }
    out.push_str("</span>");
    out
}
