//! Loopback ports for test servers.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::{Mutex, OnceLock};

/// A loopback port that nothing listens on and that this process has not
/// handed out before. Ports are drawn below the kernel's range for outgoing
/// connections (`net.ipv4.ip_local_port_range`), so a client socket cannot
/// take a server's port while that server is stopped for a restart.
pub fn free_port() -> u16 {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(Default::default);
    let (low, high) = server_port_range();
    let seed = u64::from(std::process::id()) ^ nanos_now();
    for attempt in 0..2000u64 {
        let port = low + (mix(seed.wrapping_add(attempt)) % u64::from(high - low)) as u16;
        let mut taken = given.lock().unwrap_or_else(|p| p.into_inner());
        if taken.contains(&port) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            taken.insert(port);
            return port;
        }
    }
    panic!("no free loopback port found in 2000 attempts in {low}..{high}");
}

/// Ports for servers: from 10000 up to the start of the kernel's range for
/// outgoing connections (or 10000..32768 if that range cannot be read or
/// leaves too little room).
fn server_port_range() -> (u16, u16) {
    let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok());
    match start {
        Some(start) if start >= 12_000 => (10_000, start),
        _ => (10_000, 32_768),
    }
}

fn nanos_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// A 64-bit mixer (splitmix64), enough to spread port choices.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
