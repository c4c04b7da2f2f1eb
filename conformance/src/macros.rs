//! The macro that turns the suite into one test per behaviour.

/// Expands to the whole conformance suite as tests, one
/// `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` per suite
/// function, grouped in modules by clause (`crud::…`, `cas::…`).
///
/// The argument names an `async fn() -> Arc<dyn Backend>` in scope at the
/// call site; each test calls it once. The macro assumes nothing else about
/// the backend: a real-server backend shares one server per test binary
/// (its harness holds it, e.g. in a `static OnceLock`), the memory backend
/// may hand out a fresh server each time.
///
/// The crate's documentation has a whole test file that uses it.
#[macro_export]
macro_rules! conformance_suite {
    ($make:path) => {
        $crate::conformance_suite!(@clause $make, crud [
            create_get_set_delete_round_trip,
            empty_and_binary_payloads_round_trip,
            create_without_parent_fails_with_no_parent,
            create_existing_fails_with_already_exists,
            delete_with_children_fails_with_not_empty,
            missing_node_reads_none_and_writes_fail_not_found,
            children_are_sorted_and_direct_only,
        ]);
        $crate::conformance_suite!(@clause $make, cas [
            set_with_stale_version_fails_with_conflict,
            delete_with_stale_version_fails_with_conflict,
            concurrent_sets_with_same_version_have_exactly_one_winner,
            concurrent_creates_of_one_node_have_exactly_one_winner,
            versions_never_repeat_across_writes,
            a_recreated_node_has_a_new_incarnation,
        ]);
        $crate::conformance_suite!(@clause $make, ephemeral [
            ephemeral_is_visible_to_other_clients_with_its_owner,
            ephemeral_vanishes_when_its_client_closes,
            ephemeral_vanishes_when_its_session_expires,
            ephemeral_under_a_stale_session_is_refused,
            child_of_ephemeral_is_refused_with_ephemeral_parent,
        ]);
        $crate::conformance_suite!(@clause $make, watch [
            node_watch_fires_changed_on_set,
            node_watch_fires_deleted_on_delete,
            node_watch_on_missing_node_fires_created,
            node_watch_ignores_siblings_and_children,
            children_watch_fires_on_child_create,
            children_watch_fires_on_child_delete,
            children_watch_fires_when_the_node_is_deleted,
            children_watch_ignores_prefix_siblings_and_data,
            change_right_after_the_read_always_fires,
            pending_watches_resolve_when_the_session_expires,
            pending_watches_fire_lost_on_close,
        ]);
        $crate::conformance_suite!(@clause $make, multi [
            multi_is_all_or_nothing,
            multi_applies_every_op_and_returns_results_in_order,
            multi_claims_race_with_exactly_one_winner,
            multi_error_names_the_failing_path,
            failed_multi_fires_no_watch,
        ]);
        $crate::conformance_suite!(@clause $make, read_many [
            get_many_answers_each_path_in_order_as_get_does,
            get_many_of_no_paths_answers_nothing,
            get_many_answers_more_paths_than_one_transaction_holds,
            get_many_answers_nodes_at_the_payload_limit,
            get_many_and_watch_answers_and_watches_as_get_and_watch_does,
        ]);
        $crate::conformance_suite!(@clause $make, session [
            new_client_is_connected_with_a_session,
            session_deadline_when_known_lies_within_the_timeout,
            close_makes_state_closed_and_requests_fail_with_closed,
            expiry_ends_ephemerals_then_a_new_session_connects,
            resume_within_timeout_keeps_session_and_ephemerals,
            suspension_past_timeout_expires_the_session,
            restart_session_ends_ephemerals_then_a_new_session_connects,
            fit_renewal_keeps_within_what_was_asked_and_info_reports_it,
            an_idle_store_keeps_its_deadline_within_its_renewal_period,
        ]);
        $crate::conformance_suite!(@clause $make, bad_input [
            empty_name_is_refused,
            slash_inside_a_name_is_refused,
            dot_and_dot_dot_are_refused,
            control_character_in_a_name_is_refused,
            over_long_name_is_refused_naming_the_limit,
            over_long_path_is_refused_naming_the_limit,
            payload_at_the_limit_is_accepted,
            oversized_payload_on_create_is_refused,
            oversized_payload_on_set_is_refused,
            oversized_payload_inside_multi_is_refused,
            missing_parent_is_refused_naming_the_path,
        ]);
    };
    (@clause $make:path, $clause:ident [$($test:ident),* $(,)?]) => {
        mod $clause {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let backend: ::std::sync::Arc<dyn $crate::Backend> = $make().await;
                    $crate::with_deadline(
                        ::core::concat!(::core::stringify!($clause), "::", ::core::stringify!($test)),
                        $crate::$clause::$test(&*backend),
                    )
                    .await;
                }
            )*
        }
    };
}
