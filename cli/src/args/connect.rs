//! How to reach the cluster: the options every subcommand takes.

use std::fmt;
use std::time::Duration;

use clap::Args;

use crate::duration;

/// The coordination backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Apache ZooKeeper.
    Zookeeper,
    /// etcd v3.
    Etcd,
}

impl Backend {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Zookeeper => "zookeeper",
            Backend::Etcd => "etcd",
        }
    }

    /// Where the backend's server listens by default.
    pub fn default_connect(self) -> &'static str {
        match self {
            Backend::Zookeeper => "127.0.0.1:2181",
            Backend::Etcd => "127.0.0.1:2379",
        }
    }
}

fn parse_backend(text: &str) -> Result<Backend, String> {
    match text.to_ascii_lowercase().as_str() {
        "zookeeper" | "zk" => Ok(Backend::Zookeeper),
        "etcd" => Ok(Backend::Etcd),
        "memory" => Err(
            "the memory backend lives inside one process, so separate `tenure` \
                         processes cannot share a cluster through it; use zookeeper or etcd"
                .into(),
        ),
        other => Err(format!("unknown backend {other:?}: use zookeeper or etcd")),
    }
}

/// The variables that carry credentials: `tenure worker` removes them
/// from its commands' environment (with `TENURE_CONFIG`, whose file may
/// hold a password), so a command cannot read or pass them on.
pub const CREDENTIAL_ENV: [&str; 6] = [
    "TENURE_USER",
    "TENURE_PASSWORD",
    "TENURE_CA",
    "TENURE_CERT",
    "TENURE_KEY",
    "TENURE_CONSOLE_TOKEN",
];

/// A password: never shown by `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The password itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

fn parse_secret(text: &str) -> Result<Secret, String> {
    Ok(Secret(text.to_owned()))
}

/// Options shared by every subcommand.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectArgs {
    /// The coordination backend: zookeeper or etcd
    #[arg(
        long,
        global = true,
        env = "TENURE_BACKEND",
        value_name = "zookeeper|etcd",
        value_parser = parse_backend,
        default_value = "zookeeper"
    )]
    pub backend: Backend,

    /// The servers: host:port[,host:port…]; for ZooKeeper a trailing /path
    /// is a chroot, for etcd each endpoint may start with http://
    /// [default: 127.0.0.1:2181, or 127.0.0.1:2379 for etcd]
    #[arg(long, global = true, env = "TENURE_CONNECT", value_name = "HOSTS")]
    pub connect: Option<String>,

    /// The cluster's name (its data lives under /tenure/NAME)
    #[arg(
        long,
        global = true,
        env = "TENURE_CLUSTER",
        value_name = "NAME",
        default_value = "default"
    )]
    pub cluster: String,

    /// The session timeout to ask for (the server may grant another; etcd
    /// rounds it up to whole seconds as the lease TTL; a dead worker's
    /// tasks move after about this long)
    #[arg(
        long,
        global = true,
        env = "TENURE_SESSION_TIMEOUT",
        value_name = "DURATION",
        default_value = "10s",
        value_parser = duration::parse
    )]
    pub session_timeout: Duration,

    /// How long to try reaching the servers before giving up
    #[arg(
        long,
        global = true,
        env = "TENURE_CONNECT_TIMEOUT",
        value_name = "DURATION",
        default_value = "10s",
        value_parser = duration::parse
    )]
    pub connect_timeout: Duration,

    /// ZooKeeper only: the ensemble's tickTime. The worker proves its
    /// session to the leader through followers in rounds timed by it;
    /// unknown, it assumes the largest the granted session allows (half of
    /// it, under ZooKeeper's default minSessionTimeout of 2 × tickTime),
    /// which leaves less of a short session for --grace. Give the real
    /// value, or a larger one, never a smaller one
    #[arg(long, global = true, env = "TENURE_ZK_TICK_TIME", value_name = "DURATION", value_parser = duration::parse)]
    pub zk_tick_time: Option<Duration>,

    /// User to authenticate as (ZooKeeper digest, etcd user)
    #[arg(long, global = true, env = "TENURE_USER", value_name = "USER")]
    pub user: Option<String>,

    /// Password of --user; prefer the TENURE_PASSWORD variable, since
    /// command lines are visible to other users of the machine
    #[arg(
        long,
        global = true,
        env = "TENURE_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD",
        value_parser = parse_secret
    )]
    pub password: Option<Secret>,

    #[command(flatten)]
    pub tls: crate::tls::TlsArgs,
}
