//! The console's tests every backend runs, as functions of the server to
//! run against (the operations in `console_writes`); `console_suite!`
//! turns them into `#[test]`s.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::console::Console;
use super::http::{Request, Sse};
use super::suite::keys;
use super::{Cluster, SESSION, Target, expect_within};

/// Declares one `#[test]` per suite function, run against `$target`.
#[macro_export]
macro_rules! console_suite {
    ($target:expr) => {
        $crate::console_suite!(@tests $target;
            console_suite::every_read_route_answers_with_the_cli_json_schema,
            console_writes::operations_need_writes_enabled_and_a_token_and_are_logged_by_operator,
            console_writes::bad_operations_are_refused_with_the_reason_and_change_nothing,
            console_suite::event_stream_tells_a_takeover_with_its_reason,
        );
    };
    (@tests $target:expr; $($module:ident::$name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                common::$module::$name(&$target);
            }
        )*
    };
}

/// Generous bound for a change to show (a leader round, a claim, a read).
const SHOW: Duration = Duration::from_secs(15);

fn owner_of(c: &Cluster, task: &str) -> Option<String> {
    c.task(task)?["owner"].as_str().map(str::to_owned)
}

/// Every read route answers 200 with the documents `--json` prints (same
/// keys), pages render the tasks and workers, and bad parameters or
/// unknown routes get 4xx with a JSON reason.
pub fn every_read_route_answers_with_the_cli_json_schema(t: &Target) {
    let c = t.cluster("con-read");
    c.ok(&[
        "tasks",
        "add",
        "alpha",
        "--payload",
        "hello",
        "--tag",
        "blue",
    ]);
    c.ok(&["tasks", "add", "beta"]);
    c.ok(&["tasks", "pause", "beta"]);
    let console = c.console(&[], &[]);
    let w = c.worker("w1", &["--tag", "blue"], "exec sleep 600");
    expect_within(SHOW, "alpha runs on w1", &[&w], || {
        owner_of(&c, "alpha").as_deref() == Some("w1")
    });
    console.wait_json(
        "/api/tasks/alpha",
        SHOW,
        "the console sees w1 own alpha",
        |v| v["task"]["owner"] == "w1",
    );

    let about = console.json("/api/console");
    assert_eq!(about["cluster"], c.name.as_str());
    assert_eq!(about["backend"], t.backend);
    assert_eq!(
        (about["writes"].clone(), about["connected"].clone()),
        (json!(false), json!(true))
    );

    let cli = c.status();
    let api = console.json("/api/status");
    assert_eq!(keys(&api), keys(&cli), "{api}");
    assert_eq!(keys(&api["tasks"][0]), keys(&cli["tasks"][0]));
    assert_eq!(keys(&api["workers"][0]), keys(&cli["workers"][0]));
    assert_eq!(api["leader"]["worker"], "w1");
    let workers = console.json("/api/workers");
    assert_eq!(keys(&workers), keys(&c.json(&["workers", "ls"])));
    assert_eq!(workers["workers"][0]["worker"], "w1");
    assert_eq!(workers["workers"][0]["leader"], true);

    let page = console.json("/api/tasks?state=running&sort=token&order=desc&limit=10");
    let expected: BTreeSet<String> = [
        "schema", "cluster", "at_ms", "total", "matched", "offset", "limit", "tasks",
    ]
    .map(String::from)
    .into();
    assert_eq!(keys(&page), expected);
    assert_eq!(
        (page["total"].clone(), page["matched"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(keys(&page["tasks"][0]), keys(&cli["tasks"][0]));
    assert_eq!(page["tasks"][0]["task"], "alpha");
    assert_eq!(page["tasks"][0]["tags"], json!(["blue"]));
    let paused = console.json("/api/tasks?state=paused");
    assert_eq!(paused["tasks"][0]["task"], "beta");
    assert_eq!(console.json("/api/tasks?tag=blue&owner=w1")["matched"], 1);
    assert_eq!(
        console.json("/api/tasks?offset=1&limit=1")["tasks"][0]["task"],
        "beta"
    );
    assert_eq!(
        console.json("/api/tasks/alpha")["task"]["token"],
        cli_token(&c, "alpha")
    );

    console.wait_json(
        "/api/events",
        SHOW,
        "the claim of alpha is in the history",
        |v| {
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["task"] == "alpha" && e["change"] == "claimed" && e["worker"] == "w1")
        },
    );
    let events = console.json("/api/events?limit=1");
    assert_eq!(events["events"].as_array().unwrap().len(), 1);
    let event = &events["events"][0];
    for key in [
        "schema", "type", "at_ms", "task", "worker", "token", "change", "from", "seq", "reason",
    ] {
        assert!(event.get(key).is_some(), "{key} missing: {event}");
    }
    let none = console.json(&format!("/api/events?after={}", events["last_seq"]));
    assert_eq!(none["events"], json!([]));

    let timeline = console.json("/api/timeline?minutes=5&q=alpha");
    let row = &timeline["rows"][0];
    assert_eq!(row["task"], "alpha");
    assert_eq!(
        row["segments"].as_array().unwrap().last().unwrap()["worker"],
        "w1",
        "{timeline}"
    );
    let svg = console.get("/timeline.svg?minutes=5");
    assert_eq!(
        (svg.status, svg.header("content-type")),
        (200, "image/svg+xml")
    );
    assert!(
        svg.body.contains(r#"data-task="alpha" data-worker="w1""#),
        "{}",
        svg.body
    );

    let cluster = console.get("/");
    assert_eq!(cluster.status, 200);
    assert!(cluster.header("content-type").starts_with("text/html"));
    assert!(
        cluster
            .body
            .contains(r#"data-task="alpha" data-state="running" data-owner="w1""#)
    );
    assert!(
        cluster
            .body
            .contains(r#"data-task="beta" data-state="paused""#)
    );
    assert!(cluster.body.contains("★ leader") && cluster.body.contains("read-only"));
    assert!(
        !cluster.body.contains("data-op="),
        "no operations on a read-only console"
    );
    let rows = console.get("/cluster/rows?q=beta");
    assert_eq!(rows.status, 200);
    assert!(
        rows.body.contains(r#"data-connected="true""#)
            && !rows.body.contains(r#"data-task="alpha""#)
    );
    for (path, needle) in [
        ("/live", "claimed"),
        ("/timeline?minutes=5", "<svg"),
        ("/docs", "GET /api/events/stream"),
        ("/assets/console.js", "EventSource"),
        ("/assets/console.css", "banner"),
    ] {
        let r = console.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.contains(needle), "{path}: {needle} missing");
        assert_eq!(r.header("cache-control"), "no-store", "{path}");
    }
    assert_eq!(
        console.get("/assets/console.js").header("content-type"),
        "text/javascript; charset=utf-8"
    );

    for (path, status, says) in [
        ("/api/tasks?sort=colour", 400, "unknown sort key"),
        ("/api/tasks?limit=5000", 400, "limit must be"),
        ("/api/timeline?minutes=0", 400, "minutes must be"),
        ("/api/events?after=soon", 400, "after"),
        ("/api/tasks/ghost", 404, "no task ghost"),
        ("/api/tasks/a%2Fb", 400, "must not contain `/`"),
        ("/api/nothing", 404, "no such page or route"),
    ] {
        let r = console.get(path);
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert!(
            r.json()["error"].as_str().unwrap().contains(says),
            "{path}: {}",
            r.body
        );
    }
    let bad_page = console.get("/?state=asleep");
    assert_eq!(bad_page.status, 400);
    assert!(bad_page.body.contains("unknown state"), "{}", bad_page.body);
    let rebound =
        console.send(Request::new("GET", "/api/status").header("Host", "evil.example:80"));
    assert_eq!(rebound.status, 400, "another host name is refused");
}

fn cli_token(c: &Cluster, task: &str) -> Value {
    c.task(task).unwrap()["token"].clone()
}

/// A killed worker's task shows as `lost` then `taken-over` on the event
/// stream, with reasons, within the session timeout and a bound; a client
/// reconnecting with `Last-Event-ID` gets what came after.
pub fn event_stream_tells_a_takeover_with_its_reason(t: &Target) {
    let c = t.cluster("con-sse");
    let a = c.worker("A", &[], "exec sleep 600");
    c.ok(&["tasks", "add", "job"]);
    expect_within(SHOW, "A runs job", &[&a], || {
        owner_of(&c, "job").as_deref() == Some("A")
    });
    let b = c.worker("B", &[], "exec sleep 600");
    expect_within(SHOW, "B joins", &[&b], || {
        c.status()["workers"].as_array().unwrap().len() == 2
    });
    assert_eq!(
        owner_of(&c, "job").as_deref(),
        Some("A"),
        "sticky: job stays on A"
    );
    let console = c.console(&[], &[]);
    let mut stream = Sse::open(console.addr, "/api/events/stream", None);
    assert_eq!(stream.status, 200);
    assert!(stream.headers["content-type"].starts_with("text/event-stream"));
    let first = stream.next(SHOW).expect("a session event first");
    assert_eq!(first.event, "session");
    assert_eq!(first.json()["connected"], true);

    let killed = Instant::now();
    a.signal("KILL");
    assert_eq!(SESSION, "2s", "the session timeout the workers ask for");
    let session = Duration::from_secs(2);
    let limit = session + Duration::from_secs(10);
    let (taken, seen) = stream.until(limit, |e| {
        e.event == "ownership" && e.json()["change"] == "taken-over"
    });
    let took = killed.elapsed();
    let taken = taken.unwrap_or_else(|| {
        panic!(
            "no takeover within {limit:?}; saw {seen:?}\n{}",
            console.proc.log()
        )
    });
    let event = taken.json();
    assert_eq!(
        (
            event["task"].clone(),
            event["worker"].clone(),
            event["from"].clone()
        ),
        (json!("job"), json!("B"), json!("A"))
    );
    assert!(
        event["reason"]
            .as_str()
            .unwrap()
            .contains("after A's session ended"),
        "{event}"
    );
    assert_eq!(taken.id.as_deref(), Some(event["seq"].to_string().as_str()));
    let lost = seen
        .iter()
        .find(|e| e.event == "ownership" && e.json()["change"] == "lost")
        .unwrap_or_else(|| panic!("no lost event before the takeover: {seen:?}"));
    assert_eq!(lost.json()["worker"], "A");
    assert!(
        lost.json()["reason"]
            .as_str()
            .unwrap()
            .contains("session ended")
    );
    assert!(
        took >= session / 2,
        "not before the session could end: {took:?}"
    );

    let mut again = Sse::open(console.addr, "/api/events/stream", lost.id.as_deref());
    let (replayed, _) = again.until(SHOW, |e| e.event == "ownership");
    assert_eq!(
        replayed.unwrap().id,
        taken.id,
        "Last-Event-ID resumes after the lost event"
    );
    let live = console.get("/live");
    assert!(
        live.body
            .contains(r#"<td class="change">taken-over</td><td>job</td><td>B</td>"#),
        "{}",
        live.body
    );
    drop(b);
}

/// The console keeps serving while the server is away: the API says
/// disconnected (503), the pages show the last state with a banner; once
/// the server is back it recovers by itself and follows events again.
pub fn console_reports_disconnected_and_recovers(t: &Target, stop: &dyn Fn(), start: &dyn Fn()) {
    let c = t.cluster("con-away");
    c.ok(&["tasks", "add", "steady"]);
    let console: Console = c.console(&[], &[]);
    console.wait_json("/api/console", SHOW, "connected at first", |v| {
        v["connected"] == true
    });
    console.wait_json("/api/events", SHOW, "the event follower is up", |_| true);
    stop();
    console.wait_json("/api/console", SHOW, "says disconnected", |v| {
        v["connected"] == false
    });
    let about = console.json("/api/console");
    assert!(
        about["problem"].as_str().is_some_and(|p| !p.is_empty()),
        "{about}"
    );
    let status = console.get("/api/status");
    assert_eq!(status.status, 503, "{}", status.body);
    assert_eq!(status.json()["kind"], "disconnected");
    let page = console.get("/");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("disconnected since") && page.body.contains(r#"data-task="steady""#),
        "{}",
        page.body
    );
    let rows = console.get("/cluster/rows");
    assert_eq!(rows.status, 503);
    assert!(rows.body.contains(r#"data-connected="false""#));

    // Away for longer than the session timeout.
    std::thread::sleep(Duration::from_secs(5));
    start();
    console.wait_json(
        "/api/console",
        Duration::from_secs(40),
        "recovers by itself",
        |v| v["connected"] == true,
    );
    assert_eq!(console.json("/api/status")["tasks"][0]["task"], "steady");
    let w = c.worker("late", &[], "exec sleep 600");
    console.wait_json(
        "/api/events",
        Duration::from_secs(40),
        "follows events again",
        |v| {
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["task"] == "steady" && e["worker"] == "late")
        },
    );
    drop(w);
}
