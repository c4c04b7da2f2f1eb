//! Keeping endpoints whose server is down out of the client's rotation.
//!
//! The etcd client spreads requests over every endpoint it was given and
//! keeps choosing one whose server is down: each request sent there fails
//! with a connect error and is sent again, so with one member of three
//! down every command pays retries (measured: `tenure status` 0.1–2.8 s
//! instead of 0.05 s). The store therefore
//! - connects through the endpoints that accept a TCP connection (all of
//!   them if none does, so the usual errors and timeouts apply);
//! - when a request fails to connect, probes every endpoint and takes the
//!   ones that refuse out of the rotation;
//! - while some endpoint is out, probes it every [`PROBE_PERIOD`] and puts
//!   it back once it accepts again.
//!
//! The rotation is never emptied: an endpoint is taken out only while
//! another one accepts. With every endpoint healthy no probe is sent. A
//! member that accepts connections but cannot serve (no leader) is not
//! detected here; requests to it fail as "no leader" and are sent again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use etcd_client::Client;
use futures::future::join_all;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How often an endpoint out of the rotation is probed.
pub(crate) const PROBE_PERIOD: Duration = Duration::from_secs(1);

/// The longest a probe waits for a TCP connection.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// One configured endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The URL given to the client (`http://host:port` or
    /// `https://host:port`): the client identifies endpoints by it.
    pub url: String,
    /// `host:port`, for the probe.
    pub address: String,
}

impl Endpoint {
    /// An endpoint as configured (`host:port` or a URL); `tls` picks the
    /// scheme of a bare `host:port`, as the client itself would.
    pub fn parse(configured: &str, tls: bool) -> Endpoint {
        let (scheme, address) = match configured.split_once("://") {
            Some((scheme, rest)) => (scheme, rest),
            None if tls => ("https", configured),
            None => ("http", configured),
        };
        let address = address.trim_end_matches('/');
        Endpoint {
            url: format!("{scheme}://{address}"),
            address: address.to_string(),
        }
    }

    /// Whether the endpoint accepts a TCP connection within the probe
    /// timeout.
    pub async fn accepts(&self) -> bool {
        matches!(
            tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(&self.address)).await,
            Ok(Ok(_))
        )
    }
}

/// Probes every endpoint at once.
pub(crate) async fn probe_all(endpoints: &[Endpoint]) -> Vec<bool> {
    join_all(endpoints.iter().map(Endpoint::accepts)).await
}

/// Which endpoints may be in the rotation: the accepting ones, or all if
/// none accepts.
pub(crate) fn choose(accepting: &[bool]) -> Vec<bool> {
    if accepting.iter().any(|a| *a) {
        accepting.to_vec()
    } else {
        vec![true; accepting.len()]
    }
}

/// The endpoints of a store and which of them the client uses.
pub(crate) struct Rotation {
    endpoints: Vec<Endpoint>,
    /// Parallel to `endpoints`: whether the client sends requests there.
    used: Mutex<Vec<bool>>,
    /// Woken when a request could not connect to the member chosen.
    trouble: Notify,
}

impl Rotation {
    pub fn new(endpoints: Vec<Endpoint>, used: Vec<bool>) -> Self {
        Rotation {
            endpoints,
            used: Mutex::new(used),
            trouble: Notify::new(),
        }
    }

    /// The URLs of the endpoints in the rotation.
    pub fn used_urls(&self) -> Vec<String> {
        let used = self.used();
        self.endpoints
            .iter()
            .zip(used)
            .filter(|(_, u)| *u)
            .map(|(e, _)| e.url.clone())
            .collect()
    }

    /// Reports that a request could not connect: the endpoints are probed.
    pub fn report_trouble(&self) {
        self.trouble.notify_one();
    }

    fn used(&self) -> Vec<bool> {
        self.used.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Probes and updates the rotation until `closed`.
    pub async fn maintain(self: Arc<Self>, client: Client, closed: CancellationToken) {
        if self.endpoints.len() < 2 {
            return;
        }
        loop {
            let all_used = self.used().iter().all(|u| *u);
            tokio::select! {
                () = closed.cancelled() => return,
                () = self.trouble.notified() => {}
                () = tokio::time::sleep(PROBE_PERIOD), if !all_used => {}
            }
            let wanted = choose(&probe_all(&self.endpoints).await);
            self.apply(&client, &wanted).await;
        }
    }

    /// Adds and removes endpoints so that the rotation is `wanted`.
    async fn apply(&self, client: &Client, wanted: &[bool]) {
        let used = self.used();
        for (i, (endpoint, now)) in self.endpoints.iter().zip(wanted).enumerate() {
            let done = match (used.get(i).copied().unwrap_or(true), *now) {
                (false, true) => client.add_endpoint(&endpoint.url).await,
                (true, false) => client.remove_endpoint(&endpoint.url).await,
                _ => continue,
            };
            if let Err(e) = done {
                tracing::debug!(endpoint = %endpoint.url, error = %e, "could not change the etcd client's endpoints");
                continue;
            }
            if *now {
                tracing::info!(endpoint = %endpoint.url, "etcd endpoint accepts connections again: back in rotation");
            } else {
                tracing::warn!(endpoint = %endpoint.url, "etcd endpoint refuses connections: out of rotation until it accepts again");
            }
            if let Some(slot) = self
                .used
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_mut(i)
            {
                *slot = *now;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_addresses_get_the_scheme_the_client_would_use() {
        assert_eq!(
            Endpoint::parse("127.0.0.1:2379", false),
            Endpoint {
                url: "http://127.0.0.1:2379".into(),
                address: "127.0.0.1:2379".into()
            }
        );
        assert_eq!(
            Endpoint::parse("etcd-1:2379", true).url,
            "https://etcd-1:2379"
        );
        let e = Endpoint::parse("https://etcd-1:2379/", false);
        assert_eq!(
            (e.url.as_str(), e.address.as_str()),
            ("https://etcd-1:2379", "etcd-1:2379")
        );
    }

    #[test]
    fn the_rotation_is_never_empty() {
        assert_eq!(choose(&[false, true, false]), vec![false, true, false]);
        assert_eq!(choose(&[false, false]), vec![true, true]);
        assert_eq!(choose(&[true, true]), vec![true, true]);
    }

    #[tokio::test]
    async fn a_closed_port_is_refused_and_an_open_one_accepted() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap().to_string();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        };
        let endpoints = [
            Endpoint::parse(&open, false),
            Endpoint::parse(&closed, false),
        ];
        assert_eq!(probe_all(&endpoints).await, vec![true, false]);
    }
}
