//! Leader election through the store, and the leader's loop.
//!
//! Every worker campaigns: the one that creates the ephemeral `leader` node
//! leads; the others watch that node (reading it, never retrying the
//! create while it exists) and try again when it goes. A new
//! leader increments the `term` counter by compare-and-set and checks the
//! counter's version in every write it makes, so a deposed leader (whose
//! session ended while it was still computing) can never overwrite the
//! targets of its successor. A term that does not decode is not guessed:
//! the elected worker tells it and keeps the `leader` node without leading
//! (the others keep waiting), reading the term again every heartbeat until
//! it is repaired.

mod ages;
pub(crate) mod drained;
mod plan;
mod publish;
mod settle;
mod standby;
mod tasks;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::error::{Error, Result};
use crate::runtime::events::{WorkerEvent, WorkerEventKind};
use crate::runtime::malformed::Malformed;
use crate::runtime::member::Member;
use crate::runtime::records::{LeaderRecord, Record, decode_term};
use crate::store::{CreateMode, SessionId, SessionState, Version};
use crate::strategy::Strategy;

use plan::LeaderState;

/// Campaigns for leadership as `member` until `stop`, leading with
/// `strategy` whenever elected.
pub(crate) async fn campaign(
    member: Arc<Member>,
    strategy: Arc<dyn Strategy>,
    stop: CancellationToken,
) {
    let mut events = member.store.session_events();
    while !stop.is_cancelled() {
        let state = *events.borrow_and_update();
        let session = match state {
            SessionState::Connected(s) => s,
            SessionState::Closed => return,
            _ => {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    r = events.changed() => if r.is_err() { return },
                }
                continue;
            }
        };
        if let Err(e) = elect(&member, &strategy, session, &stop).await {
            debug!(error = %e, "election attempt failed; retrying");
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    }
}

/// One election attempt: read the `leader` node (arming a watch); while
/// another session holds it, wait for it to change (or the session to
/// change, or the slow re-read timer in case the watch event was lost) and
/// return; when it is absent, create it and lead.
async fn elect(
    member: &Member,
    strategy: &Arc<dyn Strategy>,
    session: SessionId,
    stop: &CancellationToken,
) -> Result<()> {
    let path = member.layout.leader();
    let mut events = member.store.session_events();
    events.borrow_and_update();
    let (node, watch) = member.store.get_and_watch(path).await?;
    match node {
        Some(n) if n.ephemeral_owner == Some(session) => {}
        Some(_) => {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = watch => {}
                _ = events.changed() => {}
                _ = tokio::time::sleep(member.timing.leader_resync) => {}
            }
            return Ok(());
        }
        None => {
            let record = LeaderRecord {
                worker: member.id.clone(),
                session: session.0,
                term: 0,
            };
            match member
                .store
                .create(path, &record.encode()?, CreateMode::Ephemeral(session))
                .await
            {
                Ok(_) => {}
                // Someone else won: wait on the node in the next attempt.
                Err(Error::AlreadyExists { .. }) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
    let result = lead(member, strategy, session, stop).await;
    resign(member, session).await;
    result
}

async fn resign(member: &Member, session: SessionId) {
    let path = member.layout.leader();
    if let Ok(Some(n)) = member.store.get(path).await
        && n.ephemeral_owner == Some(session)
    {
        let _ = member.store.delete(path, Some(n.version)).await;
    }
}

/// Starts the next term: the term counter moves by compare-and-set.
async fn next_term(member: &Member) -> Result<(u64, Version)> {
    let term_path = member.layout.term();
    let node = member
        .store
        .get(term_path)
        .await?
        .ok_or_else(|| Error::NotFound {
            path: term_path.clone(),
        })?;
    let term = decode_term(term_path, &node.data)?
        .checked_add(1)
        .ok_or_else(|| Error::MalformedRecord {
            path: term_path.clone(),
            record: crate::runtime::records::TERM,
            problem: "the term is at the largest number: no next term exists".into(),
        })?;
    let term_version = member
        .store
        .set(term_path, term.to_string().as_bytes(), Some(node.version))
        .await?;
    Ok((term, term_version))
}

async fn lead(
    member: &Member,
    strategy: &Arc<dyn Strategy>,
    session: SessionId,
    stop: &CancellationToken,
) -> Result<()> {
    let term_path = member.layout.term();
    let mut events = member.store.session_events();
    events.borrow_and_update();
    let mut told = Malformed::default();
    let (term, term_version) = loop {
        match next_term(member).await {
            Ok(next) => break next,
            Err(e) if told.report(&member.events, &e) => {
                tokio::select! {
                    _ = stop.cancelled() => return Ok(()),
                    _ = events.changed() => return Ok(()),
                    _ = tokio::time::sleep(member.timing.heartbeat) => {}
                }
            }
            Err(e) => return Err(e),
        }
    };
    let record = LeaderRecord {
        worker: member.id.clone(),
        session: session.0,
        term,
    };
    member
        .store
        .set(member.layout.leader(), &record.encode()?, None)
        .await?;
    info!(term, "leading");
    let _ = member
        .events
        .send(WorkerEvent::now(WorkerEventKind::Leading { term }));
    let _lost = LeadershipEnds { member, term };
    let mut state = LeaderState::new(
        term,
        term_version,
        member.timing.leader_resync,
        strategy.clone(),
    );
    let mut backoff = crate::backoff::requests(Duration::from_secs(1), member.id.as_str());
    loop {
        if stop.is_cancelled() || member.store.session_state() != SessionState::Connected(session) {
            return Ok(());
        }
        let began = tokio::time::Instant::now();
        let round = state.round(member).await;
        crate::metrics::leader_round(round.is_ok(), began.elapsed());
        match round {
            Ok(()) => backoff.reset(),
            Err(Error::VersionConflict { path }) if path == term_path.as_str() => {
                info!(term, "deposed: a newer leader exists");
                return Ok(());
            }
            Err(e) => {
                debug!(error = %e, "leader round failed; retrying");
                state.invalidate();
                let pause = backoff.next_pause();
                tokio::select! {
                    _ = stop.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(pause) => {}
                }
                continue;
            }
        }
        events.borrow_and_update();
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = events.changed() => {}
            _ = state.changed() => {}
        }
        tokio::time::sleep(member.timing.debounce).await;
    }
}

/// Tells [`WorkerEventKind::LeadershipLost`] when a term this worker led
/// ends, however `lead` returns (or is dropped).
struct LeadershipEnds<'a> {
    member: &'a Member,
    term: u64,
}

impl Drop for LeadershipEnds<'_> {
    fn drop(&mut self) {
        let term = self.term;
        info!(term, "no longer leading");
        let _ = self
            .member
            .events
            .send(WorkerEvent::now(WorkerEventKind::LeadershipLost { term }));
    }
}
