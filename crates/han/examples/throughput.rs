//! Decodes N sample frames of one kind (for instruction counts under
//! callgrind, which, unlike wall time, the other load on this machine does
//! not disturb). Usage: throughput aidon|kaifa|kamstrup|dsmr5 N [build-only]
use han::encode::samples;
use han::{Config, Decoder, Event};

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
    let mut d = Decoder::new(Config::default());
    d.push(&stream);
    let mut got = 0;
    while let Some(e) = d.next_event() {
        if let Event::Reading(r) = e {
            got += r.obis.len();
        }
    }
    println!("{kind}: {n} frames, {got} objects");
}
