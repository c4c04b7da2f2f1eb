//! ElasticJob's strategies: worked examples from ElasticJob's own unit tests
//! (apache/shardingsphere-elasticjob,
//! kernel/src/test/java/org/apache/shardingsphere/elasticjob/kernel/internal/sharding/strategy/type/),
//! and a line-by-line transliteration of its Java code compared on random
//! inputs.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use tenure_core::strategy::{Strategy as _, Target};
use tenure_strategies::elastic_job::java_string_hash;
use tenure_strategies::{AverageAllocation, InstanceOrder, Odevity, RoundRobin};

/// `instances` workers named like ElasticJob's test instances
/// (`host0@-@0`, …) and `items` tasks `t00`, `t01`, … (item i = task i).
fn job(instances: usize, items: usize) -> Case {
    Case {
        workers: (0..instances)
            .map(|i| worker(&format!("host{i}@-@0"), 1))
            .collect(),
        tasks: (0..items).map(|i| task(&format!("t{i:02}"), 1)).collect(),
        current: Default::default(),
    }
}

/// The target as ElasticJob writes it: instance → its items.
fn by_instance(case: &Case, target: &Target) -> BTreeMap<String, Vec<usize>> {
    let mut out: BTreeMap<String, Vec<usize>> = case
        .workers
        .iter()
        .map(|w| (w.id.to_string(), Vec::new()))
        .collect();
    for (i, t) in case.tasks.iter().enumerate() {
        out.get_mut(target.placements[&t.id].as_str())
            .unwrap()
            .push(i);
    }
    out
}

fn expect(pairs: &[(&str, &[usize])]) -> BTreeMap<String, Vec<usize>> {
    pairs
        .iter()
        .map(|(w, items)| (w.to_string(), items.to_vec()))
        .collect()
}

// AverageAllocationJobShardingStrategyTest

#[test]
fn average_sharding_for_zero_server() {
    let case = job(0, 3);
    assert!(
        AverageAllocation::new()
            .assign(&case.input())
            .placements
            .is_empty()
    );
}

#[test]
fn average_sharding_for_one_server() {
    let case = job(1, 3);
    let got = by_instance(&case, &AverageAllocation::new().assign(&case.input()));
    assert_eq!(got, expect(&[("host0@-@0", &[0, 1, 2])]));
}

#[test]
fn average_sharding_for_servers_more_than_sharding_count() {
    let case = job(3, 2);
    let got = by_instance(&case, &AverageAllocation::new().assign(&case.input()));
    assert_eq!(
        got,
        expect(&[("host0@-@0", &[0]), ("host1@-@0", &[1]), ("host2@-@0", &[])])
    );
}

#[test]
fn average_sharding_for_servers_less_than_sharding_count_aliquot() {
    let case = job(3, 9);
    let got = by_instance(&case, &AverageAllocation::new().assign(&case.input()));
    assert_eq!(
        got,
        expect(&[
            ("host0@-@0", &[0, 1, 2]),
            ("host1@-@0", &[3, 4, 5]),
            ("host2@-@0", &[6, 7, 8])
        ])
    );
}

#[test]
fn average_sharding_8_items_3_servers() {
    let case = job(3, 8);
    let got = by_instance(&case, &AverageAllocation::new().assign(&case.input()));
    assert_eq!(
        got,
        expect(&[
            ("host0@-@0", &[0, 1, 6]),
            ("host1@-@0", &[2, 3, 7]),
            ("host2@-@0", &[4, 5])
        ])
    );
}

#[test]
fn average_sharding_10_items_3_servers() {
    let case = job(3, 10);
    let got = by_instance(&case, &AverageAllocation::new().assign(&case.input()));
    assert_eq!(
        got,
        expect(&[
            ("host0@-@0", &[0, 1, 2, 9]),
            ("host1@-@0", &[3, 4, 5]),
            ("host2@-@0", &[6, 7, 8])
        ])
    );
}

// OdevitySortByNameJobShardingStrategyTest

#[test]
fn odevity_sharding_by_asc_for_odd_hash() {
    // "1".hashCode() == 49, odd: ascending.
    let case = job(3, 2);
    let got = by_instance(&case, &Odevity::new("1").assign(&case.input()));
    assert_eq!(
        got,
        expect(&[("host0@-@0", &[0]), ("host1@-@0", &[1]), ("host2@-@0", &[])])
    );
}

#[test]
fn odevity_sharding_by_desc_for_even_hash() {
    // "0".hashCode() == 48, even: descending.
    let case = job(3, 2);
    let got = by_instance(&case, &Odevity::new("0").assign(&case.input()));
    assert_eq!(
        got,
        expect(&[("host2@-@0", &[0]), ("host1@-@0", &[1]), ("host0@-@0", &[])])
    );
}

// RotateServerByNameJobShardingStrategyTest (RoundRobinByNameJobShardingStrategy)

#[test]
fn round_robin_sharding_1() {
    let case = job(3, 2);
    let got = by_instance(&case, &RoundRobin::new("1").assign(&case.input()));
    assert_eq!(
        got,
        expect(&[("host1@-@0", &[0]), ("host2@-@0", &[1]), ("host0@-@0", &[])])
    );
}

#[test]
fn round_robin_sharding_2() {
    let case = job(3, 2);
    let got = by_instance(&case, &RoundRobin::new("2").assign(&case.input()));
    assert_eq!(
        got,
        expect(&[("host2@-@0", &[0]), ("host0@-@0", &[1]), ("host1@-@0", &[])])
    );
}

#[test]
fn round_robin_sharding_3() {
    let case = job(3, 2);
    let got = by_instance(&case, &RoundRobin::new("3").assign(&case.input()));
    assert_eq!(
        got,
        expect(&[("host0@-@0", &[0]), ("host1@-@0", &[1]), ("host2@-@0", &[])])
    );
}

#[test]
fn java_string_hash_matches_java() {
    assert_eq!(java_string_hash(""), 0);
    assert_eq!(java_string_hash("1"), 49);
    assert_eq!(java_string_hash("hello"), 99_162_322);
    // The classic collision.
    assert_eq!(java_string_hash("Aa"), 2112);
    assert_eq!(java_string_hash("BB"), 2112);
    // Outside the BMP: the surrogate pair D83D DE00, 0xD83D·31 + 0xDE00.
    assert_eq!(java_string_hash("\u{1F600}"), 1_772_899);
    assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
}

#[test]
fn round_robin_min_value_hash_rotates_by_two_to_the_31_mod_size() {
    // ElasticJob throws IndexOutOfBoundsException here for 3 instances.
    let rr = RoundRobin::new("polygenelubricants");
    assert_eq!(rr.offset(3), (1usize << 31) % 3);
    assert_eq!(rr.offset(3), 2);
    let case = job(3, 2);
    let got = by_instance(&case, &rr.assign(&case.input()));
    assert_eq!(
        got,
        expect(&[("host2@-@0", &[0]), ("host0@-@0", &[1]), ("host1@-@0", &[])])
    );
    // For a power of two ElasticJob gets offset 0, and so do we.
    assert_eq!(rr.offset(4), 0);
    assert!(reference_round_robin(&names(4), "polygenelubricants", 4).is_some());
    assert_eq!(
        reference_round_robin(&names(3), "polygenelubricants", 2),
        None
    );
}

#[test]
fn odevity_min_value_hash_is_even() {
    let case = job(3, 2);
    let got = by_instance(
        &case,
        &Odevity::new("polygenelubricants").assign(&case.input()),
    );
    assert_eq!(
        got,
        expect(&[("host2@-@0", &[0]), ("host1@-@0", &[1]), ("host0@-@0", &[])])
    );
}

#[test]
fn descending_instance_order_matches_the_zookeeper_registry_listing() {
    let case = job(3, 8);
    let s = AverageAllocation::new().with_instance_order(InstanceOrder::Descending);
    let got = by_instance(&case, &s.assign(&case.input()));
    assert_eq!(
        got,
        expect(&[
            ("host2@-@0", &[0, 1, 6]),
            ("host1@-@0", &[2, 3, 7]),
            ("host0@-@0", &[4, 5])
        ])
    );
}

// A transliteration of the Java code, for comparison on random inputs.

fn names(n: usize) -> Vec<String> {
    let mut v: Vec<String> = (0..n).map(|i| format!("host{i}@-@0")).collect();
    v.sort();
    v
}

/// `AverageAllocationJobShardingStrategy.sharding`: instance → items, in
/// instance order (Java's LinkedHashMap).
fn reference_average(instances: &[String], total: i32) -> Vec<(String, Vec<i32>)> {
    if instances.is_empty() {
        return Vec::new();
    }
    let size = instances.len() as i32;
    let per = total / size;
    let mut result: Vec<(String, Vec<i32>)> = Vec::new();
    for (count, each) in instances.iter().enumerate() {
        let count = count as i32;
        result.push((each.clone(), (count * per..(count + 1) * per).collect()));
    }
    let aliquant = total % size;
    for (count, entry) in result.iter_mut().enumerate() {
        if (count as i32) < aliquant {
            entry.1.push(total / size * size + count as i32);
        }
    }
    result
}

/// `RoundRobinByNameJobShardingStrategy.sharding`; `None` where Java throws.
fn reference_round_robin(
    instances: &[String],
    job: &str,
    total: i32,
) -> Option<Vec<(String, Vec<i32>)>> {
    let size = instances.len() as i32;
    if size == 0 {
        return Some(Vec::new());
    }
    // Math.abs(int) overflows for Integer.MIN_VALUE; Java's % keeps the sign.
    let offset = java_string_hash(job).wrapping_abs() % size;
    if offset == 0 {
        return Some(reference_average(instances, total));
    }
    let mut rotated = Vec::new();
    for i in 0..size {
        let index = (i + offset) % size;
        if index < 0 {
            return None; // List.get(negative): IndexOutOfBoundsException
        }
        rotated.push(instances[index as usize].clone());
    }
    Some(reference_average(&rotated, total))
}

/// `OdevitySortByNameJobShardingStrategy.sharding`.
fn reference_odevity(instances: &[String], job: &str, total: i32) -> Vec<(String, Vec<i32>)> {
    let hash = i64::from(java_string_hash(job));
    let mut instances = instances.to_vec();
    if hash % 2 == 0 {
        instances.reverse();
    }
    reference_average(&instances, total)
}

fn flatten(reference: Vec<(String, Vec<i32>)>) -> BTreeMap<String, Vec<usize>> {
    reference
        .into_iter()
        .map(|(w, items)| (w, items.into_iter().map(|i| i as usize).collect()))
        .collect()
}

fn job_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,12}",
        1 => Just("polygenelubricants".to_owned()),
        1 => Just("DESIGNING WORKHOUSES".to_owned()),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn average_allocation_is_elastic_jobs(m in 0usize..16, n in 0usize..60, desc in any::<bool>()) {
        let case = job(m, n);
        let mut instances = names(m);
        let order = if desc { instances.reverse(); InstanceOrder::Descending } else { InstanceOrder::Ascending };
        let ours = AverageAllocation::new().with_instance_order(order).assign(&case.input());
        let theirs = flatten(reference_average(&instances, n as i32));
        if m == 0 {
            prop_assert!(ours.placements.is_empty());
        } else {
            prop_assert_eq!(by_instance(&case, &ours), theirs);
        }
    }

    #[test]
    fn odevity_is_elastic_jobs(m in 1usize..16, n in 0usize..60, name in job_name()) {
        let case = job(m, n);
        let ours = Odevity::new(name.clone()).assign(&case.input());
        prop_assert_eq!(by_instance(&case, &ours), flatten(reference_odevity(&names(m), &name, n as i32)));
    }

    #[test]
    fn round_robin_is_elastic_jobs_wherever_elastic_job_answers(m in 1usize..16, n in 0usize..60, name in job_name()) {
        let case = job(m, n);
        let rr = RoundRobin::new(name.clone());
        let ours = by_instance(&case, &rr.assign(&case.input()));
        match reference_round_robin(&names(m), &name, n as i32) {
            Some(theirs) => prop_assert_eq!(ours, flatten(theirs)),
            None => {
                prop_assert_eq!(java_string_hash(&name), i32::MIN);
                let mut rotated = names(m);
                rotated.rotate_left(((1u64 << 31) % m as u64) as usize);
                prop_assert_eq!(ours, flatten(reference_average(&rotated, n as i32)));
            }
        }
    }
}
