//! `tenure worker --print-config`: the resolved options as a TOML file
//! that `--config` would read back, each value followed by where it came
//! from, secrets redacted.

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, CommandFactory};

use super::Parsed;
use super::file::SECRETS;
use crate::args::Cli;

/// What a secret prints as.
pub const REDACTED: &str = "<redacted>";

/// Options that are not configuration: how the file is found and used,
/// clap's own, and the command after `--`.
const NOT_PRINTED: [&str; 5] = ["config", "print_config", "help", "version", "command"];

/// The resolved configuration of `tenure worker` as TOML, with a comment
/// after each value naming its source (`command line`, the variable, the
/// file, `default`); unset options as comments.
pub fn render(parsed: &Parsed) -> String {
    // The options as declared (not as the file left them: its values are
    // defaults there), in their order.
    let command = Cli::command();
    let Some(worker) = command.find_subcommand("worker") else {
        return String::new();
    };
    let Some(("worker", matches)) = parsed.matches.subcommand() else {
        return String::new();
    };
    let file = match &parsed.file {
        Some(path) => format!("the configuration file {}", path.display()),
        None => "the configuration file (none given)".to_owned(),
    };
    let mut out = format!(
        "# tenure worker: the resolved configuration. Each option comes from the first of:\n\
         # the command line, the environment, {file}, the default.\n\
         # Secrets are shown as \"{REDACTED}\"; unset options are commented out.\n"
    );
    // The global options (connection, logging), then the worker's own;
    // the built subcommand holds copies of the global ones too.
    let global = command.get_arguments();
    let own = worker.get_arguments().filter(|a| !a.is_global_set());
    for arg in global.chain(own) {
        let id = arg.get_id().as_str();
        let Some(key) = arg.get_long() else { continue };
        if NOT_PRINTED.contains(&id) {
            continue;
        }
        match value(arg, key, matches) {
            Some(value) => {
                let source = source(parsed, arg, key, matches);
                out.push_str(&format!("{key} = {value}  # {source}\n"));
            }
            None => out.push_str(&format!("# {key} (unset)\n")),
        }
    }
    out
}

/// The option's value in TOML: an array for a repeatable option, an
/// integer for a count (`N`), a string otherwise; `None` when unset.
fn value(arg: &Arg, key: &str, matches: &ArgMatches) -> Option<toml::Value> {
    let texts: Vec<String> = matches
        .get_raw(arg.get_id().as_str())?
        .map(|raw| raw.to_string_lossy().into_owned())
        .collect();
    if SECRETS.contains(&key) {
        return Some(toml::Value::String(REDACTED.into()));
    }
    let count = arg
        .get_value_names()
        .is_some_and(|names| names.iter().any(|n| n.as_str() == "N"));
    let one = |text: &String| match text.parse::<i64>() {
        Ok(n) if count && n.to_string() == *text => toml::Value::Integer(n),
        _ => toml::Value::String(text.clone()),
    };
    if matches!(arg.get_action(), ArgAction::Append) {
        return Some(toml::Value::Array(texts.iter().map(one).collect()));
    }
    texts.first().map(one)
}

/// Where the option's value came from.
fn source(parsed: &Parsed, arg: &Arg, key: &str, matches: &ArgMatches) -> String {
    match matches.value_source(arg.get_id().as_str()) {
        Some(ValueSource::CommandLine) => "command line".into(),
        Some(ValueSource::EnvVariable) => match arg.get_env() {
            Some(var) => var.to_string_lossy().into_owned(),
            None => "environment".into(),
        },
        _ if parsed.from_file.iter().any(|k| k == key) => "configuration file".into(),
        _ => "default".into(),
    }
}
