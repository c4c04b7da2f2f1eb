//! The console's tests every backend runs, as functions of the server to
//! run against; `console_suite!` turns them into `#[test]`s.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::console::{Console, TOKEN};
use super::http::{Request, Sse};
use super::{Cluster, SESSION, Target, expect_within};

/// Declares one `#[test]` per suite function, run against `$target`.
#[macro_export]
macro_rules! console_suite {
    ($target:expr) => {
        $crate::console_suite!(@tests $target;
            every_read_route_answers_with_the_cli_json_schema,
            operations_need_writes_enabled_and_a_token_and_are_logged_by_operator,
            bad_operations_are_refused_with_the_reason_and_change_nothing,
            event_stream_tells_a_takeover_with_its_reason,
        );
    };
    (@tests $target:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                common::console_suite::$name(&$target);
            }
        )*
    };
}

/// Generous bound for a change to show (a leader round, a claim, a read).
const SHOW: Duration = Duration::from_secs(15);

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

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

/// Writes get 403 on a read-only console (even with a token in the
/// environment) and 401 without the right token, changing nothing; with
/// it, each operation changes the cluster as the CLI would and is logged
/// with the token's name and the remote address, never the token.
pub fn operations_need_writes_enabled_and_a_token_and_are_logged_by_operator(t: &Target) {
    let c = t.cluster("con-ops");
    c.ok(&["tasks", "add", "alpha"]);
    let read_only = c.console(&[], &[("TENURE_CONSOLE_TOKEN", TOKEN)]);
    let r = read_only.send(Request::new("POST", "/api/tasks/alpha/pause").token(TOKEN));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["kind"], "read-only");
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("--allow-writes")
    );
    drop(read_only);

    let console = c.writable_console();
    let page = console.get("/");
    assert!(
        page.body.contains("writes enabled")
            && page.body.contains(r#"data-op="pause" data-task="alpha""#)
    );
    let before = c.status()["tasks"].clone();
    let r = console.send(Request::new("POST", "/api/tasks/alpha/pause"));
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.header("www-authenticate"), "Bearer");
    let r = console
        .send(Request::new("POST", "/api/tasks/alpha/pause").token("not-the-token-0123456789"));
    assert_eq!(r.status, 401);
    let r = console.send(Request::new("POST", "/api/tasks").json(&json!({"name": "new"})));
    assert_eq!(r.status, 401);
    assert_eq!(c.status()["tasks"], before, "refused writes change nothing");

    let op = |request: Request<'_>, status: u16| {
        let r = console.send(request.token(TOKEN));
        assert_eq!(r.status, status, "{}", r.body);
        r.json()
    };
    let done = op(Request::new("POST", "/api/tasks/alpha/pause"), 200);
    assert_eq!(done["message"], "paused task alpha");
    assert_eq!(
        (done["op"].clone(), done["by"].clone()),
        (json!("pause"), json!("tester"))
    );
    assert_eq!(c.task("alpha").unwrap()["state"], "paused");
    assert_eq!(
        console.json("/api/tasks/alpha")["task"]["state"],
        "paused",
        "seen at once"
    );
    op(Request::new("POST", "/api/tasks/alpha/resume"), 200);
    assert_eq!(c.task("alpha").unwrap()["state"], "waiting");
    let added = op(
        Request::new("POST", "/api/tasks").json(&json!({
            "name": "gamma", "payload": "run me", "weight": "2", "tags": ["gpu", "eu"], "pin": "w9"
        })),
        201,
    );
    assert_eq!(added["message"], "added task gamma");
    let gamma = c.task("gamma").unwrap();
    assert_eq!(gamma["payload_bytes"], 6);
    assert_eq!(
        (gamma["weight"].clone(), gamma["pinned"].clone()),
        (json!(2), json!("w9"))
    );
    assert_eq!(gamma["tags"], json!(["eu", "gpu"]));
    op(
        Request::new("PATCH", "/api/tasks/gamma").json(&json!({"weight": 5, "pin": null})),
        200,
    );
    let gamma = c.task("gamma").unwrap();
    assert_eq!(
        (gamma["weight"].clone(), gamma["pinned"].clone()),
        (json!(5), Value::Null)
    );
    assert_eq!(
        (gamma["payload_bytes"].clone(), gamma["tags"].clone()),
        (json!(6), json!(["eu", "gpu"])),
        "the rest stays"
    );
    op(
        Request::new("PATCH", "/api/tasks/gamma").json(&json!({"payload": "new", "tags": []})),
        200,
    );
    let gamma = c.task("gamma").unwrap();
    assert_eq!(
        (gamma["payload_bytes"].clone(), gamma["tags"].clone()),
        (json!(3), json!([]))
    );
    op(Request::new("DELETE", "/api/tasks/gamma"), 200);
    assert!(c.task("gamma").is_none());

    let log = console.proc.log();
    for op in ["pause", "resume", "add", "update", "remove"] {
        assert!(
            log.lines().any(|l| l.contains("operator=tester")
                && l.contains("remote=127.0.0.1:")
                && l.contains(&format!("op=\"{op}\""))),
            "{op} not logged with its operator:\n{log}"
        );
    }
    assert!(
        log.contains("unknown token"),
        "a refused token is logged:\n{log}"
    );
    assert!(
        !log.contains(TOKEN) && !console.proc.output().contains(TOKEN),
        "the token is never printed"
    );
}

/// Bad input to every operation gets 400 (404 for unknown tasks, 409 for
/// a duplicate) with the same reason the CLI gives, and nothing changes.
pub fn bad_operations_are_refused_with_the_reason_and_change_nothing(t: &Target) {
    let c = t.cluster("con-bad");
    c.ok(&[
        "tasks",
        "add",
        "keep",
        "--payload",
        "original",
        "--weight",
        "2",
    ]);
    let console = c.writable_console();
    let before = c.status()["tasks"].clone();
    let huge = "x".repeat(1_600_000);
    let cases: Vec<(&str, String, Option<Value>, u16, &str)> = vec![
        (
            "POST",
            "/api/tasks".into(),
            Some(json!({"name": "a/b"})),
            400,
            "must not contain `/`",
        ),
        (
            "POST",
            "/api/tasks".into(),
            Some(json!({"name": ""})),
            400,
            "must not be empty",
        ),
        (
            "POST",
            "/api/tasks".into(),
            Some(json!({"name": "w0", "weight": 0})),
            400,
            "weight must be at least 1",
        ),
        (
            "POST",
            "/api/tasks".into(),
            Some(json!({"name": "w1", "weight": "many"})),
            400,
            "invalid weight",
        ),
        (
            "POST",
            "/api/tasks".into(),
            Some(json!({"name": "w2", "weight": -3})),
            400,
            "invalid weight",
        ),
        (
            "POST",
            "/api/tasks".into(),
            Some(json!({"name": "t", "tags": [""]})),
            400,
            "tag",
        ),
        (
            "POST",
            "/api/tasks".into(),
            Some(json!({"name": "p", "pin": "x/y"})),
            400,
            "must not contain `/`",
        ),
        (
            "POST",
            "/api/tasks".into(),
            Some(json!({"name": "u", "colour": "red"})),
            400,
            "unknown field",
        ),
        (
            "POST",
            "/api/tasks".into(),
            Some(json!({"name": "big", "payload": huge})),
            400,
            "limit",
        ),
        (
            "POST",
            "/api/tasks".into(),
            Some(json!({"name": "keep"})),
            409,
            "already exists",
        ),
        (
            "POST",
            "/api/tasks/ghost/pause".into(),
            None,
            404,
            "unknown task ghost",
        ),
        (
            "POST",
            "/api/tasks/ghost/resume".into(),
            None,
            404,
            "unknown task ghost",
        ),
        (
            "DELETE",
            "/api/tasks/ghost".into(),
            None,
            404,
            "unknown task ghost",
        ),
        (
            "POST",
            "/api/tasks/a%2Fb/pause".into(),
            None,
            400,
            "must not contain `/`",
        ),
        (
            "PATCH",
            "/api/tasks/keep".into(),
            Some(json!({})),
            400,
            "nothing to change",
        ),
        (
            "PATCH",
            "/api/tasks/keep".into(),
            Some(json!({"weight": 0})),
            400,
            "weight must be at least 1",
        ),
        (
            "PATCH",
            "/api/tasks/keep".into(),
            Some(json!({"tags": ["ok", ""]})),
            400,
            "tag",
        ),
        (
            "PATCH",
            "/api/tasks/keep".into(),
            Some(json!({"payload": huge})),
            400,
            "limit",
        ),
        (
            "PATCH",
            "/api/tasks/ghost".into(),
            Some(json!({"weight": 2})),
            404,
            "unknown task ghost",
        ),
    ];
    for (method, path, body, status, says) in &cases {
        let mut request = Request::new(method, path).token(TOKEN);
        if let Some(body) = body {
            request = request.json(body);
        }
        let r = console.send(request);
        let shown: String = r.body.chars().take(300).collect();
        assert_eq!(r.status, *status, "{method} {path}: {shown}");
        let error = r.json()["error"].as_str().unwrap().to_owned();
        assert!(
            error.contains(says),
            "{method} {path}: {error:?} does not say {says:?}"
        );
    }
    let not_json = console.send(Request {
        body: Some("{".into()),
        ..Request::new("POST", "/api/tasks").token(TOKEN)
    });
    assert_eq!(not_json.status, 400, "{}", not_json.body);
    assert_eq!(c.status()["tasks"], before, "nothing changed");
    assert!(console.proc.log().contains("console operation refused"));
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
