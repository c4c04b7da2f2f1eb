//! The processes descending from one process, read from `/proc`.
//!
//! A run's shim is a child subreaper, so every process its command starts,
//! at any depth, stays in its tree: a process whose parent dies is
//! reparented to the shim, not to init, whatever process group or session
//! it moved to (`setsid`, a double fork). Walking the parent links in
//! `/proc` from the shim finds them all. A cgroup would too, but creating
//! one needs root or a delegated subtree, which a worker cannot count on;
//! the tree needs nothing.
//!
//! What the walk cannot see: processes started on the command's behalf by
//! another service (`systemd-run`, `docker run`, a job queued to a daemon)
//! are children of that service, not of the command; a process that
//! changed its user (a setuid program) may be invisible in `/proc` and
//! cannot be signalled anyway.

use std::collections::HashMap;
use std::time::Duration;

use crate::sys::{self, Pid};

/// One process of a tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its id.
    pub pid: Pid,
    /// Its process group.
    pub group: Pid,
    /// Whether it has ended and waits to be reaped (signals do nothing to
    /// it).
    pub zombie: bool,
}

/// What `/proc/PID/stat` says of a process: its parent, group and state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stat {
    parent: Pid,
    group: Pid,
    state: char,
}

/// Parses `/proc/PID/stat`: `pid (comm) state ppid pgrp …`, where the
/// command name may hold spaces and parentheses (hence the last `)`).
fn parse_stat(text: &str) -> Option<Stat> {
    let (_, rest) = text.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    let group = fields.next()?.parse().ok()?;
    Some(Stat {
        parent,
        group,
        state,
    })
}

/// Every process of the machine visible in `/proc`, by pid.
fn all_processes() -> HashMap<Pid, Stat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    entries
        .filter_map(|entry| {
            let pid: Pid = entry.ok()?.file_name().to_str()?.parse().ok()?;
            // A process that ended since the listing has no stat any more.
            let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            Some((pid, parse_stat(&text)?))
        })
        .collect()
}

/// The processes descending from `root` (not `root` itself), children
/// before their own children. A snapshot: processes forked after it are
/// not in it.
pub fn descendants(root: Pid) -> Vec<Member> {
    let all = all_processes();
    let mut children: HashMap<Pid, Vec<Pid>> = HashMap::new();
    for (&pid, stat) in &all {
        children.entry(stat.parent).or_default().push(pid);
    }
    let mut found = Vec::new();
    let mut next = vec![root];
    // Parent links form a tree (pid 0 has no entry), so this ends; the
    // bound guards against a listing torn by pid reuse.
    while let Some(pid) = next.pop() {
        if found.len() > all.len() {
            break;
        }
        for &child in children.get(&pid).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(stat) = all.get(&child) {
                found.push(Member {
                    pid: child,
                    group: stat.group,
                    zombie: stat.state == 'Z',
                });
                next.push(child);
            }
        }
    }
    found
}

/// Sends `signal` to every living process of `members`; returns whether
/// there was any.
pub fn signal_each(members: &[Member], signal: libc::c_int) -> bool {
    let mut any = false;
    for m in members.iter().filter(|m| !m.zombie) {
        any = true;
        let _ = sys::signal_process(m.pid, signal);
    }
    any
}

/// Rounds of [`kill_tree`] at most.
const KILL_ROUNDS: u32 = 50;
/// The pause between two rounds of [`kill_tree`].
const KILL_ROUND_PAUSE: Duration = Duration::from_millis(2);

/// Kills the tree of a shim from outside, when the shim cannot do it
/// itself (it is stuck, or the supervisor stopped waiting for it): stops
/// the shim first, so that it can neither exit (which would hand its
/// descendants over to init) nor reap anything, kills every descendant
/// with SIGKILL until none is left alive (a process forked between two
/// rounds is reparented to the stopped shim and found in the next), then
/// kills the shim's process group. Blocks for at most about 50 rounds of
/// a `/proc` scan.
pub fn kill_tree(shim: Pid) {
    let _ = sys::signal_process(shim, sys::SIGSTOP);
    for _ in 0..KILL_ROUNDS {
        let alive: Vec<Member> = descendants(shim)
            .into_iter()
            .filter(|m| !m.zombie)
            .collect();
        if alive.is_empty() {
            break;
        }
        let _ = signal_each(&alive, sys::SIGKILL);
        std::thread::sleep(KILL_ROUND_PAUSE);
    }
    let _ = sys::signal_group(shim, sys::SIGKILL);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::process::{Command, Stdio};

    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        let stat = "4242 (a (b) c) S 17 4240 4240 0 -1 4194560 83 0 0 0";
        assert_eq!(
            parse_stat(stat),
            Some(Stat {
                parent: 17,
                group: 4240,
                state: 'S'
            })
        );
        assert_eq!(parse_stat("7 (z) Z 1 7 7").map(|s| s.state), Some('Z'));
        assert_eq!(parse_stat("7 (broken"), None);
        assert_eq!(parse_stat("7 (x) R notanumber 1"), None);
    }

    /// A grandchild in a session of its own is still found below its
    /// grandparent, and killing it from the list works.
    #[test]
    fn grandchildren_that_left_the_group_are_descendants() {
        let mut child = Command::new("sh")
            .args(["-c", "setsid sleep 30 & echo $!; exec sleep 30"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let grandchild: Pid = line.trim().parse().unwrap();
        let me = sys::own_pid();
        let shell = Pid::try_from(child.id()).unwrap();
        let group_of = |pid: Pid| {
            descendants(me)
                .into_iter()
                .find(|m| m.pid == pid)
                .map(|m| m.group)
        };
        // `$!` is printed before `setsid` has run: wait (at most 5 s) until
        // the grandchild has left the group.
        let moved = (0..500).any(|_| {
            let moved = group_of(grandchild).is_some_and(|g| Some(g) != group_of(shell));
            if !moved {
                std::thread::sleep(Duration::from_millis(10));
            }
            moved
        });
        assert!(moved, "setsid moved it out of the group");
        assert!(descendants(shell).iter().any(|m| m.pid == grandchild));
        assert!(signal_each(&descendants(shell), sys::SIGKILL));
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
