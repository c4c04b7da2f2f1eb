//! What the ZooKeeper leader has provably seen of a session: the evidence
//! behind the session deadline.
//!
//! # Why an answer is not enough
//! The leader alone expires sessions. A server answers a client's request
//! or ping itself and notes the session as touched; a follower passes its
//! touches on to the leader only in its replies to the leader's pings,
//! which the leader sends every `tickTime / 2`. A follower cut off from its
//! leader keeps answering reads and pings for up to
//! `syncLimit × tickTime` while the leader, hearing nothing, expires the
//! session. So an answer proves only that *the server that answered* saw
//! the session; and even a write, which the leader commits, does not touch
//! the session at the leader (the leader only checks that it is not
//! expired yet).
//!
//! # What proves a touch reached the leader
//! Three answers in a chain, all on the same connection:
//!
//! 1. any request `r` answered at `a` (the server noted the touch before
//!    answering);
//! 2. a write `m` (committed by the leader with a quorum) sent at
//!    `s_m ≥ a + P`, where `P` bounds the leader's ping interval: the
//!    leader queued a ping in `[a, s_m]`, before it handled `m`, so on the
//!    one ordered stream from leader to follower the ping came first, and
//!    the follower replied with its touches (ours included) before it
//!    answered `m`;
//! 3. a write or a `sync` `n` sent after `m` was answered: that ping reply
//!    went up the ordered stream from follower to leader before `n`, so the
//!    leader applied the touch before it handled `n`. `n` succeeding shows
//!    the session was not expired then (a write is refused, and a `sync`
//!    is answered after the session's closing, which ends the
//!    connection), so the touch extended it to at least the touch's time
//!    plus the timeout; and the touch came after `r` was *sent*.
//!
//! So when `n` is answered, every request answered at or before `s_m − P`
//! is proven: the session lives at least until the latest send time among
//! them plus the session timeout. If another leader took over, it was
//! elected after `m`'s quorum acknowledged it, and a new leader gives
//! every session a full timeout from its start: still later. That is why
//! `m` must be a write: an old leader cut off with a minority of the
//! ensemble answers `sync`s (they need no quorum) for up to
//! `syncLimit × tickTime` after a new leader took over. A session's
//! creation is committed by the leader like a write, so the start of the
//! connect attempt is proven from the beginning.
//!
//! Assumes ZooKeeper's default `localSessionsEnabled=false` (local sessions
//! are tracked by the server the client is connected to).

use std::collections::VecDeque;
use std::time::Duration;

use tenure_core::SessionId;
use tokio::time::Instant;

/// Who provably saw a request once it was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The server that answered (a read).
    Server,
    /// The leader, which ordered it after everything the server sent it
    /// before (a `sync`).
    Leader,
    /// The leader and a quorum, which committed it (a write, answered
    /// with success or with the leader's refusal).
    Quorum,
}

/// How many writes are kept as candidates for `m`: older ones are dropped
/// (which can only make the proof later, never wrong).
const WRITES_KEPT: usize = 8;

/// Answers within the ping bound divided by this of the first of them are
/// noted as one (answered at the latest answer time, sent at the latest
/// send time): the proof loses at most that much precision.
pub(crate) const TOUCH_GRAIN: u32 = 64;

/// How many answered requests wait to be proven at most; past that (no
/// proof for a long while), the oldest are forgotten, which can only make
/// the proof later.
const TOUCHES_KEPT: usize = 4 * TOUCH_GRAIN as usize;

/// Requests answered within one grain.
#[derive(Clone, Copy, Debug)]
struct Touch {
    /// When the first of them was answered.
    first: Instant,
    /// When the last of them was answered.
    answered: Instant,
    /// The latest send time among every request answered by then.
    sent: Instant,
}

/// The evidence of one session.
#[derive(Debug)]
pub(crate) struct Proof {
    session: SessionId,
    /// The latest send time proven to have renewed the session at the
    /// leader.
    proven: Instant,
    /// Answered requests not proven yet, in answer order.
    touches: VecDeque<Touch>,
    /// Recent answered writes, in answer order: (sent, answered).
    writes: VecDeque<(Instant, Instant)>,
}

impl Proof {
    /// The evidence of a session whose creation was asked for at `started`.
    pub(crate) fn new(session: SessionId, started: Instant) -> Proof {
        Proof {
            session,
            proven: started,
            touches: VecDeque::new(),
            writes: VecDeque::new(),
        }
    }

    /// The session this evidence is about.
    pub(crate) fn session(&self) -> SessionId {
        self.session
    }

    /// The latest send time proven to have renewed the session at the
    /// leader: the session lives at least until this plus its timeout.
    pub(crate) fn proven(&self) -> Instant {
        self.proven
    }

    /// A request sent at `sent` was answered by the server at `at`, and
    /// `reach` says who saw it. `ping` bounds the leader's ping interval.
    /// Answers must be noted in the order they came (`at` never
    /// decreasing; a smaller one is taken as the last one noted).
    pub(crate) fn answered(&mut self, sent: Instant, at: Instant, reach: Reach, ping: Duration) {
        match self.touches.back_mut() {
            Some(last) if at <= last.first + ping / TOUCH_GRAIN => {
                last.answered = last.answered.max(at);
                last.sent = last.sent.max(sent);
            }
            last => {
                let touch = match last {
                    Some(last) => Touch {
                        first: at.max(last.answered),
                        answered: at.max(last.answered),
                        sent: sent.max(last.sent),
                    },
                    None => Touch {
                        first: at,
                        answered: at,
                        sent,
                    },
                };
                if self.touches.len() >= TOUCHES_KEPT {
                    self.touches.pop_front();
                }
                self.touches.push_back(touch);
            }
        }
        if reach == Reach::Server {
            return;
        }
        // `m`: the latest write answered before this request was sent.
        if let Some(&(m_sent, _)) = self.writes.iter().rev().find(|(_, a)| *a < sent)
            && let Some(cutoff) = m_sent.checked_sub(ping)
        {
            self.prove_answered_by(cutoff);
        }
        if reach == Reach::Quorum {
            if self.writes.len() >= WRITES_KEPT {
                self.writes.pop_front();
            }
            self.writes.push_back((sent, at));
        }
    }

    /// Every request answered at or before `cutoff` is proven.
    fn prove_answered_by(&mut self, cutoff: Instant) {
        while let Some(touch) = self.touches.front() {
            if touch.answered > cutoff {
                break;
            }
            self.proven = self.proven.max(touch.sent);
            self.touches.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Duration = Duration::from_millis(50);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn answers_alone_prove_nothing_beyond_the_session_start() {
        let t0 = Instant::now();
        let mut p = Proof::new(SessionId(1), t0);
        for i in 1..20 {
            p.answered(t0 + ms(i * 10), t0 + ms(i * 10 + 1), Reach::Server, P);
        }
        assert_eq!(p.proven(), t0);
    }

    #[test]
    fn a_write_after_a_write_proves_what_was_answered_a_ping_before_the_first() {
        let t0 = Instant::now();
        let mut p = Proof::new(SessionId(1), t0);
        p.answered(t0 + ms(100), t0 + ms(101), Reach::Server, P); // read r
        p.answered(t0 + ms(140), t0 + ms(141), Reach::Server, P); // read, too late for m
        p.answered(t0 + ms(160), t0 + ms(162), Reach::Quorum, P); // m: cutoff 110
        assert_eq!(p.proven(), t0, "m alone proves nothing");
        p.answered(t0 + ms(170), t0 + ms(172), Reach::Quorum, P); // n
        assert_eq!(p.proven(), t0 + ms(100));
        // The next write proves what was answered by 170 − 50 = 120 only.
        p.answered(t0 + ms(200), t0 + ms(201), Reach::Quorum, P);
        assert_eq!(p.proven(), t0 + ms(100));
        // And then by 200 − 50 = 150: the second read.
        p.answered(t0 + ms(230), t0 + ms(231), Reach::Quorum, P);
        assert_eq!(p.proven(), t0 + ms(140));
    }

    #[test]
    fn a_write_sent_before_the_previous_one_was_answered_is_no_chain() {
        let t0 = Instant::now();
        let mut p = Proof::new(SessionId(1), t0);
        p.answered(t0 + ms(100), t0 + ms(101), Reach::Server, P);
        p.answered(t0 + ms(200), t0 + ms(250), Reach::Quorum, P); // m, answered at 250
        p.answered(t0 + ms(240), t0 + ms(260), Reach::Quorum, P); // sent before 250
        assert_eq!(p.proven(), t0);
        // After both: m is the one answered last (sent 240, cutoff 190).
        p.answered(t0 + ms(270), t0 + ms(271), Reach::Quorum, P);
        assert_eq!(p.proven(), t0 + ms(100));
    }

    #[test]
    fn a_sync_closes_a_chain_but_never_opens_one() {
        let t0 = Instant::now();
        let mut p = Proof::new(SessionId(1), t0);
        p.answered(t0 + ms(100), t0 + ms(101), Reach::Server, P);
        p.answered(t0 + ms(160), t0 + ms(161), Reach::Leader, P); // no m: a sync
        p.answered(t0 + ms(170), t0 + ms(171), Reach::Leader, P);
        assert_eq!(p.proven(), t0);
        p.answered(t0 + ms(180), t0 + ms(182), Reach::Quorum, P); // m, cutoff 130
        p.answered(t0 + ms(183), t0 + ms(184), Reach::Leader, P); // n
        assert_eq!(p.proven(), t0 + ms(100));
    }

    #[test]
    fn the_proof_never_goes_back() {
        let t0 = Instant::now();
        let mut p = Proof::new(SessionId(1), t0 + ms(500));
        p.answered(t0 + ms(100), t0 + ms(101), Reach::Server, P);
        p.answered(t0 + ms(200), t0 + ms(201), Reach::Quorum, P);
        p.answered(t0 + ms(210), t0 + ms(211), Reach::Quorum, P);
        assert_eq!(p.proven(), t0 + ms(500));
    }

    #[test]
    fn many_answers_keep_bounded_memory_and_stay_conservative() {
        let t0 = Instant::now();
        let mut p = Proof::new(SessionId(1), t0);
        for i in 0..10_000u64 {
            let at = t0 + Duration::from_micros(i * 10);
            p.answered(at, at, Reach::Server, P);
        }
        assert!(p.touches.len() <= 100_000 / (50_000 / TOUCH_GRAIN as usize) + 1);
        let w = t0 + ms(200);
        p.answered(w, w + ms(1), Reach::Quorum, P);
        p.answered(w + ms(2), w + ms(3), Reach::Quorum, P);
        // Everything answered by 150 ms is proven, nothing later.
        assert_eq!(p.proven(), t0 + Duration::from_micros(99_990));
        // A long stretch without proofs forgets the oldest answers only.
        for i in 0..100_000u64 {
            let at = w + ms(10 + i);
            p.answered(at, at, Reach::Server, P);
        }
        assert_eq!(p.touches.len(), TOUCHES_KEPT);
        let last = w + ms(10 + 99_999);
        p.answered(last + ms(100), last + ms(101), Reach::Quorum, P);
        p.answered(last + ms(102), last + ms(103), Reach::Quorum, P);
        assert_eq!(p.proven(), last);
    }
}
