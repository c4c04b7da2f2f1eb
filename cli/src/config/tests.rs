//! The configuration file: precedence against the command line and the
//! defaults, its errors, and `--print-config`. (The environment's place
//! is tested by running the program: `cli/tests/cli_config.rs`.)

use std::path::Path;
use std::time::Duration;

use tenure_strategies::StrategyKind;

use super::*;
use crate::args::{Command, WorkerArgs};

/// A configuration file holding `text`, and its directory.
fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("worker.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn line(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

/// `tenure worker --config PATH EXTRA -- true`.
fn with_file(path: &Path, extra: &[&str]) -> Result<Parsed, ParseError> {
    let path = path.to_str().unwrap();
    let head = ["tenure", "worker", "--config", path];
    parse(&line(&[&head[..], extra, &["--", "true"]].concat()))
}

fn worker(parsed: &Parsed) -> &WorkerArgs {
    match &parsed.cli.command {
        Command::Worker(w) => w,
        other => panic!("not a worker: {other:?}"),
    }
}

fn config_error(result: Result<Parsed, ParseError>) -> String {
    match result {
        Err(ParseError::Config(e)) => e.to_string(),
        Err(ParseError::Usage(e)) => panic!("a usage error, not the file's: {e}"),
        Ok(parsed) => panic!("accepted: {:?}", parsed.cli),
    }
}

#[test]
fn the_file_sets_what_the_command_line_does_not() {
    let (_dir, path) = file(
        r#"
        id = "from-file"
        cluster = "night"
        session-timeout = "4s"
        grace = "1m30s"
        capacity = 3
        tag = ["eu", "ssd"]
        strategy = "round-robin"
        "#,
    );
    let parsed = with_file(&path, &["--capacity", "5", "--cluster", "day"]).unwrap();
    let w = worker(&parsed);
    assert_eq!(
        w.id, "from-file",
        "a required option may come from the file"
    );
    assert_eq!(w.capacity, 5, "the command line wins over the file");
    assert_eq!(
        parsed.cli.connect.cluster, "day",
        "also for a global option"
    );
    assert_eq!(parsed.cli.connect.session_timeout, Duration::from_secs(4));
    assert_eq!(w.grace, Some(Duration::from_secs(90)));
    assert_eq!(w.tags, ["eu", "ssd"]);
    assert_eq!(w.strategy, StrategyKind::RoundRobin);
    assert_eq!(w.restart_delay, Duration::from_secs(1), "the default stays");
    assert_eq!(w.handoff_timeout, None);
    assert_eq!(parsed.file.as_deref(), Some(path.as_path()));
}

#[test]
fn without_a_file_nothing_changes_and_other_subcommands_ignore_config() {
    let parsed = parse(&line(&["tenure", "worker", "--id", "a", "--", "true"])).unwrap();
    assert!(parsed.file.is_none() && parsed.from_file.is_empty());
    assert_eq!(worker(&parsed).capacity, 1);
    let parsed = parse(&line(&["tenure", "status"])).unwrap();
    assert!(parsed.file.is_none());
}

#[test]
fn an_unknown_key_is_refused_naming_it_and_the_file() {
    let (_dir, path) = file("id = \"a\"\nsesion-timeout = \"4s\"\n");
    let err = config_error(with_file(&path, &[]));
    assert!(err.contains("unknown key `sesion-timeout`"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(
        err.contains("session-timeout"),
        "the keys are listed: {err}"
    );
    for not_a_key in [
        "config = \"x\"",
        "print-config = \"x\"",
        "help = 1",
        "command = \"x\"",
    ] {
        let (_dir, path) = file(not_a_key);
        let err = config_error(with_file(&path, &["--id", "a"]));
        assert!(err.contains("unknown key"), "{not_a_key}: {err}");
    }
}

#[test]
fn a_value_of_the_wrong_type_is_refused_naming_the_key() {
    for (text, key, wanted) in [
        ("capacity = 1.5", "capacity", "not a float"),
        ("grace = 1.5", "grace", "\"1.5s\""),
        ("cluster = [\"a\", \"b\"]", "cluster", "not an array"),
        ("tag = [true]", "tag", "not a boolean"),
        ("id = { name = \"a\" }", "id", "not a table"),
    ] {
        let (_dir, path) = file(text);
        let err = config_error(with_file(&path, &["--id", "a"]));
        assert!(err.contains(&format!("`{key}` must be")), "{text}: {err}");
        assert!(err.contains(wanted), "{text}: {err}");
        assert!(err.contains(&path.display().to_string()), "{text}: {err}");
    }
}

#[test]
fn a_bad_value_is_refused_with_the_options_own_reason() {
    let (_dir, path) = file("grace = \"2 fortnights\"");
    let err = config_error(with_file(&path, &["--id", "a"]));
    assert!(
        err.contains("`grace = \"2 fortnights\"` is refused"),
        "{err}"
    );
    assert!(err.contains("examples: 500ms"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    let (_dir, path) = file("strategy = \"fastest\"\ncapacity = \"many\"");
    let err = config_error(with_file(&path, &["--id", "a"]));
    assert!(err.contains("`capacity = \"many\"` is refused"), "{err}");
}

#[test]
fn a_missing_or_malformed_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let err = config_error(with_file(&missing, &["--id", "a"]));
    assert!(err.contains("cannot read the configuration file"), "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    let (_dir, path) = file("cluster = ");
    let err = config_error(with_file(&path, &["--id", "a"]));
    assert!(err.contains("is not valid TOML"), "{err}");
}

#[test]
fn print_config_names_each_source_and_redacts_secrets() {
    let (_dir, path) =
        file("id = \"w1\"\nsession-timeout = \"4s\"\npassword = \"hunter2\"\ntag = [\"eu\"]\n");
    let parsed = with_file(&path, &["--cluster", "day", "--max-moves", "2"]).unwrap();
    let text = render(&parsed);
    for expected in [
        "cluster = \"day\"  # command line",
        "max-moves = 2  # command line",
        "session-timeout = \"4s\"  # configuration file",
        "id = \"w1\"  # configuration file",
        "tag = [\"eu\"]  # configuration file",
        "password = \"<redacted>\"  # configuration file",
        "restart-delay = \"1s\"  # default",
        "# grace (unset)",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("print-config ="), "{text}");
    assert!(!format!("{parsed:?}").contains("hunter2"), "{parsed:?}");
    // What it prints is a configuration file that reads back the same.
    let values: String = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("password"))
        .map(|l| format!("{}\n", l.split("  #").next().unwrap()))
        .collect();
    let (_dir, again) = file(&values);
    let reread = with_file(&again, &[]).unwrap();
    assert_eq!(worker(&reread).id, "w1");
    assert_eq!(worker(&reread).max_moves, Some(2));
    assert_eq!(reread.cli.connect.cluster, "day");
}

#[test]
fn a_password_from_the_file_is_not_shown_by_help() {
    let (_dir, path) = file("password = \"hunter2\"\ncluster = \"night\"");
    let table = file::read(&path).unwrap();
    let (mut command, _) = file::apply(Cli::command(), &path, table).unwrap();
    command.build();
    let help = command
        .find_subcommand_mut("worker")
        .unwrap()
        .render_long_help()
        .to_string();
    assert!(!help.contains("hunter2"), "{help}");
    assert!(help.contains("night"), "the file's defaults show: {help}");
}
