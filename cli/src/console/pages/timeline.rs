//! The Timeline page: tasks × time over the last minutes, as SVG; the
//! script fetches `/timeline.svg` again every few seconds.

use std::fmt::Write;
use std::time::SystemTime;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{ok, refused};
use crate::console::error::ApiError;
use crate::console::html::{Nav, escape, page, problem_text};
use crate::console::query::{Filter, TaskQuery};
use crate::console::state::{Console, Shared};
use crate::console::svg;
use crate::console::timeline::{self, Gap, Row, Window};
use crate::output::schema::{SCHEMA, millis};

/// Minutes shown unless `minutes` says otherwise.
pub const DEFAULT_MINUTES: u64 = 15;
/// The most minutes shown.
pub const MAX_MINUTES: u64 = 24 * 60;

/// The timeline's query: the task filters, and the minutes to show.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TimelineQuery {
    /// The last N minutes.
    pub minutes: Option<String>,
    /// Which tasks.
    #[serde(flatten)]
    pub tasks: TaskQuery,
}

/// `GET /api/timeline`.
#[derive(Debug, Serialize)]
pub struct TimelineDoc {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The cluster's name.
    pub cluster: String,
    /// The window's start, in milliseconds since the Unix epoch.
    pub from_ms: u64,
    /// Its end (when the request was served).
    pub to_ms: u64,
    /// Since when the console's history is complete: earlier, only the
    /// current owners' claims are known.
    pub known_from_ms: u64,
    /// Tasks in the cluster.
    pub total: usize,
    /// Tasks the filter kept.
    pub matched: usize,
    /// Rows skipped.
    pub offset: usize,
    /// Rows at most.
    pub limit: usize,
    /// Where events may be missing.
    pub gaps: Vec<Gap>,
    /// One row per task of this page.
    pub rows: Vec<Row>,
}

impl TimelineQuery {
    fn check(&self) -> Result<(u64, Filter), ApiError> {
        let minutes = match self
            .minutes
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            None => DEFAULT_MINUTES,
            Some(m) => match m.parse::<u64>() {
                Ok(n) if (1..=MAX_MINUTES).contains(&n) => n,
                _ => {
                    return Err(ApiError::Invalid(format!(
                        "minutes must be a whole number from 1 to {MAX_MINUTES}, not {m:?}"
                    )));
                }
            },
        };
        Ok((minutes, self.tasks.check()?))
    }
}

/// The timeline of the tasks `filter` keeps, over the last `minutes`.
///
/// # Errors
/// [`ApiError::Unavailable`] before any status could be read.
pub async fn build(c: &Console, minutes: u64, filter: &Filter) -> Result<TimelineDoc, ApiError> {
    let view = c.snapshots.view().await;
    let Some(snapshot) = view.snapshot else {
        let detail = view.problem.map(|p| p.detail).unwrap_or_default();
        return Err(ApiError::Unavailable(detail));
    };
    let (history, known_from_ms) = c.hub.all();
    let to_ms = millis(SystemTime::now());
    let window = Window {
        from_ms: to_ms.saturating_sub(minutes * 60_000),
        to_ms,
        known_from_ms,
    };
    let page = filter.page(&snapshot.status.tasks);
    Ok(TimelineDoc {
        schema: SCHEMA,
        cluster: c.cluster.clone(),
        from_ms: window.from_ms,
        to_ms,
        known_from_ms,
        total: page.total,
        matched: page.matched,
        offset: filter.offset,
        limit: filter.limit,
        gaps: timeline::gaps(&history, window),
        rows: timeline::rows(&page.rows, &history, window),
    })
}

/// `GET /timeline.svg`.
pub async fn svg_handler(
    State(c): State<Shared>,
    query: Result<Query<TimelineQuery>, QueryRejection>,
) -> Response {
    let result = async {
        let Query(q) = query?;
        let (minutes, filter) = q.check()?;
        let doc = build(&c, minutes, &filter).await?;
        let window = Window {
            from_ms: doc.from_ms,
            to_ms: doc.to_ms,
            known_from_ms: doc.known_from_ms,
        };
        Ok::<_, ApiError>(svg::render(&doc.rows, &doc.gaps, window))
    };
    match result.await {
        Ok(svg) => ([(CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/timeline`.
pub async fn json_handler(
    State(c): State<Shared>,
    query: Result<Query<TimelineQuery>, QueryRejection>,
) -> Result<axum::Json<TimelineDoc>, ApiError> {
    let Query(q) = query?;
    let (minutes, filter) = q.check()?;
    Ok(axum::Json(build(&c, minutes, &filter).await?))
}

/// `GET /timeline`.
pub async fn page_handler(
    State(c): State<Shared>,
    query: Result<Query<TimelineQuery>, QueryRejection>,
) -> Response {
    let checked = query.map_err(ApiError::from).and_then(|Query(q)| q.check());
    let (minutes, filter) = match checked {
        Ok(x) => x,
        Err(e) => return refused(&c, Nav::Timeline, e),
    };
    let view = c.snapshots.view().await;
    let problem = view
        .problem
        .as_ref()
        .map(|p| problem_text(p, view.snapshot.as_ref().map(|s| s.read_ms)));
    let qs = format!("minutes={minutes}&{}", filter.query_string(|_| {}));
    let doc = build(&c, minutes, &filter).await;
    let mut minutes_options = String::new();
    for m in [1, 5, 15, 30, 60, 180] {
        let selected = if m == minutes { " selected" } else { "" };
        let _ = write!(
            minutes_options,
            r#"<option value="{m}"{selected}>last {m} minutes</option>"#
        );
    }
    let (chart, count) = match &doc {
        Ok(doc) => (
            svg::render(
                &doc.rows,
                &doc.gaps,
                Window {
                    from_ms: doc.from_ms,
                    to_ms: doc.to_ms,
                    known_from_ms: doc.known_from_ms,
                },
            ),
            format!(
                "{} of {} matching tasks (rows {}–{})",
                doc.rows.len(),
                doc.matched,
                if doc.rows.is_empty() {
                    0
                } else {
                    doc.offset + 1
                },
                doc.offset + doc.rows.len()
            ),
        ),
        Err(e) => (String::new(), escape(e.message())),
    };
    let value = |v: &Option<String>| escape(v.as_deref().unwrap_or(""));
    let body = format!(
        r#"<form id="filter" class="bar" method="get" action="/timeline">
<select name="minutes">{minutes_options}</select>
<input name="q" placeholder="task name contains" value="{q}">
<input name="owner" placeholder="owner (- for none)" value="{owner}">
<input name="limit" placeholder="rows (max 1000)" size="8" value="{limit}">
<button>show</button>
</form>
<p class="hint">{count}. One colour per worker; red marks: lost and taken over; blue: handed over; grey: claimed, released, renewed. Hover for details.</p>
<div id="timeline" data-src="/timeline.svg?{src}">{chart}</div>"#,
        q = value(&filter.q),
        owner = value(&filter.owner),
        limit = filter.limit,
        src = escape(&qs),
    );
    ok(page(&c, Nav::Timeline, "Timeline", problem, &body))
}
