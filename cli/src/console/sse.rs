//! `GET /api/events/stream`: server-sent events. Each ownership event is
//! an `ownership` event whose data is the JSON of `GET /api/events` (the
//! `tenure watch --json` event plus `seq` and `reason`), with `id` = `seq`;
//! a `gap` event marks where events may be missing; a `session` event
//! tells the connection state (first, and on every change); `lagged` says
//! how many events a slow reader missed. A reconnecting browser sends
//! `Last-Event-ID` and gets what it missed (as far as the history keeps).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use serde_json::json;
use tenure_core::SessionState;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::error::ApiError;
use super::hub::Entry;
use super::snapshot::describe;
use super::state::Shared;
use crate::output::schema::SCHEMA;

/// The most entries replayed to a stream that starts after a given `seq`.
const REPLAY: usize = 10_000;

/// The query of the stream.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StreamQuery {
    /// Replay the kept entries after this `seq` first.
    pub after: Option<u64>,
}

struct Follow {
    replay: VecDeque<Arc<Entry>>,
    rx: broadcast::Receiver<Arc<Entry>>,
    last: u64,
    session: watch::Receiver<SessionState>,
    session_told: bool,
    backend: &'static str,
    shutdown: CancellationToken,
}

/// `GET /api/events/stream`.
pub async fn stream(
    State(c): State<Shared>,
    headers: HeaderMap,
    query: Result<Query<StreamQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Query(q) = query?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let after = resume.or(q.after);
    // Subscribe first, so nothing falls between the replay and the live
    // entries; duplicates are skipped by `seq`.
    let rx = c.hub.subscribe();
    let replay: VecDeque<Arc<Entry>> = match after {
        Some(seq) => c.hub.after(Some(seq), REPLAY).into(),
        None => VecDeque::new(),
    };
    let follow = Follow {
        replay,
        rx,
        last: after.unwrap_or_else(|| c.hub.last_seq()),
        session: c.admin.store().session_events(),
        session_told: false,
        backend: c.backend,
        shutdown: c.shutdown.clone(),
    };
    let events = futures::stream::unfold(follow, |mut f| async move {
        let event = f.next().await?;
        Some((Ok(event), f))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

impl Follow {
    async fn next(&mut self) -> Option<Event> {
        if !self.session_told {
            self.session_told = true;
            return Some(self.session_event().retry(Duration::from_secs(1)));
        }
        if let Some(e) = self.replay.pop_front() {
            self.last = self.last.max(e.seq());
            return Some(entry_event(&e));
        }
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => return None,
                received = self.rx.recv() => match received {
                    Ok(e) if e.seq() <= self.last => {}
                    Ok(e) => {
                        self.last = e.seq();
                        return Some(entry_event(&e));
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        let data = json!({"schema": SCHEMA, "type": "lagged", "missed": missed});
                        return Some(Event::default().event("lagged").data(data.to_string()));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                changed = self.session.changed() => {
                    changed.ok()?;
                    return Some(self.session_event());
                }
            }
        }
    }

    fn session_event(&mut self) -> Event {
        let state = *self.session.borrow_and_update();
        let connected = matches!(state, SessionState::Connected(_));
        let data = json!({
            "schema": SCHEMA,
            "type": "session",
            "connected": connected,
            "detail": describe(self.backend, state),
        });
        Event::default().event("session").data(data.to_string())
    }
}

fn entry_event(e: &Entry) -> Event {
    let name = match e {
        Entry::Event(_) => "ownership",
        Entry::Gap(_) => "gap",
    };
    let data = serde_json::to_string(e).unwrap_or_else(|_| "{}".into());
    Event::default()
        .event(name)
        .id(e.seq().to_string())
        .data(data)
}
