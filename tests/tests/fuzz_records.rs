//! Fuzzing the record decoders: every record of the layout and both
//! counters, fed arbitrary bytes, arbitrary JSON, and valid records one
//! mistake away from valid. A decoder never panics; it answers the record
//! or [`Error::MalformedRecord`] naming the node and the kind, and a record
//! it answers encodes back to one that decodes the same. Valid records
//! round-trip exactly.
//!
//! Each property runs proptest's default number of cases (256, a few
//! seconds for the whole file in a debug build); for a longer run set
//! `PROPTEST_CASES`, e.g.
//! `PROPTEST_CASES=100000 cargo nextest run -p tenure-tests --test fuzz_records`.
//! A failure prints the shrunk input and saves its seed beside this file
//! (`fuzz_records.proptest-regressions`), replayed first on the next run.

#![allow(clippy::unwrap_used)]

use std::fmt::Debug;

use proptest::prelude::*;
use tenure_core::internals::records::{
    ChangeLog, EPOCH, LeaderRecord, OpenRecord, OwnerRecord, Record, TERM, TargetRecord,
    TaskRecord, WorkerRecord, decode_epoch, decode_term, next_token,
};
use tenure_core::{Error, Path};
use tenure_tests::fuzz;

fn node() -> Path {
    Path::new("/tenure/fuzz/some/node").unwrap()
}

/// Decoding `data` as `R` answers the record (which encodes back to the
/// same record) or a malformed-record error naming the node and the kind.
fn decodes_or_names_the_node<R: Record + PartialEq + Debug>(
    data: &[u8],
) -> Result<(), TestCaseError> {
    match R::decode(&node(), data) {
        Ok(record) => {
            let again = R::decode(&node(), &record.encode().unwrap());
            prop_assert_eq!(again.ok(), Some(record));
        }
        Err(Error::MalformedRecord {
            path,
            record,
            problem,
        }) => {
            prop_assert_eq!(path, node());
            prop_assert_eq!(record, R::KIND);
            prop_assert!(!problem.is_empty());
        }
        Err(other) => prop_assert!(false, "not a typed malformed record: {other:?}"),
    }
    Ok(())
}

/// Every record kind, as [`decodes_or_names_the_node`].
fn every_kind(data: &[u8]) -> Result<(), TestCaseError> {
    decodes_or_names_the_node::<TaskRecord>(data)?;
    decodes_or_names_the_node::<WorkerRecord>(data)?;
    decodes_or_names_the_node::<OwnerRecord>(data)?;
    decodes_or_names_the_node::<TargetRecord>(data)?;
    decodes_or_names_the_node::<ChangeLog>(data)?;
    decodes_or_names_the_node::<OpenRecord>(data)?;
    decodes_or_names_the_node::<LeaderRecord>(data)?;
    counters(data)
}

/// Both counters: a number exactly when the data is decimal digits
/// (surrounded by whitespace at most), else a malformed-record error.
fn counters(data: &[u8]) -> Result<(), TestCaseError> {
    let text = std::str::from_utf8(data).map(str::trim).ok();
    let number = text
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<u64>().ok());
    for (kind, decoded) in [
        (EPOCH, decode_epoch(&node(), data)),
        (TERM, decode_term(&node(), data)),
    ] {
        match decoded {
            Ok(n) if kind == TERM && data.is_empty() => prop_assert_eq!(n, 0),
            Ok(n) => prop_assert_eq!(Some(n), number),
            Err(Error::MalformedRecord { path, record, .. }) => {
                prop_assert_eq!(number, None);
                prop_assert_eq!(path, node());
                prop_assert_eq!(record, kind);
            }
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }
    match (next_token(&node(), Some(data)), number) {
        (Ok(t), Some(n)) => prop_assert_eq!(Some(t), n.checked_add(1)),
        (Err(Error::MalformedRecord { record, .. }), n) => {
            prop_assert_eq!(record, EPOCH);
            prop_assert!(n.is_none_or(|n| n == u64::MAX));
        }
        (other, n) => prop_assert!(false, "{other:?} for {n:?}"),
    }
    Ok(())
}

fn round_trips<R: Record + PartialEq + Debug>(record: R) -> Result<(), TestCaseError> {
    let data = record.encode().unwrap();
    prop_assert_eq!(R::decode(&node(), &data).unwrap(), record);
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_bytes_decode_or_name_the_node(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        every_kind(&data)?;
    }

    #[test]
    fn arbitrary_json_decodes_or_names_the_node(value in fuzz::json()) {
        every_kind(&serde_json::to_vec(&value).unwrap())?;
    }

    #[test]
    fn counters_take_exactly_decimal_numbers(
        n in any::<u64>(),
        before in "[ \t\n]{0,2}",
        after in "[ \t\n]{0,2}",
        junk in "[^0-9 \t\n]{1,3}",
    ) {
        counters(format!("{before}{n}{after}").as_bytes())?;
        counters(format!("{n}{junk}").as_bytes())?;
        counters(format!("{junk}{n}").as_bytes())?;
        counters(format!("-{n}").as_bytes())?;
        counters(format!("{n}.0").as_bytes())?;
        counters(format!("{n}0000000000000000000000").as_bytes())?;
    }

    #[test]
    fn valid_records_round_trip(
        task in fuzz::task_record(),
        worker in fuzz::worker_record(),
        owner in fuzz::owner_record(),
        target in fuzz::target_record(),
        log in fuzz::change_log(),
        open in fuzz::open_record(),
        leader in fuzz::leader_record(),
    ) {
        round_trips(task)?;
        round_trips(worker)?;
        round_trips(owner)?;
        round_trips(target)?;
        round_trips(log)?;
        round_trips(open)?;
        round_trips(leader)?;
    }

    #[test]
    fn records_one_mistake_away_decode_or_name_the_node(
        task in fuzz::task_record(),
        owner in fuzz::owner_record(),
        target in fuzz::target_record(),
        open in fuzz::open_record(),
        field in any::<usize>(),
        with in proptest::option::of(fuzz::json()),
    ) {
        let values = [
            serde_json::to_value(&task).unwrap(),
            serde_json::to_value(&owner).unwrap(),
            serde_json::to_value(&target).unwrap(),
            serde_json::to_value(&open).unwrap(),
        ];
        for value in values {
            let value = fuzz::mutated(value, field, with.clone());
            every_kind(&serde_json::to_vec(&value).unwrap())?;
        }
    }
}

#[test]
fn deeply_nested_json_is_refused_not_a_stack_overflow() {
    for depth in [100, 1_000, 100_000] {
        let data = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        every_kind(data.as_bytes()).unwrap();
    }
}

#[test]
fn a_payload_that_is_not_base64_is_a_malformed_task() {
    let err = TaskRecord::decode(&node(), br#"{"payload_base64": "not base64!"}"#).unwrap_err();
    assert!(
        matches!(&err, Error::MalformedRecord { record: "task", problem, .. } if problem.contains("base64")),
        "{err:?}"
    );
}
