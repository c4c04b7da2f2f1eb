//! Fuzzing the command line: durations, whole argument lists, and the
//! checks of `tenure tasks add` (name, weight, tags, pinning, payload).
//! Nothing panics; a duration is taken exactly in its documented forms
//! and range; every refusal is a typed error (a clap error, or
//! `CliError::Invalid` naming what is wrong) before anything connects.
//!
//! Each property runs proptest's default number of cases (256, about a
//! second in a debug build); for a longer run set `PROPTEST_CASES`, e.g.
//! `PROPTEST_CASES=50000 cargo test -p tenure-cli --bin tenure fuzz`.

use std::time::Duration;

use clap::Parser;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::args::{AddArgs, Cli, Command, TasksCommand};
use crate::duration;
use crate::error::CliError;
use crate::ops::TaskOp;

/// A word of a command line: the program's own words and flags more often
/// than not, with durations, numbers and arbitrary text between.
fn word() -> impl Strategy<Value = String> {
    let known = proptest::sample::select(vec![
        "tasks",
        "add",
        "rm",
        "pause",
        "resume",
        "ls",
        "workers",
        "status",
        "watch",
        "worker",
        "--",
        "--backend",
        "--connect",
        "--cluster",
        "--session-timeout",
        "--connect-timeout",
        "--user",
        "--password",
        "--log-format",
        "--log-level",
        "--payload",
        "--weight",
        "--tag",
        "--pin",
        "--json",
        "--events",
        "--for",
        "--interval",
        "--id",
        "--capacity",
        "--strategy",
        "--rebalance-delay",
        "--max-moves",
        "--grace",
        "--restart-delay",
        "--max-restart-delay",
        "--crash-loop-after",
        "--on-crash-loop",
        "--handoff-timeout",
        "--metrics-addr",
        "__child",
        "--parent",
        "completions",
        "man",
    ])
    .prop_map(str::to_owned);
    prop_oneof![
        4 => known,
        2 => duration_text(),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => "-?[0-9]{1,25}",
        1 => any::<String>(),
    ]
}

/// Text that looks like a duration, or almost.
fn duration_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,12}(\\.[0-9]{0,12})?(ms|s|m|min|h|d|us|)",
        " ?[-+]?[0-9.eE]{0,8} ?[a-z]{0,3} ?",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn durations_are_taken_in_range_or_refused_with_examples(text in duration_text()) {
        match duration::parse(&text) {
            Ok(d) => prop_assert!(d <= Duration::from_secs(1_000_000_000), "{text:?}: {d:?}"),
            Err(message) => prop_assert!(message.contains("examples"), "{message}"),
        }
    }

    #[test]
    fn durations_in_their_documented_forms_are_exact(
        n in prop_oneof![0u64..1_000_000, 0u64..2_000_000_000_000],
        unit in proptest::sample::select(vec![("ms", 1u64), ("", 1000), ("s", 1000), ("m", 60_000), ("min", 60_000), ("h", 3_600_000)]),
    ) {
        let (suffix, ms) = unit;
        let parsed = duration::parse(&format!("{n}{suffix}"));
        if n * ms <= 1_000_000_000_000 {
            prop_assert_eq!(parsed, Ok(Duration::from_millis(n * ms)));
        } else {
            prop_assert!(parsed.is_err(), "{parsed:?}");
        }
    }

    #[test]
    fn any_command_line_parses_or_is_a_typed_usage_error(words in vec(word(), 0..10)) {
        let line = std::iter::once("tenure".to_owned()).chain(words);
        match Cli::try_parse_from(line) {
            Ok(cli) => {
                for d in [cli.connect.session_timeout, cli.connect.connect_timeout] {
                    prop_assert!(d <= Duration::from_secs(1_000_000_000));
                }
                if let Command::Tasks(command) = cli.command {
                    tasks_command_is_checked(command)?;
                }
            }
            // Rendering the message must not panic either.
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn task_additions_are_checked_before_connecting(
        name in prop_oneof!["[A-Za-z0-9_.-]{1,12}", any::<String>(), "[a-z]{254,257}"],
        weight in prop_oneof![Just(0u32), any::<u32>()],
        tags in vec(prop_oneof!["[a-z=]{1,6}", any::<String>(), Just(String::new())], 0..3),
        pin in proptest::option::of(prop_oneof!["[A-Za-z0-9_-]{1,12}", any::<String>()]),
        payload in proptest::option::of(prop_oneof![
            "[^@].{0,40}",
            "@@.{0,20}",
            Just(String::new()),
        ]),
    ) {
        tasks_command_is_checked(TasksCommand::Add(AddArgs {
            name,
            payload,
            weight,
            tags,
            pin,
        }))?;
    }
}

/// Checks a `tenure tasks …` command as the program does before it
/// connects: either a request whose parts are what was asked for, or
/// [`CliError::Invalid`] with a message. A payload read from a file or
/// from standard input (`@FILE`, `@-`) is not fuzzed: it would read the
/// machine's files.
fn tasks_command_is_checked(command: TasksCommand) -> Result<(), TestCaseError> {
    if let TasksCommand::Add(args) = &command
        && let Some(p) = &args.payload
        && p.starts_with('@')
        && !p.starts_with("@@")
    {
        return Ok(());
    }
    let asked = match &command {
        TasksCommand::Add(args) => Some((
            args.name.clone(),
            args.weight,
            args.tags.clone(),
            args.pin.clone(),
            args.payload.clone(),
        )),
        _ => None,
    };
    match TaskOp::check(command) {
        Ok(TaskOp::Add(spec)) => {
            let (name, weight, tags, pin, payload) = asked.unwrap_or_default();
            prop_assert_eq!(spec.id.as_str(), name.as_str());
            prop_assert_eq!(spec.weight.get(), weight);
            prop_assert!(tags.iter().all(|t| spec.tags.contains(t)));
            prop_assert_eq!(spec.pinned.map(|w| w.to_string()), pin);
            let expected = match payload {
                Some(p) => p.strip_prefix('@').unwrap_or(&p).as_bytes().to_vec(),
                None => Vec::new(),
            };
            prop_assert_eq!(spec.payload, expected);
        }
        Ok(_) => {}
        Err(CliError::Invalid(message)) => prop_assert!(!message.is_empty()),
        Err(other) => prop_assert!(false, "not a refusal of input: {other:?}"),
    }
    Ok(())
}
