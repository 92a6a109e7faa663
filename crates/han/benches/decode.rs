//! Decode throughput into the reading type, one core: HAN list-2 frames
//! (Aidon self-describing, Kaifa positional, Kamstrup pairs) and DSMR 5
//! telegrams, fed to the streaming decoder as one buffer of many frames.
//! Readings are lent (`next_event_ref`, as han-read reads); `_owned` hands
//! each over (`next_event` + `recycle`); `_full` decodes every message from
//! scratch (`Config::full_decode`). `mixed`: several meters interleaved.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use han::encode::samples::{aidon_list2, dsmr5, kaifa_list2, kamstrup_list1};
use han::{Config, Decoder, Event, EventRef};

const N: usize = 1000;

fn stream(make: fn(u32) -> Vec<u8>) -> Vec<u8> {
    (0..N as u32).flat_map(make).collect()
}

/// As han-read reads: each reading lent (`next_event_ref`).
fn decode_all(d: &mut Decoder, s: &[u8]) -> usize {
    d.push(s);
    let mut n = 0;
    while let Some(ev) = d.next_event_ref() {
        if let EventRef::Reading(r) = ev {
            black_box(r);
            n += 1;
        }
    }
    n
}

/// Each reading handed over (`next_event`) and handed back for reuse.
fn decode_all_owned(d: &mut Decoder, s: &[u8]) -> usize {
    d.push(s);
    let mut n = 0;
    while let Some(ev) = d.next_event() {
        if let Event::Reading(r) = ev {
            n += 1;
            d.recycle(black_box(r));
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(N as u64));
    for (name, make) in [
        ("han_aidon_list2", aidon_list2 as fn(u32) -> Vec<u8>),
        ("han_kaifa_list2", kaifa_list2),
        ("han_kamstrup_list1", kamstrup_list1),
        ("dsmr5_telegram", dsmr5),
    ] {
        let s = stream(make);
        // As a meter streams (each message decoded against the one of its
        // layout before), readings lent or handed over; and every message
        // decoded from scratch.
        type Run = fn(&mut Decoder, &[u8]) -> usize;
        for (suffix, full_decode, run) in
            [("", false, decode_all as Run), ("_owned", false, decode_all_owned), ("_full", true, decode_all)]
        {
            let mut d = Decoder::new(Config { full_decode, ..Config::default() });
            assert_eq!(run(&mut d, &s), N, "{name}: every frame decodes");
            g.bench_function(format!("{name}{suffix}"), |b| b.iter(|| run(&mut d, black_box(&s))));
        }
    }
    g.finish();
}

/// Several meters on one line, one message of each in turn: six DSMR 5
/// meters whose telegrams have one length (the sample's identification
/// changed), and the three HAN brands' samples. Against templates, and
/// every message from scratch (`_full`).
fn bench_mixed(c: &mut Criterion) {
    let dsmr = |m: u32| {
        move |i: u32| {
            let t = dsmr5(i);
            let bang = t.iter().rposition(|b| *b == b'!').unwrap_or(0);
            let body = String::from_utf8_lossy(t.get(..bang).unwrap_or_default()).into_owned();
            han::encode::dsmr_telegram(&body.replacen("MT382-1000", &format!("MT382-10{m:02}"), 1))
        }
    };
    let dsmr_mix: Vec<u8> = (0..N as u32).flat_map(|i| dsmr(i % 6)(i / 6)).collect();
    let makers = [aidon_list2 as fn(u32) -> Vec<u8>, kaifa_list2, kamstrup_list1];
    let han_mix: Vec<u8> =
        (0..N as u32).flat_map(|i| makers.get(i as usize % 3).map_or(Vec::new(), |m| m(i / 3))).collect();
    let mut g = c.benchmark_group("mixed");
    g.throughput(Throughput::Elements(N as u64));
    for (name, s) in [("dsmr5_six_meters", &dsmr_mix), ("han_three_brands", &han_mix)] {
        for (suffix, full_decode) in [("", false), ("_full", true)] {
            let mut d = Decoder::new(Config { full_decode, ..Config::default() });
            assert_eq!(decode_all(&mut d, s), N, "{name}: every message decodes");
            g.bench_function(format!("{name}{suffix}"), |b| b.iter(|| decode_all(&mut d, black_box(s))));
        }
    }
    g.finish();
}

criterion_group!(benches, bench, bench_mixed, bench_parts);
criterion_main!(benches);

fn bench_parts(c: &mut Criterion) {
    let frame = aidon_list2(0);
    let mut g = c.benchmark_group("parts");
    g.throughput(Throughput::Bytes(frame.len() as u64));
    g.bench_function("crc_x25_frame", |b| b.iter(|| han::crc::x25(black_box(&frame))));
    g.bench_function("hdlc_parse", |b| {
        b.iter(|| matches!(han::hdlc::parse(black_box(&frame)), han::hdlc::Parse::Frame { .. }))
    });
    let apdu = &frame[12..frame.len() - 3];
    let mut nodes = Vec::new();
    g.bench_function("axdr_decode", |b| b.iter(|| han::axdr::decode_into(black_box(apdu), 6, &mut nodes).is_ok()));
    g.bench_function("decode_message", |b| {
        b.iter(|| han::decode_message(black_box(&frame), &Config::default()).is_ok())
    });
    g.finish();
}
