//! The configuration file of `tenure worker`: a TOML table whose keys are
//! the long options (`cluster = "demo"`, `session-timeout = "4s"`,
//! `tag = ["eu", "ssd"]`), checked whole before anything starts, then
//! installed as the options' defaults, so the environment and the command
//! line still override it.

use std::ffi::OsString;
use std::path::Path;

use clap::{Arg, ArgAction, Command};

use super::ConfigError;

/// The options a file cannot set: how the file itself is found and used,
/// and clap's own.
const NOT_IN_FILE: [&str; 4] = ["config", "print-config", "help", "version"];

/// Options whose values are secrets: hidden from `--help` when a file
/// gives them, redacted by `--print-config`.
pub const SECRETS: [&str; 2] = ["password", "key"];

/// Reads `path` as TOML.
///
/// # Errors
/// [`ConfigError`] naming the file: it cannot be read, or is not TOML.
pub fn read(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "cannot read the configuration file {} (from --config or TENURE_CONFIG): {e}",
            path.display()
        ))
    })?;
    text.parse::<toml::Table>().map_err(|e| {
        ConfigError(format!(
            "the configuration file {} is not valid TOML: {}",
            path.display(),
            e.to_string().trim_end()
        ))
    })
}

/// Installs every key of `table` (read from `path`) as the default of the
/// `worker` subcommand's option of that name, after checking it with the
/// option's own parser. Returns the command and the keys set.
///
/// # Errors
/// [`ConfigError`] naming the file and the key: a key that is no option
/// of `tenure worker`, a value of the wrong TOML type, a value the option
/// refuses (with the parser's reason: a bad duration, an unknown
/// strategy).
pub fn apply(
    mut command: Command,
    path: &Path,
    table: toml::Table,
) -> Result<(Command, Vec<String>), ConfigError> {
    let worker = command
        .find_subcommand("worker")
        .ok_or_else(|| ConfigError("the worker subcommand is missing".into()))?
        .clone();
    let mut keys = Vec::new();
    for (key, value) in table {
        let global = command.get_arguments().find(|a| named(a, &key)).cloned();
        let own = worker.get_arguments().find(|a| named(a, &key)).cloned();
        let Some(arg) = global.clone().or(own) else {
            return Err(unknown(path, &key, &command, &worker));
        };
        let texts = texts(path, &key, &arg, &value)?;
        for text in &texts {
            check(path, &key, &command, &arg, text)?;
        }
        let set = |a: Arg| {
            let a = a.default_values(texts.clone()).required(false);
            if SECRETS.contains(&key.as_str()) {
                a.hide_default_value(true)
            } else {
                a
            }
        };
        // `mut_args`, not `mut_arg`: that one moves the option to the end
        // of `--help`.
        let id = arg.get_id().clone();
        let only = |a: Arg| if *a.get_id() == id { set(a) } else { a };
        command = if global.is_some() {
            command.mut_args(only)
        } else {
            command.mut_subcommand("worker", |w| w.mut_args(only))
        };
        keys.push(key);
    }
    Ok((command, keys))
}

/// Whether `arg` is the option `--key` that a file may set.
fn named(arg: &Arg, key: &str) -> bool {
    arg.get_long() == Some(key) && !NOT_IN_FILE.contains(&key)
}

/// The option's values as command-line texts: a string as it is, an
/// integer in decimal, an array (of a repeatable option) one value each.
fn texts(
    path: &Path,
    key: &str,
    arg: &Arg,
    value: &toml::Value,
) -> Result<Vec<String>, ConfigError> {
    let repeatable = matches!(arg.get_action(), ArgAction::Append);
    let one = |value: &toml::Value| match value {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Integer(n) => Some(n.to_string()),
        _ => None,
    };
    let wanted = if repeatable {
        "a string, an integer or an array of them"
    } else {
        "a string or an integer"
    };
    let bad_type = |found: &toml::Value| {
        ConfigError(format!(
            "{}: `{key}` must be {wanted}, not {} {}{}",
            path.display(),
            article(found.type_str()),
            found.type_str(),
            if matches!(found, toml::Value::Float(_)) {
                " (write a duration as a string with its unit: \"1.5s\")"
            } else {
                ""
            }
        ))
    };
    match value {
        toml::Value::Array(items) if repeatable => items
            .iter()
            .map(|item| one(item).ok_or_else(|| bad_type(item)))
            .collect(),
        other => one(other)
            .map(|text| vec![text])
            .ok_or_else(|| bad_type(other)),
    }
}

fn article(type_name: &str) -> &'static str {
    if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Checks `text` with the option's own parser, as if given on the command
/// line.
fn check(
    path: &Path,
    key: &str,
    command: &Command,
    arg: &Arg,
    text: &str,
) -> Result<(), ConfigError> {
    // The option alone, with its parser, given `--key=TEXT`.
    let mut alone = Arg::new(arg.get_id().clone())
        .long(key.to_owned())
        .action(ArgAction::Set)
        .value_parser(arg.get_value_parser().clone());
    if let Some(names) = arg.get_value_names() {
        alone = alone.value_names(names.to_vec());
    }
    let mut given = OsString::from(format!("--{key}="));
    given.push(text);
    let parsed = Command::new(command.get_name().to_owned())
        .arg(alone)
        .try_get_matches_from([OsString::from("tenure"), given]);
    match parsed {
        Ok(_) => Ok(()),
        Err(e) => {
            let reason = e.to_string();
            let reason = reason.lines().next().unwrap_or_default();
            let reason = reason.strip_prefix("error: ").unwrap_or(reason);
            let shown = if SECRETS.contains(&key) {
                "(hidden)".to_owned()
            } else {
                format!("{text:?}")
            };
            Err(ConfigError(format!(
                "{}: `{key} = {shown}` is refused: {reason}",
                path.display()
            )))
        }
    }
}

/// The error of a key no option has, listing the ones there are.
fn unknown(path: &Path, key: &str, command: &Command, worker: &Command) -> ConfigError {
    let keys: Vec<&str> = command
        .get_arguments()
        .chain(worker.get_arguments())
        .filter_map(Arg::get_long)
        .filter(|long| !NOT_IN_FILE.contains(long))
        .collect();
    ConfigError(format!(
        "unknown key `{key}` in the configuration file {}; its keys are the long options \
         of `tenure worker`: {}",
        path.display(),
        keys.join(", ")
    ))
}
