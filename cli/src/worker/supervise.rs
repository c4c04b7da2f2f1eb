//! The task handler of `tenure worker`: while the worker owns a task, keep
//! one run of the command going; when ownership ends, stop the run and
//! return only once it has exited, so the task is released only then.

use std::ffi::OsString;
use std::time::Duration;

use async_trait::async_trait;
use tenure_core::{Admin, HandlerResult, TaskContext, TaskHandler};
use tokio::time::Instant;
use tracing::{Instrument, error, info, info_span, warn};

use crate::args::OnCrashLoop;
use crate::observe::metrics::{CHILD_CRASH_LOOPING, CHILD_EXITS, CHILD_STARTS};
use crate::worker::child::{Run, RunEnv, Stopped, describe};
use crate::worker::restart::{RestartPolicy, Restarts, Verdict};

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
    /// Restarts after exits.
    pub restart: RestartPolicy,
    /// What to do with a crash loop.
    pub on_crash_loop: OnCrashLoop,
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
}

impl Supervisor {
    async fn supervise(&self, ctx: &TaskContext) -> HandlerResult {
        let task = ctx.task().to_string();
        let mut restarts = Restarts::new(self.restart);
        let mut attempt: u64 = 0;
        loop {
            attempt += 1;
            let span = info_span!("run", attempt, pid = tracing::field::Empty);
            let ended = self.one_run(ctx, attempt).instrument(span).await?;
            let Ended::ByItself { success, ran } = ended else {
                return Ok(());
            };
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
        let started = Instant::now();
        let mut run = match Run::start(&self.command, self.env(ctx, attempt)).await {
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
        let exited = tokio::select! {
            status = run.wait() => Some(status),
            () = ctx.cancelled() => None,
        };
        match exited {
            Some(status) => {
                let status = status?;
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
