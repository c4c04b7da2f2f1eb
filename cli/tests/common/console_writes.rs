//! The console's operations, as functions of the server to run against
//! (run by `console_suite!`): refused without writes enabled or a token,
//! refused on bad input, done and logged with the operator otherwise.

use serde_json::{Value, json};

use super::Target;
use super::console::TOKEN;
use super::http::Request;

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
