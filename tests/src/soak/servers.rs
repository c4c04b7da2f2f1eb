//! The servers of a soak, from the test harness: a standalone ZooKeeper,
//! a 3-node ZooKeeper ensemble, or a single etcd member; and the server
//! faults (a crash and restart on the same data, the leader's crash).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::etcd::EtcdServer;
use crate::failover::StoreKind;
use crate::failover::unix_nanos;
use crate::server_util::wait_until;
use crate::zookeeper::{ZkEnsemble, ZkServer};

/// How long an ensemble may take to elect a new leader.
const ELECTION_LIMIT: Duration = Duration::from_secs(30);

/// The running servers.
#[derive(Debug)]
pub enum Servers {
    /// One ZooKeeper server.
    Zookeeper(ZkServer),
    /// A ZooKeeper ensemble.
    Ensemble(ZkEnsemble),
    /// One etcd member.
    Etcd(EtcdServer),
}

/// When a server fault began, when the cluster served again, and from
/// when the workers can be expected to recover.
#[derive(Clone, Copy, Debug)]
pub struct ServerFault {
    /// Just before the crash (Unix nanoseconds).
    pub at: u128,
    /// Once the cluster served clients again.
    pub healed: u128,
}

impl Servers {
    /// Starts `members` servers of `backend` (validated options).
    pub fn start(backend: StoreKind, members: usize) -> Servers {
        match (backend, members) {
            (StoreKind::Zookeeper, 1) => Servers::Zookeeper(ZkServer::start()),
            (StoreKind::Zookeeper, n) => Servers::Ensemble(ZkEnsemble::start(n)),
            (StoreKind::Etcd, _) => Servers::Etcd(EtcdServer::start()),
        }
    }

    /// Every member's client address.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        match self {
            Servers::Zookeeper(s) => vec![s.addr()],
            Servers::Ensemble(e) => e.members().iter().map(ZkServer::addr).collect(),
            Servers::Etcd(s) => vec![s.addr()],
        }
    }

    /// The servers as a connect string.
    pub fn connect_string(&self) -> String {
        let all: Vec<String> = self.addrs().iter().map(|a| a.to_string()).collect();
        all.join(",")
    }

    /// Whether there is a leader to kill.
    pub fn is_ensemble(&self) -> bool {
        matches!(self, Servers::Ensemble(_))
    }

    /// Crashes a server (in an ensemble the `pick`-th follower), keeps it
    /// down for `down`, starts it again on its data and waits until it
    /// serves. A standalone server heals when it serves again; an
    /// ensemble keeps its quorum, so it heals at once.
    pub fn restart(&self, pick: usize, down: Duration) -> ServerFault {
        let at = unix_nanos();
        match self {
            Servers::Zookeeper(s) => {
                s.stop();
                std::thread::sleep(down);
                s.start_again();
            }
            Servers::Etcd(s) => {
                s.stop();
                std::thread::sleep(down);
                s.start_again();
            }
            Servers::Ensemble(e) => {
                let leader = e.leader();
                let followers: Vec<usize> = (0..e.members().len())
                    .filter(|&i| Some(i) != leader)
                    .collect();
                let member = followers[pick % followers.len()];
                e.stop(member);
                std::thread::sleep(down);
                e.start_again(member);
                return ServerFault { at, healed: at };
            }
        }
        ServerFault {
            at,
            healed: unix_nanos(),
        }
    }

    /// Crashes the ensemble's leader, waits for another member to lead
    /// (the heal), keeps the old leader down for `down` in all and starts
    /// it again.
    ///
    /// # Errors
    /// Without an ensemble, without a leader, or when no other member led
    /// within 30 s (the old leader is started again all the same).
    pub fn kill_leader(&self, down: Duration) -> Result<ServerFault, String> {
        let Servers::Ensemble(e) = self else {
            return Err("a leader kill needs an ensemble".into());
        };
        let leader = e.leader().ok_or("no member leads the ensemble")?;
        let began = Instant::now();
        let at = unix_nanos();
        e.stop(leader);
        let elected = wait_until(ELECTION_LIMIT, || e.leader().is_some_and(|l| l != leader));
        let healed = unix_nanos();
        std::thread::sleep(down.saturating_sub(began.elapsed()));
        e.start_again(leader);
        match elected {
            Some(_) => Ok(ServerFault { at, healed }),
            None => Err(format!(
                "no member led within {ELECTION_LIMIT:?} after member {} (the leader) was killed",
                leader + 1
            )),
        }
    }
}
