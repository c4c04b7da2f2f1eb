//! Workers of the simulation joining, crashing, leaving, and losing their
//! session.

use std::time::Duration;

use tenure_core::Worker;

use super::{Cut, Live, Sim, as_dyn};

impl Sim {
    pub(super) async fn join(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        if slot.running.is_some() {
            return;
        }
        let timing = self.timing.timing();
        let store = self
            .server
            .connect(timing.session_timeout)
            .await
            .expect("worker connects");
        let delays = self.stop_delays.clone();
        let handler = self.history.slow_handler_by(move |task| {
            let n: usize = task.as_str()[1..].parse().unwrap_or(0);
            delays[n % delays.len()]
        });
        let worker = Worker::builder(slot.answers.wrap(as_dyn(&store)), "sim")
            .root(self.root.clone())
            .id(slot.id.as_str())
            .handler(handler)
            .stop_timeout(timing.stop_timeout)
            .suspend_grace(timing.suspend_grace)
            .leader_resync(timing.session_timeout * 2)
            .build()
            .expect("valid worker");
        let run = worker.spawn();
        slot.running = Some(Live {
            store,
            worker,
            run,
            cut: None,
        });
    }

    /// A crash: the process dies (handlers gone at once) and its session
    /// ends when the server's timeout runs out.
    pub(super) async fn crash(&mut self, i: usize) {
        if let Some(live) = self.slots[i].running.take() {
            live.store.suspend();
            live.worker.kill().await;
            let _ = live.run.await;
        }
    }

    /// A graceful shutdown. A suspended worker is resumed first; a silently
    /// partitioned one is not (its shutdown must return in bounded time
    /// anyway, its handlers stopped).
    pub(super) async fn leave(&mut self, i: usize) {
        if let Some(live) = self.slots[i].running.take() {
            if live.cut == Some(Cut::Suspended) {
                live.store.resume();
            }
            live.worker.shutdown().await;
            let _ = live.run.await;
            let _ = tenure_core::CoordinationStore::close(&live.store).await;
        }
    }

    /// The server ends the worker's session as early as the runtime's
    /// safety argument allows. A real server ends a session only after it
    /// has not heard from the client for the session timeout, and the
    /// runtime stops its handlers before that (ARCHITECTURE.md, "Why two
    /// runners are impossible", 3); an instant expiry of a session whose
    /// handlers still run is outside that model. So: cut the connection
    /// (the worker is told and fences), wait until its handlers are gone
    /// (by the history, at most the suspend grace and a stop timeout), end the session, restore the
    /// connection as it was. A silently partitioned worker cannot be told,
    /// so its session ends only by timing out.
    pub(super) async fn expire(&mut self, i: usize) {
        let id = self.slots[i].id.clone();
        let Some(live) = &self.slots[i].running else {
            return;
        };
        let cut = live.cut;
        match cut {
            Some(Cut::Partitioned) => return,
            Some(Cut::Suspended) => {}
            None => live.store.suspend(),
        }
        // A suspended worker's handlers are cancelled at most the suspend
        // grace after the cut, and gone a stop timeout later.
        let timing = self.timing.timing();
        let polls = (timing.suspend_grace + timing.stop_timeout).as_millis() / 10 + 50;
        for _ in 0..polls {
            if !self.history.runs_on(&id) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(live) = &self.slots[i].running {
            live.store.expire_session();
            if cut.is_none() {
                live.store.resume();
            }
        }
    }
}
