//! The web console in a real browser: headless Chromium driven over
//! WebDriver (chromedriver) against `tenure console` on a real ZooKeeper
//! with live `tenure worker`s. The task table shows the right owners; a
//! killed worker's tasks move on the page within the session timeout plus
//! a second; pausing from the page pauses the task.
//!
//! Chromium and chromedriver come from the Debian packages `chromium` and
//! `chromium-driver`; when either is missing or cannot start, the test
//! fails naming the install command.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tenure_tests::server_util::{free_port, wait_until};
use tenure_tests::zookeeper::ZkServer;

use common::console::TOKEN;
use common::{Cluster, Proc, Target, expect_within};

/// What installs the browser and its driver.
const INSTALL: &str = "apt-get install -y chromium chromium-driver";

/// The session timeout of the workers (`common::SESSION`).
const SESSION: Duration = Duration::from_secs(2);

/// Starts chromedriver on a free loopback port and opens a headless
/// Chromium session through it.
async fn browser(c: &Cluster) -> (Proc, Client) {
    for program in ["chromedriver", "chromium"] {
        let found = std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|dir| dir.join(program).is_file())
        });
        assert!(
            found,
            "`{program}` is not installed: install it with `{INSTALL}`"
        );
    }
    let port = free_port();
    let mut command = Command::new("chromedriver");
    command.arg(format!("--port={port}"));
    let driver = Proc::start("chromedriver", command, &c.path("chromedriver.log"));
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let ready = wait_until(Duration::from_secs(20), || {
        std::net::TcpStream::connect(addr).is_ok()
            && common::http::get(addr, "/status")
                .body
                .contains("\"ready\":true")
    });
    assert!(
        ready.is_some(),
        "chromedriver did not start within 20 s (is `{INSTALL}` done?):\n{}",
        driver.log()
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--window-size=1280,900"]}),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Chromium did not start through chromedriver ({e}); install both with `{INSTALL}`:\n{}",
                driver.log()
            )
        });
    (driver, client)
}

/// Task → (owner, shown state) as the page's task table shows them.
async fn table(client: &Client) -> BTreeMap<String, (String, String)> {
    let rows = client
        .execute(
            "return Array.from(document.querySelectorAll('#tasks tbody tr')).map(function (r) {
                 return [r.dataset.task, r.querySelector('td.owner').textContent, r.dataset.state];
             });",
            vec![],
        )
        .await
        .unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |i: usize| r[i].as_str().unwrap().to_owned();
            (s(0), (s(1), s(2)))
        })
        .collect()
}

/// Task → owner, as `tenure status --json` says.
fn owners(c: &Cluster) -> BTreeMap<String, String> {
    c.status()["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let owner = t["owner"].as_str().unwrap_or("").to_owned();
            (t["task"].as_str().unwrap().to_owned(), owner)
        })
        .collect()
}

async fn wait_page(
    client: &Client,
    limit: Duration,
    what: &str,
    mut check: impl FnMut(&BTreeMap<String, (String, String)>) -> bool,
) -> Duration {
    let started = Instant::now();
    let mut last = BTreeMap::new();
    while started.elapsed() < limit {
        last = table(client).await;
        if check(&last) {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within {limit:?}; the page shows {last:?}");
}

#[test]
fn the_page_follows_owners_through_a_takeover_and_pauses_a_task() {
    let target = Target {
        backend: "zookeeper",
        connect: ZkServer::shared().connect_string(),
    };
    let c = target.cluster("browser");
    // B first, so it leads: a takeover then needs no election.
    let b = c.worker("B", &[], "exec sleep 600");
    expect_within(Duration::from_secs(15), "B leads", &[&b], || {
        c.status()["leader"]["worker"] == "B"
    });
    let a = c.worker("A", &[], "exec sleep 600");
    for task in ["t1", "t2", "t3", "t4"] {
        c.ok(&["tasks", "add", task]);
    }
    expect_within(
        Duration::from_secs(15),
        "each worker runs two tasks",
        &[&a, &b],
        || {
            let o = owners(&c);
            o.values().filter(|w| *w == "A").count() == 2
                && o.values().filter(|w| *w == "B").count() == 2
        },
    );
    let console = c.writable_console();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (_driver, client) = browser(&c).await;
        client
            .goto(&format!("http://{}/", console.addr))
            .await
            .unwrap();

        let expected = owners(&c);
        let shown = table(&client).await;
        let shown_owners: BTreeMap<String, String> = shown
            .iter()
            .map(|(t, (o, _))| (t.clone(), o.clone()))
            .collect();
        assert_eq!(shown_owners, expected, "the task table shows the owners");
        let on_a: Vec<String> = expected
            .iter()
            .filter(|(_, w)| *w == "A")
            .map(|(t, _)| t.clone())
            .collect();

        let killed = Instant::now();
        a.signal("KILL");
        let limit = SESSION + Duration::from_secs(1);
        wait_page(
            &client,
            Duration::from_secs(20),
            "A's tasks move to B on the page",
            |rows| {
                on_a.iter()
                    .all(|t| rows.get(t).is_some_and(|(o, s)| o == "B" && s == "running"))
            },
        )
        .await;
        let took = killed.elapsed();
        println!("A's tasks showed on B {took:?} after the kill (limit {limit:?})");
        assert!(
            took <= limit,
            "the page showed the takeover {took:?} after the kill; limit {limit:?}"
        );
        let banner = client.find(Locator::Id("banner")).await.unwrap();
        assert!(
            !banner.is_displayed().await.unwrap(),
            "no disconnected banner"
        );

        let token = client.find(Locator::Id("token")).await.unwrap();
        token.send_keys(TOKEN).await.unwrap();
        let pause = client
            .find(Locator::Css(r#"button[data-op="pause"][data-task="t1"]"#))
            .await
            .unwrap();
        pause.click().await.unwrap();
        wait_page(
            &client,
            Duration::from_secs(10),
            "t1 shows as paused",
            |rows| rows.get("t1").is_some_and(|(_, s)| s == "paused"),
        )
        .await;
        assert_eq!(
            c.task("t1").unwrap()["state"],
            "paused",
            "the cluster has it paused"
        );
        let message = client
            .find(Locator::Id("message"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(message, "paused task t1 (as tester)");
        let state: Value = client
            .execute("return document.body.dataset.writes;", vec![])
            .await
            .unwrap();
        assert_eq!(state, "true");
        client.close().await.unwrap();
    });
    drop(b);
}
