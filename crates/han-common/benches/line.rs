//! Reading stream lines back, one core: `Line::parse` (han-log's check of
//! its input: one serde_json pass) and `Line::scan` (the daily logs: the
//! top level only), with and without the quantities, on the lines han-read
//! writes for a Kaifa list 2 (~1 KB) and a DSMR 5 telegram (~2.4 KB).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use han::encode::samples::{dsmr5, kaifa_list2};
use han::{Config, Decoder, EventRef};
use han_common::line::Line;

/// The stream line of a message, as han-read writes it.
fn line_of(bytes: &[u8]) -> Vec<u8> {
    let mut d = Decoder::new(Config::default());
    d.push(bytes);
    d.finish();
    let received = chrono::DateTime::parse_from_rfc3339("2025-01-02T03:04:05.678Z").map(|t| t.to_utc()).ok();
    while let Some(e) = d.next_event_ref() {
        if let EventRef::Reading(r) = e {
            let mut out = Vec::new();
            r.write_json_line_received(received.as_ref(), &mut out);
            while out.last() == Some(&b'\n') {
                out.pop();
            }
            return out;
        }
    }
    panic!("no reading");
}

fn bench(c: &mut Criterion) {
    for (name, line) in [("kaifa_list2", line_of(&kaifa_list2(1))), ("dsmr5", line_of(&dsmr5(1)))] {
        let mut g = c.benchmark_group(format!("line/{name}"));
        g.throughput(Throughput::Bytes(line.len() as u64));
        for quantities in [false, true] {
            let q = if quantities { "+quantities" } else { "" };
            g.bench_function(format!("parse{q}"), |b| {
                b.iter(|| black_box(Line::parse(black_box(&line), quantities)).is_ok())
            });
            g.bench_function(format!("scan{q}"), |b| {
                b.iter(|| black_box(Line::scan(black_box(&line), quantities)).is_ok())
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
