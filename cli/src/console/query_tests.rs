//! Tests of the task list's filtering, sorting and paging.

use super::*;
use std::collections::BTreeSet;
use tenure_core::Ownership;
use tenure_core::{TaskId, WorkerId};

fn task(name: &str, owner: Option<(&str, u64)>, target: Option<&str>, paused: bool) -> TaskStatus {
    let state = match (paused, owner) {
        (true, _) => TaskState::Paused,
        (false, Some(_)) => TaskState::Running,
        (false, None) => TaskState::Waiting,
    };
    TaskStatus {
        task: TaskId::new(name).unwrap(),
        state,
        weight: std::num::NonZeroU32::MIN,
        tags: BTreeSet::from(["blue".to_owned()]),
        pinned: None,
        payload_bytes: 0,
        owner: owner.map(|(w, token)| Ownership {
            worker: WorkerId::new(w).unwrap(),
            token,
            since_ms: token * 10,
        }),
        target: target.map(|w| WorkerId::new(w).unwrap()),
    }
}

fn query(pairs: &[(&str, &str)]) -> Result<Filter, ApiError> {
    let text = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let q: TaskQuery = serde_urlencoded_like(&text);
    q.check()
}

/// Parses a query string the way axum's `Query` does.
fn serde_urlencoded_like(text: &str) -> TaskQuery {
    let uri: axum::http::Uri = format!("/x?{text}").parse().unwrap();
    axum::extract::Query::<TaskQuery>::try_from_uri(&uri)
        .unwrap()
        .0
}

fn cluster() -> Vec<TaskStatus> {
    vec![
        task("a1", Some(("w2", 7)), Some("w2"), false),
        task("a2", None, Some("w1"), false),
        task("b1", None, None, false),
        task("b2", Some(("w1", 3)), Some("w1"), false),
        task("c1", None, None, true),
    ]
}

fn names_of(page: &Page<'_>) -> Vec<String> {
    page.rows.iter().map(|t| t.task.to_string()).collect()
}

#[test]
fn unplaced_is_waiting_without_a_target_and_waiting_includes_it() {
    let tasks = cluster();
    let f = query(&[("state", "unplaced")]).unwrap();
    assert_eq!(names_of(&f.page(&tasks)), ["b1"]);
    let f = query(&[("state", "waiting")]).unwrap();
    assert_eq!(names_of(&f.page(&tasks)), ["a2", "b1"]);
}

#[test]
fn filters_combine_and_dash_means_nobody() {
    let tasks = cluster();
    let f = query(&[("owner", "-")]).unwrap();
    assert_eq!(names_of(&f.page(&tasks)), ["a2", "b1", "c1"]);
    let f = query(&[("owner", "-"), ("q", "b")]).unwrap();
    assert_eq!(names_of(&f.page(&tasks)), ["b1"]);
    let f = query(&[("target", "w1")]).unwrap();
    assert_eq!(names_of(&f.page(&tasks)), ["a2", "b2"]);
    let f = query(&[("tag", "red")]).unwrap();
    assert_eq!(f.page(&tasks).matched, 0);
}

#[test]
fn sorting_is_stable_by_name_and_pages_count_the_matches() {
    let tasks = cluster();
    let f = query(&[("sort", "token"), ("order", "desc"), ("limit", "2")]).unwrap();
    let page = f.page(&tasks);
    assert_eq!(names_of(&page), ["a1", "b2"]);
    assert_eq!((page.total, page.matched), (5, 5));
    let next = query(&[
        ("sort", "token"),
        ("order", "desc"),
        ("limit", "2"),
        ("offset", "2"),
    ])
    .unwrap();
    assert_eq!(names_of(&next.page(&tasks)), ["a2", "b1"]);
    assert_eq!(
        f.query_string(|f| f.offset = 2),
        "sort=token&order=desc&offset=2&limit=2"
    );
}

#[test]
fn bad_parameters_are_refused_naming_what_they_take() {
    for (pairs, says) in [
        (
            vec![("state", "asleep")],
            "running, waiting, unplaced, paused or done",
        ),
        (vec![("sort", "colour")], "task, state, owner"),
        (vec![("order", "up")], "asc or desc"),
        (vec![("limit", "5000")], "from 0 to 1000"),
        (vec![("limit", "0")], "from 1 to 1000"),
        (vec![("offset", "-1")], "offset must be"),
    ] {
        let err = query(&pairs).unwrap_err();
        assert!(err.message().contains(says), "{pairs:?}: {}", err.message());
    }
    assert_eq!(
        query(&[("state", ""), ("limit", "")]).unwrap(),
        query(&[]).unwrap()
    );
}
