//! Supervisor mode, `tenure worker`: join a cluster as a worker and run a
//! command for every task this worker owns.
//!
//! - `supervise`: the task handler (one run at a time per task, restarts);
//! - `child`: one run of the command and how it is stopped;
//! - `shim`: the `tenure __child` process between the two;
//! - `deadline`: the run's deadline, renewed by the supervisor, held by the
//!   shim;
//! - `tree`: every process a command started, found in `/proc`;
//! - `spawner`: the lasting thread every run is forked from;
//! - `restart`: the restart backoff and crash-loop policy;
//! - `report`: log lines and metrics of the running worker;
//! - `moves`: its takeovers and handoffs, from its own events.

mod child;
mod deadline;
mod grace;
mod moves;
mod report;
mod restart;
pub mod shim;
mod spawner;
mod supervise;
mod tree;

use std::sync::Arc;

use tenure_core::strategy::Strategy;
use tenure_core::{Admin, DynStore, Worker};
use tenure_strategies::StrategyOptions;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tracing::{error, info, warn};

use crate::args::{ConnectArgs, WorkerArgs};
use crate::connect;
use crate::duration::human;
use crate::error::{CliError, CliResult};
use crate::observe::metrics;
use crate::observe::probes::{self, Probes};
use restart::RestartPolicy;
use supervise::Supervisor;

/// The long help of `tenure worker`.
pub const LONG_ABOUT: &str = "\
Join the cluster as a worker and run COMMAND for every task this worker owns.

For each task it owns, the worker runs COMMAND with:
  TENURE_TASK      the task's name
  TENURE_TOKEN     the fencing token of this claim: it strictly increases each
                   time the task is claimed, by any worker; guard side effects
                   with it (a process paused for long can wake up after its
                   task moved on)
  TENURE_PAYLOAD   the task's payload (TENURE_PAYLOAD_FILE names a file
                   holding it instead when it is over 64 KiB or binary)
  TENURE_CLUSTER, TENURE_WORKER, TENURE_BACKEND, TENURE_CONNECT
                   where it runs (credentials are not passed on)
  TENURE_ATTEMPT   1 for the first run of this claim, then 2, 3, …

When ownership ends (the task moves, is paused or removed, or the session is
at risk) the command's process group, and every process the command started
that left it, gets SIGTERM, then SIGKILL after --grace; the task is released
only after all of them have exited.

A command that exits by itself ends its run with an outcome:
  exit 0           the task is done (with the default --on-success done): it
                   shows as done in `tenure status` and runs nowhere until
                   `tenure tasks rearm NAME` or `tenure tasks update NAME`;
                   with --on-success restart it is restarted as below
  any other exit   the task failed: it is restarted after --restart-delay,
                   doubling after each exit within a minute of starting, up
                   to --max-restart-delay, each delay cut by up to a tenth
                   at random; after --crash-loop-after such
                   exits in a row the task is reported as crash-looping (see
                   --on-crash-loop)
A command that should run for as long as the worker owns its task simply
never exits.

Every process a command starts belongs to its run, even one that leaves the
process group (setsid, a daemonizing double fork): the run's `tenure __child`
process is its subreaper and stops them all (SIGTERM, SIGKILL after --grace)
when the run ends: when ownership ends, when the command's main process
exits (so a command must stay in the foreground: one that daemonizes and
exits ends its run), and when this process dies (SIGKILL at once). Out of
reach: processes started through another service (systemd-run, docker run,
a job handed to a daemon), which are not the command's descendants, and
processes that switched to another user (setuid programs), which cannot be
signalled.

Commands stop in time even when this process cannot stop them: each run
holds the session's deadline, which the worker renews while it proves its
session alive. If it is about to pass unrenewed (this process is frozen,
hung, or cut off from the servers), the command gets SIGTERM, then SIGKILL
after --grace, before another worker can take the task over.

Which worker runs which task is decided by the leader, a worker elected
among them, with its --strategy (default sticky: tasks stay where they run,
the fewest move to balance the load); start every worker of a cluster with
the same --strategy, --rebalance-delay and --max-moves.

SIGTERM or SIGINT (Ctrl-C) hands every task over to other workers, stops the
commands and exits with 0; a second one kills the commands at once. If this
process is killed outright, its commands and their descendants are killed
with it.

Every option can also be set in the environment (its [env: …] below:
TENURE_ and the option's name, as TENURE_SESSION_TIMEOUT; TENURE_TAGS holds
tags separated by commas) and in a TOML file named by --config FILE or
TENURE_CONFIG, whose keys are the long options:
  id = \"host-a\"
  cluster = \"demo\"
  connect = \"127.0.0.1:2181\"
  session-timeout = \"4s\"
  tag = [\"eu\", \"ssd\"]
An unknown key, a value of the wrong type or one the option refuses stops the
worker before it starts, naming the file and the key. Each option takes the
first value given by: the command line, then the environment, then the file,
then the default. --print-config prints the result, each value with where it
came from, passwords and keys redacted. The command stays on the command
line. Credentials (TENURE_USER, TENURE_PASSWORD, TENURE_CA, TENURE_CERT,
TENURE_KEY, TENURE_CONSOLE_TOKEN) and TENURE_CONFIG are not passed on to the
commands.";

/// Runs `tenure worker` until SIGTERM or SIGINT.
///
/// # Errors
/// Bad options, connection failures, a worker that cannot run.
pub async fn run(options: &ConnectArgs, args: WorkerArgs) -> CliResult {
    let restart = RestartPolicy::new(
        args.restart_delay,
        args.max_restart_delay,
        args.crash_loop_after,
    )?;
    let strategy = strategy(&args, &options.cluster);
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let probes = match args.metrics_addr {
        Some(addr) => {
            let probes = probes::serve(addr, metrics::install(addr)?).await?;
            info!(%addr, "serving Prometheus metrics, /healthz and /readyz");
            Some(probes)
        }
        None => None,
    };
    let store = connect::connect(options).await?;
    let result = serve(
        options,
        args,
        probes,
        restart,
        strategy,
        &store,
        &mut terminate,
        &mut interrupt,
    )
    .await;
    if let Err(e) = store.close().await {
        warn!(error = %e, "closing the session failed");
    }
    result
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    options: &ConnectArgs,
    args: WorkerArgs,
    probes: Option<Probes>,
    restart: RestartPolicy,
    strategy: Arc<dyn Strategy>,
    store: &DynStore,
    terminate: &mut Signal,
    interrupt: &mut Signal,
) -> CliResult {
    let timing = grace::timing_for(&**store);
    let session = timing.session_timeout;
    let grace = grace::resolve(timing, args.grace)?;
    if args.grace.is_none() && grace < grace::DEFAULT_GRACE {
        info!(
            grace = %human(grace),
            session = %human(session),
            "no --grace given and the default {} does not fit the session: using less",
            human(grace::DEFAULT_GRACE)
        );
    }
    let admin = Admin::new(store.clone(), &options.cluster).await?;
    let supervisor = Supervisor {
        command: args.command,
        cluster: options.cluster.clone(),
        backend: options.backend.name(),
        connect: connect::servers(options),
        grace,
        renew_every: deadline::renew_period(session),
        restart,
        on_crash_loop: args.on_crash_loop,
        on_success: args.on_success,
        admin: admin.clone(),
    };
    let mut builder = Worker::builder(store.clone(), &options.cluster)
        .id(&args.id)
        .capacity(args.capacity)
        .strategy_arc(strategy.clone())
        .handler(supervisor)
        .stop_timeout(grace::stop_timeout(grace));
    for tag in args.tags {
        builder = builder.tag(tag);
    }
    if let Some(timeout) = args.handoff_timeout {
        builder = builder.handoff_timeout(timeout);
    }
    let worker = builder.build()?;
    report::follow(&worker, store, &admin);
    if let Some(probes) = &probes {
        probes.watch(&worker);
    }
    info!(
        worker = %worker.id(),
        cluster = %options.cluster,
        strategy = strategy.name(),
        grace = %human(grace),
        "worker starting"
    );
    let mut running = worker.spawn();
    tokio::select! {
        ended = &mut running => {
            return match ended {
                Ok(Ok(())) => Err(CliError::Failed("the worker stopped unexpectedly".into())),
                Ok(Err(e)) => Err(e.into()),
                Err(e) => Err(CliError::Failed(format!("the worker crashed: {e}"))),
            };
        }
        _ = terminate.recv() => info!("SIGTERM: handing tasks over, then exiting"),
        _ = interrupt.recv() => info!("SIGINT: handing tasks over, then exiting"),
    }
    tokio::select! {
        () = worker.shutdown() => {}
        _ = terminate.recv() => return Err(impatient()),
        _ = interrupt.recv() => return Err(impatient()),
    }
    match running.await {
        Ok(Ok(())) => {
            info!("every task handed over; exiting");
            Ok(())
        }
        Ok(Err(e)) => Err(e.into()),
        Err(e) => Err(CliError::Failed(format!("the worker crashed: {e}"))),
    }
}

/// A second signal during the handoff: kill the commands and leave; the
/// other workers take the tasks over when the session ends.
fn impatient() -> CliError {
    error!("second signal: killing every command now");
    child::kill_all();
    CliError::Failed("interrupted during the handoff; commands killed".into())
}

/// The load strategy `args` ask for, built by `tenure-strategies` (its
/// job name, which `round-robin` and `odevity` hash, is the cluster's name).
fn strategy(args: &WorkerArgs, cluster: &str) -> Arc<dyn Strategy> {
    let options = StrategyOptions {
        job_name: cluster.to_owned(),
        rebalance_delay: args.rebalance_delay,
        max_moves: args.max_moves,
        ..StrategyOptions::default()
    };
    Arc::from(args.strategy.build(&options))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::{Cli, Command};

    /// The strategy of `tenure --cluster CLUSTER worker OPTIONS`.
    fn built_in(cluster: &str, options: &[&str]) -> Arc<dyn Strategy> {
        let head = ["tenure", "--cluster", cluster, "worker", "--id", "a"];
        let line = head.iter().chain(options).chain(&["--", "true"]);
        let cli = Cli::try_parse_from(line).unwrap();
        let Command::Worker(args) = cli.command else {
            panic!("not a worker")
        };
        strategy(&args, &cli.connect.cluster)
    }

    fn built(options: &[&str]) -> Arc<dyn Strategy> {
        built_in("c", options)
    }

    /// `round-robin` and `odevity` hash the job name: the cluster's.
    #[test]
    fn the_job_name_is_the_cluster_name() {
        for name in ["round-robin", "odevity"] {
            let built = built_in("night-jobs", &["--strategy", name, "--max-moves", "1"]);
            let debug = format!("{built:?}");
            assert!(debug.contains(r#"job_name: "night-jobs""#), "{debug}");
        }
    }

    #[test]
    fn the_options_choose_the_strategy_and_its_wrappers() {
        assert_eq!(built(&[]).name(), "sticky");
        assert_eq!(built(&["--strategy", "odevity"]).name(), "odevity");
        assert_eq!(
            built(&["--strategy", "consistent-hash", "--rebalance-delay", "30s"]).name(),
            "delayed(consistent-hash)"
        );
        assert_eq!(built(&["--max-moves", "3"]).name(), "throttled(sticky)");
        assert_eq!(
            built(&[
                "--strategy",
                "round-robin",
                "--rebalance-delay",
                "1m",
                "--max-moves",
                "1"
            ])
            .name(),
            "throttled(delayed(round-robin))"
        );
    }
}
