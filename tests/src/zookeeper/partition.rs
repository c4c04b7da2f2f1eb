//! A ZooKeeper ensemble whose members reach each other only through
//! loopback proxies, so that one member can be cut off silently while its
//! client port stays up.
//!
//! Each member binds only its own `server.N` line; the other members'
//! lines in its `zoo.cfg` point at proxies, one per direction and port
//! (quorum and election): member `i` reaches member `j` through its own
//! pair of proxies. [`PartitionedEnsemble::cut`] suspends every proxy from
//! and to a member: the bytes are held (the sockets stay open), as with a
//! network that silently drops packets, so neither side notices before its
//! own timeouts (a follower keeps serving its clients for up to
//! `syncLimit × tickTime`).
//!
//! The proxies run on the tokio runtime that started the ensemble, so
//! start it from the test's runtime and drop it there.

use std::net::SocketAddr;

use super::server::{Peer, ZkServer, ZkTiming};
use crate::proxy::Proxy;

/// The proxies member `from` reaches member `to` through.
#[derive(Debug)]
struct Link {
    from: usize,
    to: usize,
    quorum: Proxy,
    election: Proxy,
}

/// An n-member ensemble whose peer links can be cut member by member.
#[derive(Debug)]
pub struct PartitionedEnsemble {
    members: Vec<ZkServer>,
    links: Vec<Link>,
}

impl PartitionedEnsemble {
    /// Starts `n` members with `timing` and waits (off the runtime's
    /// worker threads) until each serves as leader or follower.
    pub async fn start(n: usize, timing: ZkTiming) -> PartitionedEnsemble {
        let peers: Vec<Peer> = (1..=n as u32).map(Peer::new).collect();
        let loopback = |port| SocketAddr::from(([127, 0, 0, 1], port));
        let mut links = Vec::new();
        for from in 0..n {
            for to in (0..n).filter(|&to| to != from) {
                let proxy = |port| async move {
                    Proxy::start(loopback(port))
                        .await
                        .unwrap_or_else(|e| panic!("starting a peer proxy: {e}"))
                };
                links.push(Link {
                    from,
                    to,
                    quorum: proxy(peers[to].quorum).await,
                    election: proxy(peers[to].election).await,
                });
            }
        }
        let members: Vec<ZkServer> = (0..n)
            .map(|i| {
                let lines: Vec<String> = (0..n)
                    .map(|j| match links.iter().find(|l| l.from == i && l.to == j) {
                        Some(l) => peers[j].line(l.quorum.addr(), l.election.addr()),
                        None => peers[j].own_line(),
                    })
                    .collect();
                let name = format!("zkp{}", peers[i].id);
                ZkServer::configure(&name, &timing, Some((peers[i].id, &lines)))
            })
            .collect();
        let ensemble = PartitionedEnsemble { members, links };
        ensemble.wait_all_serving().await;
        ensemble
    }

    /// Launches every member and waits until all serve (blocking this
    /// worker thread of the multi-threaded runtime only).
    async fn wait_all_serving(&self) {
        for m in &self.members {
            m.launch();
        }
        tokio::task::block_in_place(|| {
            for m in &self.members {
                m.wait_serving();
            }
        });
    }

    /// The members, in id order (member `i` has id `i + 1`).
    pub fn members(&self) -> &[ZkServer] {
        &self.members
    }

    /// The index of the current leader, if one is serving.
    pub fn leader(&self) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.mode().as_deref() == Some("leader"))
    }

    /// Holds every byte from and to member `i`'s peers: the member is cut
    /// off from the ensemble without any connection closing.
    pub fn cut(&self, i: usize) {
        for l in self.links.iter().filter(|l| l.from == i || l.to == i) {
            l.quorum.suspend();
            l.election.suspend();
        }
    }
}
