//! Decodes N sample frames of one kind (for instruction counts under
//! callgrind, which, unlike wall time, the other load on this machine does
//! not disturb). Usage: throughput aidon|kaifa|kamstrup|dsmr5 N [build-only]
use han::encode::samples;
use han::{Config, Decoder, EventRef};

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_default();
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let make = match kind.as_str() {
        "aidon" => samples::aidon_list2,
        "kaifa" => samples::kaifa_list2,
        "kamstrup" => samples::kamstrup_list1,
        _ => samples::dsmr5,
    };
    let stream: Vec<u8> = (0..n).flat_map(make).collect();
    if args.next().as_deref() == Some("build-only") {
        println!("{kind}: {} bytes built", stream.len());
        return;
    }
    // `FULL=1`: every message decoded from scratch (`Config::full_decode`).
    let mut d = Decoder::new(Config { full_decode: std::env::var_os("FULL").is_some(), ..Config::default() });
    // The same stream again and again, as the criterion bench does, so the
    // input stays in cache: `REPEAT` (default 1) passes.
    let repeat: u32 = std::env::var("REPEAT").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let cpu0 = thread_cpu_ns();
    let mut got = 0;
    for _ in 0..repeat {
        d.push(&stream);
        while let Some(e) = d.next_event_ref() {
            if let EventRef::Reading(r) = e {
                got += r.obis.len();
            }
        }
    }
    let n = n * repeat;
    let cpu = thread_cpu_ns().saturating_sub(cpu0);
    let rate = if cpu > 0 { f64::from(n) * 1e9 / cpu as f64 } else { 0.0 };
    println!("{kind}: {n} frames, {got} objects, {rate:.0} frames per CPU-second");
}

/// CPU time of this thread in ns (`/proc/thread-self/schedstat`): other
/// load on the machine inflates wall time, not this.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}
