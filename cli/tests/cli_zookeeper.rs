//! The `tenure` program against a real ZooKeeper server: every subcommand,
//! supervisor failover and handoff, and ZooKeeper credentials.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::Target;
use tenure_tests::zookeeper::ZkServer;

fn zookeeper() -> Target {
    Target {
        backend: "zookeeper",
        connect: ZkServer::shared().connect_string(),
    }
}

cli_suite!(zookeeper());

/// Digest credentials protect what they created: the wrong password gets
/// exit code 4 and a message that does not echo it; the right one works.
#[test]
fn wrong_credentials_are_refused_and_never_echoed() {
    let c = zookeeper().cluster("creds");
    let run = |password: &str, args: &[&str]| c.run_as("alice", password, args);
    let out = run("right-secret", &["tasks", "add", "guarded"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run("wrong-secret", &["tasks", "ls"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("not authorised"), "{stderr}");
    assert!(!stderr.contains("wrong-secret") && out.stdout.is_empty());
    let anonymous = c.run(&["tasks", "ls"]);
    assert_eq!(anonymous.status.code(), Some(4));
    let out = run("right-secret", &["tasks", "ls"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("guarded"));
    let mut command = c.command();
    command.args(["--password", "lonely", "status"]);
    let out = common::run_bounded(&mut command);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("lonely"));
}

/// A ZooKeeper chroot in `--connect` keeps the cluster below it.
#[test]
fn connect_string_chroot_confines_the_cluster() {
    let server = ZkServer::shared().connect_string();
    let base = zookeeper().cluster("chroot");
    let inside = common::Target {
        backend: "zookeeper",
        connect: format!("{server}/{}", base.name),
    };
    let c = common::Cluster {
        target: inside,
        name: base.name.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    c.ok(&["tasks", "add", "rooted"]);
    assert!(c.task("rooted").is_some());
    assert!(
        base.task("rooted").is_none(),
        "the task lives below the chroot only"
    );
}
