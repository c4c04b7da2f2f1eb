//! `tenure`: operate a tenure cluster (tasks, workers, status, watch) and
//! run any command as a failover-safe task (`tenure worker`).
//!
//! The commands, the environment of supervised commands, the exit codes
//! and the JSON schema are documented in this crate's README.
//!
//! - `args`: the command line;
//! - `config`: `tenure worker`'s configuration file, and where each
//!   option's value came from;
//! - `connect`: opening the store, bounded in time;
//! - `ops`: `tasks …`, `workers …`, `status`, `cluster …`; `edit`: `tasks update`,
//!   `tasks show`;
//! - `watch`: the live view;
//! - `console`: the web console;
//! - `worker`: supervisor mode;
//! - `output`: tables and JSON;
//! - `observe`: logging, metrics, the conflict-counting store wrapper;
//! - `error`: failures and their exit codes;
//! - `duration`: durations on the command line;
//! - `sys`: the few system calls the standard library lacks (Linux's).
//!
//! Linux only: `tenure worker` supervises its commands with `prctl`
//! (child subreaper, parent-death signal), `sigtimedwait`,
//! `CLOCK_BOOTTIME` and `/proc`; on another target the crate does not
//! build, and says why. The library crates build anywhere.

#[cfg(not(target_os = "linux"))]
compile_error!(
    "tenure-cli (the `tenure` program) builds on Linux only: `tenure worker` supervises \
     commands with Linux's prctl (PR_SET_CHILD_SUBREAPER, PR_SET_PDEATHSIG), sigtimedwait, \
     CLOCK_BOOTTIME and /proc. The library crates (tenure, tenure-core, the backends) build \
     on any target; build the program on Linux (or in a Linux container)."
);

mod args;
mod config;
mod connect;
mod console;
mod duration;
mod edit;
mod error;
#[cfg(test)]
mod fuzz;
mod observe;
mod ops;
mod output;
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys;
mod tls;
mod watch;
mod worker;

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use tenure_core::{Admin, Error, Layout};
use tracing::warn;

use args::{Cli, Command, ConnectArgs};
use config::ParseError;
use error::{CliError, CliResult};
use observe::logging;
use ops::TaskOp;

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    if let Some(child) = args::parse_child(&argv) {
        return match child {
            Ok(args) => worker::shim::main(&args),
            Err(e) => e.exit(),
        };
    }
    let parsed = match config::parse(&argv) {
        Ok(parsed) => parsed,
        Err(ParseError::Usage(e)) => e.exit(),
        Err(ParseError::Config(e)) => return report(&CliError::Invalid(e.to_string())),
    };
    match &parsed.cli.command {
        Command::Completions(args) => return finish(args::print_completions(args)),
        Command::Man(args) => return finish(args::print_man(args)),
        Command::Worker(args) if args.print_config => {
            return finish(output::emit(&config::render(&parsed)));
        }
        _ => {}
    }
    let cli = parsed.cli;
    let default = match cli.command {
        Command::Worker(_) | Command::Console(_) => logging::WORKER_DEFAULT,
        _ => logging::ADMIN_DEFAULT,
    };
    if let Err(e) = logging::init(&cli.log, default) {
        return report(&e);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return report(&CliError::Failed(format!("cannot start the runtime: {e}"))),
    };
    let result = runtime.block_on(run(cli));
    runtime.shutdown_timeout(Duration::from_secs(1));
    finish(result)
}

fn finish(result: CliResult) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

fn report(e: &CliError) -> ExitCode {
    if !matches!(e, CliError::StdoutClosed) {
        eprintln!("error: {e}");
    }
    e.exit_code()
}

async fn run(cli: Cli) -> CliResult {
    if cli.command.connects() {
        Layout::new(&cli.connect.cluster)?;
    }
    match cli.command {
        Command::Tasks(command) => {
            let op = TaskOp::check(command)?;
            let access = if op.writes() {
                Access::Create
            } else {
                Access::Existing
            };
            with_admin(&cli.connect, access, |admin, cluster| async move {
                ops::tasks(&admin, &cluster, op).await
            })
            .await
        }
        Command::Workers(command) => {
            with_admin(
                &cli.connect,
                Access::Existing,
                |admin, cluster| async move { ops::workers(&admin, &cluster, command).await },
            )
            .await
        }
        Command::Cluster(command) => {
            let store = connect::connect(&cli.connect).await?;
            let result = ops::cluster(&*store, command).await;
            if let Err(e) = store.close().await {
                warn!(error = %e, "closing the session failed");
            }
            result
        }
        Command::Status(args) => {
            with_admin(
                &cli.connect,
                Access::Existing,
                |admin, cluster| async move { ops::status(&admin, &cluster, args).await },
            )
            .await
        }
        Command::Watch(args) => {
            with_admin(
                &cli.connect,
                Access::Existing,
                |admin, cluster| async move { watch::watch(&admin, &cluster, args).await },
            )
            .await
        }
        Command::Worker(args) => worker::run(&cli.connect, args).await,
        Command::Console(args) => console::run(&cli.connect, args).await,
        Command::Completions(_) | Command::Man(_) => Err(CliError::Failed(
            "`completions` and `man` run without a runtime".into(),
        )),
    }
}

/// Whether a command may create the cluster it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// It changes the cluster: its folders are created if missing.
    Create,
    /// It only reads: it writes nothing, and a cluster that does not
    /// exist is an error ([`CliError::NoCluster`]).
    Existing,
}

/// Connects, runs `body` with an admin handle of the cluster, and closes
/// the session whatever happened.
async fn with_admin<F, Fut>(options: &ConnectArgs, access: Access, body: F) -> CliResult
where
    F: FnOnce(Admin, String) -> Fut,
    Fut: Future<Output = CliResult>,
{
    let store = connect::connect(options).await?;
    let admin = match access {
        Access::Create => Admin::new(store.clone(), &options.cluster).await,
        Access::Existing => Admin::existing(store.clone(), &options.cluster).await,
    };
    let result = match admin {
        Ok(admin) => body(admin, options.cluster.clone()).await,
        Err(Error::UnknownCluster { path }) => Err(CliError::NoCluster(format!(
            "no cluster {} at {path} on {}; check --cluster (nothing was written)",
            options.cluster,
            connect::servers(options),
        ))),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = store.close().await {
        warn!(error = %e, "closing the session failed");
    }
    result
}
