//! `tenure console`'s command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// `tenure console`.
#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// Where to serve the console, ADDRESS:PORT (port 0 takes a free one);
    /// an address other than loopback makes it reachable from other
    /// machines
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    pub listen: SocketAddr,

    /// Allow operations from the console (pause, resume, add, update,
    /// remove); each request must carry a token of --token-file or
    /// TENURE_CONSOLE_TOKEN. Without it the console is read-only
    #[arg(long)]
    pub allow_writes: bool,

    /// A file of tokens for --allow-writes, one per line, as NAME:TOKEN
    /// (the name is logged with every operation) or TOKEN alone; at least
    /// 16 characters each; `#` starts a comment line
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,

    /// How many ownership events the console keeps for the Live page and
    /// the timeline
    #[arg(long, value_name = "N", default_value_t = 50_000)]
    pub history: usize,
}
