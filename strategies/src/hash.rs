//! A fixed, documented hash and a logarithm computed only with IEEE-754
//! basic operations, so rendezvous scores are the same bit for bit on every
//! platform and in every version.

/// FNV-1a (64-bit) of `bytes` starting from `state`.
fn fnv1a(mut state: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        state ^= u64::from(b);
        state = state.wrapping_mul(0x0000_0100_0000_01b3);
    }
    state
}

/// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// `fmix64(FNV-1a(seed as 8 little-endian bytes ‖ task ‖ 0xFF ‖ worker))`,
/// FNV-1a from its standard offset basis. `0xFF` never occurs in UTF-8, so
/// distinct (task, worker) pairs hash distinct byte strings.
pub(crate) fn pair_hash(seed: u64, task: &str, worker: &str) -> u64 {
    let mut h = fnv1a(0xcbf2_9ce4_8422_2325, &seed.to_le_bytes());
    h = fnv1a(h, task.as_bytes());
    h = fnv1a(h, &[0xFF]);
    fmix64(fnv1a(h, worker.as_bytes()))
}

/// The top 52 bits of `h` as a number strictly between 0 and 1:
/// `(⌊h / 2^12⌋ + ½) / 2^52`, exact in `f64` (with 53 bits the largest
/// value would round up to 1).
pub(crate) fn unit_interval(h: u64) -> f64 {
    ((h >> 12) as f64 + 0.5) * (1.0 / 4_503_599_627_370_496.0)
}

/// The natural logarithm of a positive, normal `x`, to within a few units in
/// the last place, with only `+ − × ÷` (exactly rounded everywhere), unlike
/// `f64::ln`, whose last bit depends on the platform's math library.
pub(crate) fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    // The mantissa as a number in [1, 2).
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        exponent += 1;
    }
    // ln(m) = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172: the series
    // s + s³/3 + s⁵/5 + … converges below 1e-17 after 12 terms.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    for k in 0..12 {
        sum += term / f64::from(2 * k + 1);
        term *= s2;
    }
    2.0 * sum + exponent as f64 * std::f64::consts::LN_2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_matches_the_platform_logarithm() {
        let mut x = 1e-16;
        while x <= 1.0 {
            let (ours, std) = (ln(x), x.ln());
            assert!(
                (ours - std).abs() <= 4.0 * f64::EPSILON * std.abs().max(1.0),
                "{x}: {ours} vs {std}"
            );
            x *= 1.07;
        }
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn pair_hash_is_fixed() {
        // Pinned values: a change here changes every ConsistentHash placement.
        assert_eq!(fnv1a(0xcbf2_9ce4_8422_2325, b"a"), 0xaf63_dc4c_8601_ec8c);
        let h = pair_hash(0, "task", "worker");
        assert_eq!(h, pair_hash(0, "task", "worker"));
        assert_ne!(h, pair_hash(1, "task", "worker"));
        assert_ne!(pair_hash(0, "ab", "c"), pair_hash(0, "a", "bc"));
    }

    #[test]
    fn unit_interval_is_open() {
        assert!(unit_interval(0) > 0.0);
        assert!(unit_interval(u64::MAX) < 1.0);
    }
}
