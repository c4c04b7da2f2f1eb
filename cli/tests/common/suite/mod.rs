//! The CLI tests every backend runs, as functions of the server to run
//! against; `cli_suite!` turns them into `#[test]`s. One file per subject:
//!
//! - `admin`: operating tasks, and what the CLI refuses;
//! - `failover`: supervised commands failing over, restarting, crash-looping;
//! - `grace`: SIGTERM, then SIGKILL after the grace;
//! - `views`: `watch`, the JSON documents and the JSON logs;
//! - `placement`: strategies and the pacing of moves;
//! - `drain`: draining and undraining a worker;
//! - `cluster`: listing and removing clusters.

mod admin;
mod cluster;
mod drain;
mod failover;
mod grace;
mod placement;
mod views;

// Test binaries that run no suite use none of these.
#[allow(unused_imports)]
pub use admin::*;
#[allow(unused_imports)]
pub use cluster::*;
#[allow(unused_imports)]
pub use drain::*;
#[allow(unused_imports)]
pub use failover::*;
#[allow(unused_imports)]
pub use grace::*;
#[allow(unused_imports)]
pub use placement::*;
#[allow(unused_imports)]
pub use views::*;

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::Cluster;

/// Declares one `#[test]` per suite function, run against `$target`.
#[macro_export]
macro_rules! cli_suite {
    ($target:expr) => {
        $crate::cli_suite!(@tests $target; suite;
            operate_tasks_and_see_them_in_status_json,
            bad_input_is_refused_with_the_reason_and_nothing_is_written,
            unreachable_server_fails_within_the_connect_timeout,
            read_only_commands_on_a_missing_cluster_write_nothing,
            an_oversized_payload_names_the_backends_real_limit,
            update_and_show_one_task,
            supervised_command_fails_over_on_sigkill_and_hands_off_on_sigterm,
            restarts_back_off_and_keep_the_claim,
            a_command_exiting_0_is_done_until_rearmed,
            crash_looping_command_is_reported_and_paused,
            command_ignoring_sigterm_is_killed_after_the_grace,
            worker_refuses_a_grace_that_does_not_fit_the_session,
            worker_without_grace_fits_its_default_to_a_short_session,
            workers_place_tasks_with_the_chosen_strategy,
            rebalance_delay_and_max_moves_pace_the_handover_to_a_new_worker,
            draining_a_worker_moves_its_tasks_and_undraining_takes_them_back,
            cluster_ls_lists_and_cluster_rm_refuses_while_in_use,
            watch_follows_status_and_events_until_told_to_stop,
            json_documents_keep_their_documented_keys,
            json_logs_carry_the_worker_and_task_spans,
        );
        $crate::cli_suite!(@tests $target; steady;
            steady_cluster_restarts_nothing_at_the_shortest_session,
        );
        $crate::cli_suite!(@tests $target; containment;
            frozen_worker_stops_its_command_before_the_survivor_starts,
            detached_descendants_die_with_a_killed_worker,
            detached_descendants_stop_with_the_task,
            detached_descendants_stop_when_the_command_exits,
        );
    };
    (@tests $target:expr; $module:ident; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                common::$module::$name(&$target);
            }
        )*
    };
}

pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The keys of a JSON object.
pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

pub fn worker_count(c: &Cluster) -> usize {
    c.status()["workers"].as_array().unwrap().len()
}
