//! `tenure __child`, the process between a worker and a task's command.
//!
//! It is not a subcommand of [`Cli`](super::Cli): `tenure worker` starts
//! it as `tenure __child …` and `main` recognizes that first word before
//! parsing anything else. So it appears in no `--help`, shell completion
//! or man page, and it reads no option from the environment (the
//! supervisor's `TENURE_*` variables cannot change how the shim parses).

use std::ffi::{OsStr, OsString};

use clap::{Args, Parser};

/// The first argument that makes `tenure` the shim.
pub const CHILD: &str = "__child";

/// The hidden `__child` process's options.
#[derive(Debug, Args)]
pub struct ChildArgs {
    /// The supervisor's process id.
    #[arg(long)]
    pub parent: i32,

    /// Milliseconds between SIGTERM and SIGKILL when the run stops.
    #[arg(long)]
    pub grace_ms: u64,

    /// The command.
    #[arg(last = true, required = true)]
    pub command: Vec<OsString>,
}

/// `tenure __child`'s command line.
#[derive(Debug, Parser)]
#[command(name = "tenure __child", disable_help_flag = true)]
struct ChildCli {
    #[command(flatten)]
    args: ChildArgs,
}

/// The shim's options, if `argv` (the program's whole argument list)
/// starts `tenure __child`; `None` for every other command line.
///
/// # Errors
/// clap's usage error for a malformed `__child` line.
pub fn parse(argv: &[OsString]) -> Option<Result<ChildArgs, clap::Error>> {
    if argv.get(1).map(OsString::as_os_str) != Some(OsStr::new(CHILD)) {
        return None;
    }
    Some(ChildCli::try_parse_from(&argv[1..]).map(|cli| cli.args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_first_word_makes_the_shim_and_nothing_else_does() {
        let args = parse(&line(&[
            "tenure",
            "__child",
            "--parent",
            "42",
            "--grace-ms",
            "300",
            "--",
            "sh",
            "-c",
            "x",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((args.parent, args.grace_ms), (42, 300));
        assert_eq!(args.command, ["sh", "-c", "x"]);
        assert!(parse(&line(&["tenure", "status"])).is_none());
        assert!(parse(&line(&["tenure", "--cluster", "__child", "status"])).is_none());
        assert!(
            parse(&line(&["tenure", "__child", "--parent", "1"]))
                .unwrap()
                .is_err()
        );
    }
}
