//! Real ZooKeeper 3.8 servers for tests: one shared standalone server per
//! test binary, private servers that can be stopped and restarted on the
//! same data, and 3-node ensembles.
//!
//! Servers start with the direct `java` line (zkServer.sh loses logs),
//! `tickTime=200`, `minSessionTimeout=400` (so sub-second sessions work),
//! `-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1`, a WARN-level
//! console log appended to `server.log` in the server's scratch directory,
//! on a free 127.0.0.1 port (the classpath also has the Netty jars that the
//! TLS servers of [`ZkServer::start_tls`] need). They die with the test binary (see
//! [`server_util`](crate::server_util)).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::server_util::{
    RestartableProcess, free_port, require_file, require_program, scratch_dir, tcp_request,
};
use crate::tls::TestPki;

/// The server's tick.
pub const TICK: Duration = Duration::from_millis(200);

/// The shortest session timeout the servers grant.
pub const MIN_SESSION_TIMEOUT: Duration = Duration::from_millis(400);

/// The longest session timeout the servers grant.
pub const MAX_SESSION_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a server may take to start serving.
const START_LIMIT: Duration = Duration::from_secs(30);

const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";

/// Peer and election ports of one ensemble member.
#[derive(Clone, Copy, Debug)]
pub(super) struct Peer {
    pub(super) id: u32,
    pub(super) quorum: u16,
    pub(super) election: u16,
}

impl Peer {
    /// A member id with two free ports.
    pub(super) fn new(id: u32) -> Peer {
        Peer {
            id,
            quorum: free_port(),
            election: free_port(),
        }
    }

    /// Its `server.N` line, with these addresses for its two ports.
    pub(super) fn line(&self, quorum: SocketAddr, election: SocketAddr) -> String {
        format!("server.{}={quorum}:{}\n", self.id, election.port())
    }

    /// Its own `server.N` line (the ports it binds).
    pub(super) fn own_line(&self) -> String {
        let at = |port| SocketAddr::from(([127, 0, 0, 1], port));
        self.line(at(self.quorum), at(self.election))
    }
}

/// The timing lines of a `zoo.cfg`.
#[derive(Clone, Copy, Debug)]
pub struct ZkTiming {
    /// `tickTime`.
    pub tick: Duration,
    /// `initLimit`, in ticks.
    pub init_limit: u32,
    /// `syncLimit`, in ticks: how long a follower keeps serving its
    /// clients without hearing from its leader.
    pub sync_limit: u32,
    /// `minSessionTimeout`.
    pub min_session: Duration,
    /// `maxSessionTimeout`.
    pub max_session: Duration,
}

impl Default for ZkTiming {
    /// [`TICK`], `initLimit=10`, `syncLimit=5`, [`MIN_SESSION_TIMEOUT`],
    /// [`MAX_SESSION_TIMEOUT`].
    fn default() -> Self {
        ZkTiming {
            tick: TICK,
            init_limit: 10,
            sync_limit: 5,
            min_session: MIN_SESSION_TIMEOUT,
            max_session: MAX_SESSION_TIMEOUT,
        }
    }
}

/// One ZooKeeper server process with its own data directory; stopping it
/// keeps the data, so it can start again where it was.
#[derive(Debug)]
pub struct ZkServer {
    dir: tempfile::TempDir,
    port: u16,
    secure_port: Option<u16>,
    process: RestartableProcess,
}

impl ZkServer {
    /// The standalone server this test binary shares, started on first use.
    /// Tests keep apart by using their own paths (see
    /// [`unique_root`](crate::backend::unique_root)).
    pub fn shared() -> &'static ZkServer {
        static SHARED: OnceLock<ZkServer> = OnceLock::new();
        SHARED.get_or_init(ZkServer::start)
    }

    /// Starts a private standalone server and waits until it answers
    /// `ruok` with `imok`. Panics (naming the install command when java or
    /// ZooKeeper is missing) if it cannot start.
    pub fn start() -> ZkServer {
        let server = ZkServer::configure("zk", &ZkTiming::default(), None);
        server.start_again();
        server
    }

    /// Starts a private standalone server that also serves TLS on a
    /// secure client port ([`secure_addr`](Self::secure_addr)),
    /// with `pki`'s server certificate, requiring client certificates
    /// signed by `pki`'s CA. The plain port stays open for the
    /// four-letter words the harness uses.
    pub fn start_tls(pki: &TestPki) -> ZkServer {
        let mut server = ZkServer::configure("zk-tls", &ZkTiming::default(), None);
        let secure = free_port();
        let keystore = pki.server_key_and_cert();
        let lines = format!(
            "secureClientPort={secure}\n\
             serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n\
             ssl.keyStore.location={keystore}\nssl.keyStore.type=PEM\n\
             ssl.trustStore.location={ca}\nssl.trustStore.type=PEM\n\
             ssl.clientAuth=need\n",
            keystore = keystore.display(),
            ca = pki.ca_file().display(),
        );
        let cfg = server.dir.path().join("zoo.cfg");
        let mut text = std::fs::read_to_string(&cfg).unwrap();
        text.push_str(&lines);
        std::fs::write(&cfg, text).unwrap();
        server.secure_port = Some(secure);
        server.start_again();
        server
    }

    /// The secure client address, for a server started with
    /// [`start_tls`](Self::start_tls).
    pub fn secure_addr(&self) -> SocketAddr {
        let port = self.secure_port.expect("started with ZkServer::start_tls");
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Writes the data directory and `zoo.cfg` of a server; `member`
    /// (its id and the `server.N` lines it is given) makes it an ensemble
    /// member.
    pub(super) fn configure(
        name: &str,
        timing: &ZkTiming,
        member: Option<(u32, &[String])>,
    ) -> ZkServer {
        let dir = scratch_dir(name);
        let port = free_port();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let mut cfg = format!(
            "tickTime={tick}\ninitLimit={init}\nsyncLimit={sync}\ndataDir={data}\nclientPort={port}\n\
             clientPortAddress=127.0.0.1\nminSessionTimeout={min}\nmaxSessionTimeout={max}\n\
             admin.enableServer=false\n4lw.commands.whitelist=*\nforceSync=no\n\
             maxClientCnxns=0\nclientPortListenBacklog=1024\n",
            tick = timing.tick.as_millis(),
            init = timing.init_limit,
            sync = timing.sync_limit,
            data = data.display(),
            min = timing.min_session.as_millis(),
            max = timing.max_session.as_millis(),
        );
        if let Some((id, lines)) = member {
            std::fs::write(data.join("myid"), format!("{id}\n")).unwrap();
            for line in lines {
                cfg.push_str(line);
            }
        }
        std::fs::write(dir.path().join("zoo.cfg"), cfg).unwrap();
        let name = match member {
            Some((id, _)) => format!("ZooKeeper member {id} on port {port}"),
            None => format!("ZooKeeper on port {port}"),
        };
        let process = RestartableProcess::new(name, dir.path().join("server.log"));
        ZkServer {
            dir,
            port,
            secure_port: None,
            process,
        }
    }

    fn command(&self) -> Command {
        require_file(ZOOKEEPER_JAR, "ZooKeeper");
        let java = require_program("java", "Java (needed by ZooKeeper)");
        let mut command = Command::new(java);
        command
            .args([
                "-Xms32m",
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Dzookeeper.root.logger=WARN,CONSOLE",
                "-cp",
                "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:\
                 /usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar:\
                 /usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar",
                "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            ])
            .arg(self.dir.path().join("zoo.cfg"));
        command
    }

    /// Starts the process (again, on the same port and data) without
    /// waiting for it to serve.
    pub(super) fn launch(&self) {
        self.process.launch(|| self.command());
    }

    /// Waits until `ready` holds, failing with the log's tail.
    pub(super) fn wait(&self, what: &str, ready: impl FnMut() -> bool) -> Duration {
        self.process.wait_ready(what, START_LIMIT, ready)
    }

    /// Starts the server again on its data (after [`stop`](Self::stop)) and
    /// waits until it answers `ruok`; returns how long that took.
    pub fn start_again(&self) -> Duration {
        self.launch();
        self.wait("answering ruok", || {
            self.four_letter("ruok").is_ok_and(|r| r == "imok")
        })
    }

    /// Kills the server (SIGKILL, as a crash); its data stays.
    pub fn stop(&self) {
        self.process.stop();
    }

    /// The process id, while started.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Whether the process runs.
    pub fn is_running(&self) -> bool {
        self.process.is_running()
    }

    /// The client address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `host:port` for a connect string.
    pub fn connect_string(&self) -> String {
        self.addr().to_string()
    }

    /// The scratch directory (data, `zoo.cfg`, `server.log`).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Sends a four-letter word (`ruok`, `srvr`, `cons`, …) and returns the
    /// answer.
    ///
    /// # Errors
    /// When the server does not answer within a second.
    pub fn four_letter(&self, word: &str) -> std::io::Result<String> {
        tcp_request(self.addr(), word.as_bytes(), Duration::from_secs(1))
    }

    /// Waits until the server serves in a quorum (as leader or follower);
    /// returns how long that took.
    pub fn wait_serving(&self) -> Duration {
        self.wait("serving in a quorum", || {
            matches!(self.mode().as_deref(), Some("leader" | "follower"))
        })
    }

    /// The server's mode from `srvr` (`standalone`, `leader`, `follower`),
    /// or `None` while it is not serving.
    pub fn mode(&self) -> Option<String> {
        let srvr = self.four_letter("srvr").ok()?;
        srvr.lines()
            .find_map(|l| l.strip_prefix("Mode: "))
            .map(|m| m.trim().to_string())
    }
}

/// A 3-node (or n-node) ZooKeeper ensemble on loopback ports.
#[derive(Debug)]
pub struct ZkEnsemble {
    members: Vec<ZkServer>,
}

impl ZkEnsemble {
    /// Starts `n` members and waits until each serves as leader or follower.
    pub fn start(n: usize) -> ZkEnsemble {
        let peers: Vec<Peer> = (1..=n as u32).map(Peer::new).collect();
        let lines: Vec<String> = peers.iter().map(Peer::own_line).collect();
        let timing = ZkTiming::default();
        let members: Vec<ZkServer> = peers
            .iter()
            .map(|p| ZkServer::configure(&format!("zk{}", p.id), &timing, Some((p.id, &lines))))
            .collect();
        let ensemble = ZkEnsemble { members };
        for m in &ensemble.members {
            m.launch();
        }
        for i in 0..n {
            ensemble.wait_serving(i);
        }
        ensemble
    }

    /// The members, in id order (member `i` has id `i + 1`).
    pub fn members(&self) -> &[ZkServer] {
        &self.members
    }

    /// Every member's address, as a connect string.
    pub fn connect_string(&self) -> String {
        let all: Vec<String> = self.members.iter().map(ZkServer::connect_string).collect();
        all.join(",")
    }

    /// The index of the current leader, if one is serving.
    pub fn leader(&self) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.mode().as_deref() == Some("leader"))
    }

    /// Waits until member `i` serves (as leader or follower).
    pub fn wait_serving(&self, i: usize) -> Duration {
        self.members[i].wait_serving()
    }

    /// Kills member `i`; its data stays.
    pub fn stop(&self, i: usize) {
        self.members[i].stop();
    }

    /// Starts member `i` again and waits until it serves.
    pub fn start_again(&self, i: usize) -> Duration {
        self.members[i].launch();
        self.wait_serving(i)
    }
}
