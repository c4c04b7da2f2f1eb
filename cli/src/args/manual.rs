//! `tenure completions SHELL` and `tenure man [COMMAND…]`: the shell
//! completion scripts (`clap_complete`) and the manual pages
//! (`clap_mangen`), both made from the command line itself, so they
//! cannot drift from it. Neither connects to anything.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;
use crate::error::{CliError, CliResult};
use crate::output::emit;

/// The long help of `tenure completions`.
pub const COMPLETIONS_ABOUT: &str = "\
Print a shell completion script for tenure on standard output.

Install it where the shell looks, for example:
  bash:        tenure completions bash > ~/.local/share/bash-completion/completions/tenure
  zsh:         tenure completions zsh > ~/.zfunc/_tenure   (with fpath+=~/.zfunc before compinit)
  fish:        tenure completions fish > ~/.config/fish/completions/tenure.fish
  elvish:      tenure completions elvish >> ~/.config/elvish/rc.elv
  powershell:  tenure completions powershell >> $PROFILE";

/// The long help of `tenure man`.
pub const MAN_ABOUT: &str = "\
Print a manual page (roff) on standard output: tenure's, or a subcommand's.

  tenure man | man -l -                 read it now
  tenure man worker > tenure-worker.1   the page of `tenure worker`
  tenure man > ~/.local/share/man/man1/tenure.1   install it";

/// `tenure completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `tenure man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (`worker`, `tasks add`, …);
    /// none: tenure's own page
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// The completion script of `shell` for the whole command line.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tenure", &mut script);
    script
}

/// Prints [`completions`].
///
/// # Errors
/// As [`emit`].
pub fn print_completions(args: &CompletionsArgs) -> CliResult {
    emit(&String::from_utf8_lossy(&completions(args.shell)))
}

/// The manual page of `tenure` followed by the subcommand names in `path`
/// (`[]`: tenure's own page).
///
/// # Errors
/// [`CliError::Invalid`] naming a subcommand that does not exist.
pub fn man_page(path: &[String]) -> CliResult<Vec<u8>> {
    let mut command = Cli::command();
    command.build();
    let mut page = &command;
    for name in path {
        page = page
            .get_subcommands()
            .find(|c| c.get_name() == name && !c.is_hide_set())
            .ok_or_else(|| {
                let names: Vec<&str> = page
                    .get_subcommands()
                    .filter(|c| !c.is_hide_set())
                    .map(clap::Command::get_name)
                    .collect();
                CliError::Invalid(format!(
                    "no subcommand {name:?} to print the page of; choose one of: {}",
                    names.join(", ")
                ))
            })?;
    }
    let mut roff = Vec::new();
    clap_mangen::Man::new(page.clone())
        .render(&mut roff)
        .map_err(|e| CliError::Failed(format!("cannot render the manual page: {e}")))?;
    Ok(title_first(&String::from_utf8_lossy(&roff)).into_bytes())
}

/// The page with its `.TH` title line first, as `man`, `file` and
/// `mandb` expect of a page: `clap_mangen` puts the definition of the
/// apostrophe string before it, which means the same after it.
fn title_first(roff: &str) -> String {
    let mut lines: Vec<&str> = roff.lines().collect();
    if let Some(at) = lines.iter().position(|l| l.starts_with(".TH ")) {
        let title = lines.remove(at);
        lines.insert(0, title);
    }
    let mut page = lines.join("\n");
    page.push('\n');
    page
}

/// Prints [`man_page`].
///
/// # Errors
/// As [`man_page`] and [`emit`].
pub fn print_man(args: &ManArgs) -> CliResult {
    emit(&String::from_utf8_lossy(&man_page(&args.command)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn every_shell_gets_a_script_naming_the_subcommands_and_no_hidden_one() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::Elvish,
            Shell::PowerShell,
        ] {
            let script = text(completions(shell));
            for name in ["worker", "tasks", "status", "completions", "man"] {
                assert!(script.contains(name), "{shell}: no {name}");
            }
            assert!(!script.contains("__child"), "{shell}: {script}");
        }
        let bash = text(completions(Shell::Bash));
        assert!(bash.contains("--session-timeout"), "{bash}");
        assert!(bash.contains("complete -F _tenure"), "{bash}");
    }

    #[test]
    fn the_man_page_is_roff_naming_every_subcommand() {
        let page = text(man_page(&[]).unwrap());
        assert!(page.starts_with(".TH"), "{page}");
        for name in [
            "worker", "tasks", "workers", "cluster", "status", "watch", "console",
        ] {
            assert!(
                page.contains(&format!("tenure\\-{name}")),
                "no {name}: {page}"
            );
        }
        assert!(!page.contains("__child"), "{page}");
    }

    #[test]
    fn a_subcommand_has_its_own_page_and_an_unknown_one_is_refused() {
        let page = text(man_page(&["worker".into()]).unwrap());
        assert!(page.starts_with(".TH"), "{page}");
        assert!(page.contains("restart\\-delay"), "{page}");
        let add = text(man_page(&["tasks".into(), "add".into()]).unwrap());
        assert!(add.contains("payload"), "{add}");
        let err = man_page(&["wroker".into()]).unwrap_err();
        assert!(err.to_string().contains("\"wroker\""), "{err}");
        assert!(err.to_string().contains("worker"), "{err}");
    }
}
