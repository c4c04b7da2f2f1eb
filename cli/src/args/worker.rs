//! `tenure worker`.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use tenure_strategies::StrategyKind;

use super::strategy::StrategyParser;
use crate::duration;

/// What the supervisor does with a task whose command keeps failing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnCrashLoop {
    /// Keep restarting it at the longest delay, reporting it in the log and
    /// the `tenure_child_crash_looping` gauge.
    Retry,
    /// Pause the task in the cluster (it then shows as paused in `tenure
    /// status`); `tenure tasks resume` starts it again.
    Pause,
}

/// What an exit with status 0 of a task's command means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnSuccess {
    /// The task is done: it runs nowhere until `tenure tasks rearm` or
    /// `tenure tasks update`.
    Done,
    /// Restart the command, as after a failure.
    Restart,
}

/// `tenure worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Read options from this TOML file: its keys are the long options
    /// (`cluster = "demo"`, `session-timeout = "4s"`, `tag = ["eu"]`);
    /// the command line and the environment override it
    #[arg(
        long,
        env = "TENURE_CONFIG",
        value_name = "FILE",
        help_heading = "Configuration"
    )]
    pub config: Option<PathBuf>,

    /// Print the resolved configuration as TOML, each value with where it
    /// came from (secrets redacted), and exit without connecting
    #[arg(long, help_heading = "Configuration")]
    pub print_config: bool,

    /// This worker's name, unique among the live workers of the cluster
    #[arg(long, env = "TENURE_ID", value_name = "ID")]
    pub id: String,

    /// Relative capacity: a worker of capacity 2 gets twice the load
    #[arg(
        long,
        env = "TENURE_CAPACITY",
        visible_alias = "weight",
        value_name = "N",
        default_value_t = 1
    )]
    pub capacity: u32,

    /// A tag of this worker; tasks that require tags run only on workers
    /// having all of them (repeatable; a comma separates tags, as in
    /// TENURE_TAGS=eu,ssd)
    #[arg(
        long = "tag",
        env = "TENURE_TAGS",
        value_delimiter = ',',
        value_name = "TAG"
    )]
    pub tags: Vec<String>,

    /// How the leader places tasks on workers; give every worker of a
    /// cluster the same --strategy, --rebalance-delay and --max-moves
    ///
    /// The leader is one of the workers and places every task with its own
    /// strategy, so workers started with different ones make the placement
    /// change whenever the leadership does. ElasticJob's names (ROUND_ROBIN,
    /// AVG_ALLOCATION, ODEVITY) are accepted too.
    #[arg(
        long,
        env = "TENURE_STRATEGY",
        value_name = "NAME",
        default_value = "sticky",
        value_parser = StrategyParser,
        help_heading = "Placement"
    )]
    pub strategy: StrategyKind,

    /// Give running tasks to a newly joined worker only once it has been up
    /// this long (Helix's delayed rebalance)
    ///
    /// A worker that restarts within the window causes no handoffs. The
    /// tasks of a worker that left, and new tasks, are still placed at once.
    #[arg(
        long,
        env = "TENURE_REBALANCE_DELAY",
        value_name = "DURATION",
        value_parser = duration::parse,
        help_heading = "Placement"
    )]
    pub rebalance_delay: Option<Duration>,

    /// Move at most N running tasks to another worker per placement round
    ///
    /// The others follow in later rounds (a round comes after each change,
    /// and a second after moves were held back). The tasks of a worker that
    /// left, and new tasks, are never held back; with 0, running tasks never
    /// move.
    #[arg(
        long,
        env = "TENURE_MAX_MOVES",
        value_name = "N",
        help_heading = "Placement"
    )]
    pub max_moves: Option<usize>,

    /// How long a command has to exit after SIGTERM before SIGKILL
    /// [default: 2s, less if the session is too short for it]
    ///
    /// A command must be gone before the session could expire, so the grace
    /// plus 500ms (for the kill) must stay below the session timeout minus
    /// a sixth (the heartbeat, or the store's own renewal period if longer:
    /// ZooKeeper's is about 44% of the session unless the ensemble's tick
    /// is known), a twentieth (answer allowance) and a tenth (a safety
    /// margin): with a renewal no longer than the heartbeat, the grace can
    /// be up to 866ms for a 2s session, 6.3s for 10s. A --grace that does
    /// not fit the session the server granted is refused.
    /// Without --grace the worker takes 2s, or if that does not fit, three
    /// quarters of the largest grace that fits (640ms for a 2s session,
    /// 130ms for 1s, with a renewal no longer than the heartbeat).
    #[arg(long, env = "TENURE_GRACE", value_name = "DURATION", value_parser = duration::parse)]
    pub grace: Option<Duration>,

    /// The first delay before restarting a command that exited by itself;
    /// it doubles after each quick exit (each delay is cut by up to a tenth
    /// at random, so tasks that failed together do not restart together)
    #[arg(
        long,
        env = "TENURE_RESTART_DELAY",
        value_name = "DURATION",
        default_value = "1s",
        value_parser = duration::parse
    )]
    pub restart_delay: Duration,

    /// The longest delay between restarts
    #[arg(
        long,
        env = "TENURE_MAX_RESTART_DELAY",
        value_name = "DURATION",
        default_value = "60s",
        value_parser = duration::parse
    )]
    pub max_restart_delay: Duration,

    /// After this many quick exits in a row (each within 60s of its start)
    /// a task counts as crash-looping
    #[arg(
        long,
        env = "TENURE_CRASH_LOOP_AFTER",
        value_name = "N",
        default_value_t = 5
    )]
    pub crash_loop_after: u32,

    /// What an exit with status 0 means (any other exit is a failure,
    /// restarted)
    #[arg(long, env = "TENURE_ON_SUCCESS", value_enum, default_value_t = OnSuccess::Done)]
    pub on_success: OnSuccess,

    /// What to do with a crash-looping task
    #[arg(
        long,
        env = "TENURE_ON_CRASH_LOOP",
        value_enum,
        default_value_t = OnCrashLoop::Retry
    )]
    pub on_crash_loop: OnCrashLoop,

    /// How long a graceful shutdown waits for the tasks to move elsewhere
    /// before releasing them anyway [default: twice the session timeout]
    #[arg(
        long,
        env = "TENURE_HANDOFF_TIMEOUT",
        value_name = "DURATION",
        value_parser = duration::parse
    )]
    pub handoff_timeout: Option<Duration>,

    /// Serve Prometheus metrics on this address (for example 127.0.0.1:9464)
    #[arg(long, env = "TENURE_METRICS_ADDR", value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// The command to run for each owned task, after `--` (on the command
    /// line only; not needed with --print-config)
    #[arg(
        last = true,
        required_unless_present = "print_config",
        value_name = "COMMAND"
    )]
    pub command: Vec<OsString>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command};
    use clap::{CommandFactory, Parser};

    #[test]
    fn worker_needs_a_command_after_double_dash() {
        assert!(Cli::try_parse_from(["tenure", "worker", "--id", "a"]).is_err());
        let cli =
            Cli::try_parse_from(["tenure", "worker", "--id", "a", "--", "sh", "-c", "x"]).unwrap();
        let Command::Worker(w) = cli.command else {
            panic!("not a worker")
        };
        assert_eq!(w.command, ["sh", "-c", "x"]);
    }

    fn worker(args: &[&str]) -> Result<WorkerArgs, clap::Error> {
        let line = ["tenure", "worker", "--id", "a"]
            .iter()
            .chain(args)
            .chain(&["--", "true"]);
        match Cli::try_parse_from(line)?.command {
            Command::Worker(w) => Ok(w),
            other => panic!("not a worker: {other:?}"),
        }
    }

    #[test]
    fn every_built_in_strategy_is_accepted_by_name() {
        for kind in StrategyKind::ALL {
            let w = worker(&["--strategy", kind.name()]).unwrap();
            assert_eq!(w.strategy, kind);
        }
        let aliases = [
            ("ROUND_ROBIN", StrategyKind::RoundRobin),
            ("AVG_ALLOCATION", StrategyKind::Average),
            ("ODEVITY", StrategyKind::Odevity),
            ("Consistent_Hash", StrategyKind::ConsistentHash),
        ];
        for (name, kind) in aliases {
            assert_eq!(worker(&["--strategy", name]).unwrap().strategy, kind);
        }
    }

    #[test]
    fn worker_defaults_are_sticky_without_wrappers_and_no_given_grace() {
        let w = worker(&[]).unwrap();
        assert_eq!(w.strategy, StrategyKind::Sticky);
        assert_eq!(w.rebalance_delay, None);
        assert_eq!(w.max_moves, None);
        assert_eq!(
            w.grace, None,
            "the default is chosen once the session is known"
        );
    }

    #[test]
    fn an_unknown_strategy_is_refused_with_the_list_of_names() {
        let err = worker(&["--strategy", "fastest"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        let text = err.to_string();
        assert!(
            text.contains(
                "unknown strategy \"fastest\"; choose one of: sticky, first-come, round-robin, \
                 average, odevity, consistent-hash"
            ),
            "{text}"
        );
        assert!(!text.contains("invalid input:"), "{text}");
    }

    #[test]
    fn placement_options_parse_and_bad_values_are_refused() {
        let w = worker(&[
            "--strategy",
            "round-robin",
            "--rebalance-delay",
            "1.5s",
            "--max-moves",
            "2",
            "--grace",
            "300ms",
        ])
        .unwrap();
        assert_eq!(w.strategy, StrategyKind::RoundRobin);
        assert_eq!(w.rebalance_delay, Some(Duration::from_millis(1500)));
        assert_eq!(w.max_moves, Some(2));
        assert_eq!(w.grace, Some(Duration::from_millis(300)));
        assert_eq!(worker(&["--max-moves", "0"]).unwrap().max_moves, Some(0));
        let bad: [&[&str]; 4] = [
            &["--max-moves=-1"],
            &["--max-moves", "many"],
            &["--rebalance-delay", "soon"],
            &["--grace", "2x"],
        ];
        for bad in bad {
            let err = worker(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_bad_duration_is_refused_naming_the_option_the_text_and_an_example() {
        for option in [
            "--grace",
            "--restart-delay",
            "--max-restart-delay",
            "--handoff-timeout",
            "--rebalance-delay",
            "--session-timeout",
            "--connect-timeout",
            "--zk-tick-time",
        ] {
            let err = worker(&[option, "2 fortnights"]).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
            let text = err.to_string();
            assert!(text.contains(option), "{option}: {text}");
            assert!(text.contains("2 fortnights"), "{option}: {text}");
            assert!(text.contains("examples: 500ms"), "{option}: {text}");
        }
        let w = worker(&["--grace", "1m30s", "--handoff-timeout", "2m"]).unwrap();
        assert_eq!(w.grace, Some(Duration::from_secs(90)));
        assert_eq!(w.handoff_timeout, Some(Duration::from_secs(120)));
    }

    #[test]
    fn worker_help_lists_every_strategy_and_the_placement_options() {
        let mut cli = Cli::command();
        let help = cli
            .find_subcommand_mut("worker")
            .unwrap()
            .render_long_help()
            .to_string();
        // Lines wrap with the terminal's width.
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for kind in StrategyKind::ALL {
            assert!(
                help.contains(&format!("- {}:", kind.name())),
                "{kind}: {help}"
            );
        }
        for option in ["--rebalance-delay <DURATION>", "--max-moves <N>"] {
            assert!(help.contains(option), "{option}: {help}");
        }
        assert!(
            help.contains("every worker of a cluster the same"),
            "{help}"
        );
        assert!(help.contains("640ms for a 2s session"), "{help}");
        assert!(
            help.contains("--on-success <ON_SUCCESS>") && help.contains("tenure tasks rearm NAME"),
            "{help}"
        );
        assert_eq!(worker(&[]).unwrap().on_success, OnSuccess::Done);
    }
}
