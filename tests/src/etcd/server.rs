//! Real etcd 3.4 servers for tests: one shared single-member server per
//! test binary, private servers that can be stopped and restarted on the
//! same data, and 3-member clusters whose members can be killed and
//! restarted one at a time.
//!
//! Every member listens on free 127.0.0.1 ports with its own data
//! directory, `--heartbeat-interval 50 --election-timeout 500` (so leases
//! of 1 s are granted as asked) and a warn-level log appended to
//! `server.log` in its scratch directory. No `ETCD_*` variable is ever set
//! (etcd reads each as a flag). Servers die with the test binary (see
//! [`server_util`](crate::server_util)).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::server_util::{
    RestartableProcess, free_port, require_program, scratch_dir, tcp_request,
};
use crate::tls::TestPki;

/// The shortest lease TTL the servers grant (1.5 × the election timeout,
/// rounded up to whole seconds).
pub const MIN_SESSION_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a member may take to start serving.
const START_LIMIT: Duration = Duration::from_secs(30);

/// Ports of one member.
#[derive(Clone, Copy, Debug)]
struct Ports {
    client: u16,
    peer: u16,
}

/// The TLS side of a member started with [`EtcdServer::start_tls`].
#[derive(Clone, Debug)]
struct SecurePort {
    port: u16,
    /// `--cert-file`, `--key-file`, `--trusted-ca-file`.
    files: [PathBuf; 3],
}

/// One etcd member with its own data directory; stopping it keeps the
/// data, so it can start again where it was.
#[derive(Debug)]
pub struct EtcdServer {
    member: String,
    dir: tempfile::TempDir,
    ports: Ports,
    initial_cluster: String,
    secure: Option<SecurePort>,
    process: RestartableProcess,
}

impl EtcdServer {
    /// The single-member server this test binary shares, started on first
    /// use. Tests keep apart by using their own paths (see
    /// [`unique_root`](crate::backend::unique_root)).
    pub fn shared() -> &'static EtcdServer {
        static SHARED: OnceLock<EtcdServer> = OnceLock::new();
        SHARED.get_or_init(EtcdServer::start)
    }

    /// Starts a private single-member server and waits until it is
    /// healthy. Panics (naming the install command when etcd is missing)
    /// if it cannot start.
    pub fn start() -> EtcdServer {
        let ports = Ports {
            client: free_port(),
            peer: free_port(),
        };
        let cluster = format!("e1=http://127.0.0.1:{}", ports.peer);
        let server = EtcdServer::configure("e1", ports, cluster);
        server.start_again();
        server
    }

    /// Starts a private single-member server that also serves TLS on a
    /// second client port ([`secure_endpoint`](Self::secure_endpoint)) with
    /// `pki`'s server certificate, requiring client certificates signed by
    /// `pki`'s CA (`--client-cert-auth`). The plain port stays open for the
    /// harness's health checks and admin client.
    pub fn start_tls(pki: &TestPki) -> EtcdServer {
        let ports = Ports {
            client: free_port(),
            peer: free_port(),
        };
        let cluster = format!("e1=http://127.0.0.1:{}", ports.peer);
        let mut server = EtcdServer::configure("e1", ports, cluster);
        let server_cert = pki.server();
        server.secure = Some(SecurePort {
            port: free_port(),
            files: [
                server_cert.cert.clone(),
                server_cert.key.clone(),
                pki.ca_file().to_path_buf(),
            ],
        });
        server.start_again();
        server
    }

    /// `https://127.0.0.1:port`, for a server started with
    /// [`start_tls`](Self::start_tls).
    pub fn secure_endpoint(&self) -> String {
        let secure = self
            .secure
            .as_ref()
            .expect("started with EtcdServer::start_tls");
        format!("https://127.0.0.1:{}", secure.port)
    }

    fn configure(member: &str, ports: Ports, initial_cluster: String) -> EtcdServer {
        let dir = scratch_dir(&format!("etcd-{member}"));
        let name = format!("etcd member {member} on port {}", ports.client);
        let process = RestartableProcess::new(name, dir.path().join("server.log"));
        EtcdServer {
            member: member.to_string(),
            dir,
            ports,
            initial_cluster,
            secure: None,
            process,
        }
    }

    fn command(&self) -> Command {
        let etcd = require_program("etcd", "etcd (package etcd-server)");
        let client = format!("http://127.0.0.1:{}", self.ports.client);
        let peer = format!("http://127.0.0.1:{}", self.ports.peer);
        let mut listen = client.clone();
        let mut command = Command::new(etcd);
        if let Some(secure) = &self.secure {
            listen.push_str(&format!(",https://127.0.0.1:{}", secure.port));
            let [cert, key, ca] = &secure.files;
            command
                .arg("--cert-file")
                .arg(cert)
                .arg("--key-file")
                .arg(key)
                .arg("--trusted-ca-file")
                .arg(ca)
                .arg("--client-cert-auth");
        }
        command
            .arg("--name")
            .arg(&self.member)
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--listen-client-urls", &listen])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &self.initial_cluster])
            .args(["--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", "tenure-test"])
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .args(["--logger", "zap", "--log-level", "warn"]);
        // etcd reads every ETCD_<FLAG> variable as a flag and aborts when a
        // flag is given twice: keep the environment clean of them.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ETCD_") {
                command.env_remove(key);
            }
        }
        command
    }

    /// Starts the process (again, on the same ports and data) without
    /// waiting for it to serve.
    fn launch(&self) {
        self.process.launch(|| self.command());
    }

    fn wait(&self, what: &str, ready: impl FnMut() -> bool) -> Duration {
        self.process.wait_ready(what, START_LIMIT, ready)
    }

    /// Starts the member again on its data (after [`stop`](Self::stop))
    /// and waits until it reports healthy; returns how long that took.
    pub fn start_again(&self) -> Duration {
        self.launch();
        self.wait("healthy", || self.is_healthy())
    }

    /// Kills the member (SIGKILL, as a crash) and waits for the process to
    /// exit; its data stays.
    pub fn stop(&self) {
        self.process.stop();
    }

    /// Whether the process runs.
    pub fn is_running(&self) -> bool {
        self.process.is_running()
    }

    /// Whether `/health` on the client port answers healthy (the member has
    /// a leader and serves reads).
    pub fn is_healthy(&self) -> bool {
        let request = b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        tcp_request(self.addr(), request, Duration::from_secs(1))
            .is_ok_and(|reply| reply.contains("\"health\":\"true\""))
    }

    /// Whether the peer port answers (`/members`), which a member does
    /// before the cluster has a quorum.
    fn answers_on_peer_port(&self) -> bool {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.ports.peer));
        let request = b"GET /members HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        tcp_request(addr, request, Duration::from_secs(1)).is_ok_and(|r| r.starts_with("HTTP/1"))
    }

    /// The client address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.ports.client))
    }

    /// `127.0.0.1:port`, as an endpoint.
    pub fn endpoint(&self) -> String {
        self.addr().to_string()
    }

    /// The scratch directory (data, `server.log`).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The last `lines` lines of the member's log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }
}

/// A cluster of (usually 3) etcd members on loopback ports.
#[derive(Debug)]
pub struct EtcdCluster {
    members: Vec<EtcdServer>,
}

impl EtcdCluster {
    /// Starts `n` members one at a time (each once the previous answers on
    /// its peer port, which avoids slow elections) and waits until every
    /// member is healthy.
    pub fn start(n: usize) -> EtcdCluster {
        let ports: Vec<Ports> = (0..n)
            .map(|_| Ports {
                client: free_port(),
                peer: free_port(),
            })
            .collect();
        let initial_cluster = ports
            .iter()
            .enumerate()
            .map(|(i, p)| format!("e{}=http://127.0.0.1:{}", i + 1, p.peer))
            .collect::<Vec<_>>()
            .join(",");
        let members: Vec<EtcdServer> = ports
            .iter()
            .enumerate()
            .map(|(i, p)| {
                EtcdServer::configure(&format!("e{}", i + 1), *p, initial_cluster.clone())
            })
            .collect();
        for m in &members {
            m.launch();
            m.wait("answering on its peer port", || m.answers_on_peer_port());
        }
        for m in &members {
            m.wait("healthy", || m.is_healthy());
        }
        EtcdCluster { members }
    }

    /// The members, in order (member `i` is named `e{i+1}`).
    pub fn members(&self) -> &[EtcdServer] {
        &self.members
    }

    /// Every member's client endpoint.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(EtcdServer::endpoint).collect()
    }

    /// Kills member `i`; its data stays.
    pub fn stop(&self, i: usize) {
        self.members[i].stop();
    }

    /// Starts member `i` again and waits until it is healthy.
    pub fn start_again(&self, i: usize) -> Duration {
        self.members[i].start_again()
    }
}
