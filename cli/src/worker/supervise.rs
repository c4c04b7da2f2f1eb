//! The task handler of `tenure worker`: while the worker owns a task, keep
//! one run of the command going; when ownership ends, stop the run and
//! return only once it has exited, so the task is released only then.
//!
//! While a run goes, its deadline ([`TaskContext::must_stop_by`]) is
//! passed on to its shim whenever it changes, so that the run stops in time
//! even if this process freezes. It is looked at every `renew_every`, and
//! more often as the instant the shim would stop the run comes near (a
//! quarter of the time left, down to 2 ms): a renewal that comes just
//! before that instant reaches the shim in time. A run starts only while
//! the deadline leaves room for a whole stop.

use std::ffi::OsString;
use std::time::Duration;

use async_trait::async_trait;
use tenure_core::{Admin, HandlerResult, TaskContext, TaskHandler};
use tokio::time::Instant;
use tracing::{Instrument, error, info, info_span, warn};

use crate::args::{OnCrashLoop, OnSuccess};
use crate::observe::metrics::{CHILD_CRASH_LOOPING, CHILD_EXITS, CHILD_STARTS};
use crate::worker::child::{Run, RunEnv, Stopped, describe};
use crate::worker::grace::stop_timeout;
use crate::worker::restart::{RestartPolicy, Restarts, Verdict};

/// The shortest pause between two looks at a run's deadline.
const MIN_RENEW_PAUSE: Duration = Duration::from_millis(2);

/// What every run of the worker shares.
#[derive(Debug)]
pub struct Supervisor {
    /// The command and its arguments.
    pub command: Vec<OsString>,
    /// The cluster's name (`TENURE_CLUSTER`).
    pub cluster: String,
    /// The backend's name (`TENURE_BACKEND`).
    pub backend: &'static str,
    /// The servers (`TENURE_CONNECT`).
    pub connect: String,
    /// SIGTERM to SIGKILL.
    pub grace: Duration,
    /// How often a run's deadline is passed on to its shim.
    pub renew_every: Duration,
    /// Restarts after exits.
    pub restart: RestartPolicy,
    /// What to do with a crash loop.
    pub on_crash_loop: OnCrashLoop,
    /// What an exit with status 0 means.
    pub on_success: OnSuccess,
    /// To pause a crash-looping task.
    pub admin: Admin,
}

#[async_trait]
impl TaskHandler for Supervisor {
    async fn run(&self, ctx: TaskContext) -> HandlerResult {
        let result = self.supervise(&ctx).await;
        metrics::gauge!(CHILD_CRASH_LOOPING, "task" => ctx.task().to_string()).set(0.0);
        result
    }
}

/// How one run ended.
enum Ended {
    /// By itself, successfully or not, after running this long.
    ByItself { success: bool, ran: Duration },
    /// Ownership ended and the run was stopped.
    Stopped,
    /// The shim stopped the run because its deadline was passing
    /// unrenewed (this process could not renew it in time, or the session
    /// is at risk): not the command's doing, so it does not count as an
    /// exit.
    Fenced,
}

impl Supervisor {
    async fn supervise(&self, ctx: &TaskContext) -> HandlerResult {
        let task = ctx.task().to_string();
        let mut restarts = Restarts::new(self.restart, &format!("{}/{task}", ctx.worker()));
        let mut attempt: u64 = 0;
        loop {
            attempt += 1;
            let span = info_span!("run", attempt, pid = tracing::field::Empty);
            let ended = self.one_run(ctx, attempt).instrument(span).await?;
            let (success, ran) = match ended {
                Ended::ByItself { success, ran } => (success, ran),
                Ended::Stopped => return Ok(()),
                Ended::Fenced => continue,
            };
            if success && self.on_success == OnSuccess::Done {
                info!("the command exited with 0: the task is done until re-armed");
                ctx.mark_done();
                return Ok(());
            }
            let verdict = restarts.exited(ran);
            if verdict.crash_looping {
                metrics::gauge!(CHILD_CRASH_LOOPING, "task" => task.clone()).set(1.0);
            }
            if verdict.newly_crash_looping {
                error!(
                    quick_exits = verdict.quick_exits,
                    "the command keeps exiting within a minute of starting: crash loop"
                );
                if self.on_crash_loop == OnCrashLoop::Pause && self.pause(ctx).await {
                    return Ok(());
                }
            }
            self.announce_restart(success, &verdict);
            tokio::select! {
                () = tokio::time::sleep(verdict.delay) => {}
                () = ctx.cancelled() => return Ok(()),
            }
        }
    }

    /// Starts the command and follows it until it exits or ownership ends.
    async fn one_run(
        &self,
        ctx: &TaskContext,
        attempt: u64,
    ) -> Result<Ended, tenure_core::error::BoxError> {
        let task = ctx.task().to_string();
        if !self.wait_for_room(ctx).await {
            return Ok(Ended::Stopped);
        }
        let started = Instant::now();
        let env = self.env(ctx, attempt);
        let mut run = match Run::start(&self.command, env, self.grace, ctx.must_stop_by()).await {
            Ok(run) => run,
            Err(e) => {
                error!(error = %e, "cannot start the command");
                metrics::counter!(CHILD_EXITS, "task" => task, "outcome" => "failure").increment(1);
                return Ok(Ended::ByItself {
                    success: false,
                    ran: started.elapsed(),
                });
            }
        };
        tracing::Span::current().record("pid", run.pid());
        metrics::counter!(CHILD_STARTS, "task" => task.clone()).increment(1);
        info!(pid = run.pid(), "command started");
        let exited = loop {
            run.renew(ctx.must_stop_by());
            tokio::select! {
                status = run.wait() => break Some(status),
                () = ctx.cancelled() => break None,
                () = tokio::time::sleep(self.renew_pause(ctx)) => {}
            }
        };
        match exited {
            Some(status) => {
                let status = status?;
                if run.deadline_lapsed() {
                    metrics::counter!(CHILD_EXITS, "task" => task, "outcome" => "stopped")
                        .increment(1);
                    warn!(status = %describe(status), "the command's shim stopped it: the session deadline it holds was passing unrenewed (this process did not pass a renewal on in time)");
                    return Ok(Ended::Fenced);
                }
                let outcome = if status.success() {
                    "success"
                } else {
                    "failure"
                };
                metrics::counter!(CHILD_EXITS, "task" => task, "outcome" => outcome).increment(1);
                let ran = started.elapsed();
                info!(status = %describe(status), ran = ?ran, "command exited by itself");
                Ok(Ended::ByItself {
                    success: status.success(),
                    ran,
                })
            }
            None => {
                info!(grace = ?self.grace, "ownership ended: stopping the command");
                match run.stop(self.grace).await? {
                    Stopped::Terminated(status) => {
                        metrics::counter!(CHILD_EXITS, "task" => task, "outcome" => "stopped")
                            .increment(1);
                        info!(status = %describe(status), "command stopped");
                    }
                    Stopped::Killed(status) => {
                        metrics::counter!(CHILD_EXITS, "task" => task, "outcome" => "killed")
                            .increment(1);
                        warn!(status = %describe(status), grace = ?self.grace, "command ignored SIGTERM for the grace period: killed");
                    }
                }
                Ok(Ended::Stopped)
            }
        }
    }

    /// Whether the run's deadline is more than a whole stop (grace and
    /// kill allowance) and one renewal period away, so that a run may
    /// start.
    fn has_room(&self, ctx: &TaskContext) -> bool {
        let room = stop_timeout(self.grace) + self.renew_every;
        ctx.must_stop_by()
            .is_some_and(|by| by.saturating_duration_since(Instant::now()) > room)
    }

    /// How long to wait before looking at the deadline again: a quarter of
    /// the time left before the shim would send SIGTERM, between
    /// [`MIN_RENEW_PAUSE`] and `renew_every`.
    fn renew_pause(&self, ctx: &TaskContext) -> Duration {
        let Some(by) = ctx.must_stop_by() else {
            return self.renew_every;
        };
        let left = by.saturating_duration_since(Instant::now());
        let before_term = left.saturating_sub(stop_timeout(self.grace));
        (before_term / 4).clamp(MIN_RENEW_PAUSE, self.renew_every)
    }

    /// Waits until a run may start (its shim would not have to stop it at
    /// once); false if ownership ends first. The worker's guard cancels
    /// the handler when the session cannot be proved alive in time, so
    /// the wait ends either way.
    async fn wait_for_room(&self, ctx: &TaskContext) -> bool {
        loop {
            if ctx.is_cancelled() {
                return false;
            }
            if self.has_room(ctx) {
                return true;
            }
            tokio::select! {
                () = tokio::time::sleep(self.renew_every) => {}
                () = ctx.cancelled() => return false,
            }
        }
    }

    fn announce_restart(&self, success: bool, verdict: &Verdict) {
        if success {
            info!(delay = ?verdict.delay, "restarting the command after its exit");
        } else {
            warn!(delay = ?verdict.delay, quick_exits = verdict.quick_exits, "the command failed; restarting it");
        }
    }

    /// Pauses a crash-looping task in the cluster and waits for ownership
    /// to end; false if it cannot be paused (the command then restarts as
    /// with `--on-crash-loop retry`).
    async fn pause(&self, ctx: &TaskContext) -> bool {
        match self.admin.pause_task(ctx.task()).await {
            Ok(()) => {
                error!(
                    "task paused because of its crash loop; `tenure tasks resume` starts it again"
                );
                ctx.cancelled().await;
                true
            }
            Err(e) => {
                error!(error = %e, "cannot pause the crash-looping task; restarting it instead");
                false
            }
        }
    }

    /// The environment of one run.
    fn env(&self, ctx: &TaskContext, attempt: u64) -> RunEnv {
        RunEnv {
            vars: vec![
                ("TENURE_TASK", ctx.task().as_str().into()),
                ("TENURE_TOKEN", ctx.token().to_string().into()),
                ("TENURE_CLUSTER", self.cluster.clone().into()),
                ("TENURE_WORKER", ctx.worker().as_str().into()),
                ("TENURE_ATTEMPT", attempt.to_string().into()),
                ("TENURE_BACKEND", self.backend.into()),
                ("TENURE_CONNECT", self.connect.clone().into()),
            ],
            payload: ctx.payload().to_vec(),
        }
    }
}
