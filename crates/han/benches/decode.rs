//! Decode throughput into the reading type, one core: HAN list-2 frames
//! (Aidon self-describing, Kaifa positional, Kamstrup pairs) and DSMR 5
//! telegrams, fed to the streaming decoder as one buffer of many frames.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use han::encode::{Axdr, data_notification, dsmr_telegram, hdlc_push};
use han::{Config, Decoder, Event, Obis};

const N: usize = 1000;

fn e(c: u8, d: u8, x: u8) -> Obis {
    Obis::new(1, 0, c, d, x, 255)
}

/// Aidon 6525/6534 NEK list 2, 3-phase: 13 self-describing items.
pub fn aidon_list2(i: u32) -> Vec<u8> {
    let mut a = Axdr::new();
    a.array(13);
    a.structure(2).obis(Obis::new(1, 1, 0, 2, 129, 255)).visible("AIDON_V0001");
    a.structure(2).obis(Obis::new(0, 0, 96, 1, 0, 255)).visible("7359992890941742");
    a.structure(2).obis(Obis::new(0, 0, 96, 1, 7, 255)).visible("6534");
    for (c, v, u) in [(1, 1362 + i, 27), (2, 0, 27), (3, 996, 29), (4, 0, 29)] {
        a.structure(3).obis(e(c, 7, 0)).u32(v).scaler_unit(0, u);
    }
    for c in [31, 51, 71] {
        a.structure(3).obis(e(c, 7, 0)).i16(93).scaler_unit(-1, 33);
    }
    for c in [32, 52, 72] {
        a.structure(3).obis(e(c, 7, 0)).u16(2300).scaler_unit(-1, 35);
    }
    hdlc_push(&data_notification(0x4000_0000, None, &a.0))
}

/// Kaifa KFM_001 list 2, 3-phase: 13 bare values.
pub fn kaifa_list2(i: u32) -> Vec<u8> {
    let mut a = Axdr::new();
    a.structure(13).octets(b"KFM_001").octets(b"6970631403275928").octets(b"MA304H3E");
    for v in [4100 + i, 0, 195, 0, 12056, 5754, 13412, 2353, 0, 2397] {
        a.u32(v);
    }
    hdlc_push(&data_notification(0x4000_0000, None, &a.0))
}

/// Kamstrup list 1 (NEK list 2 content), 3-phase: 25 elements of pairs.
pub fn kamstrup_list1(i: u32) -> Vec<u8> {
    let mut a = Axdr::new();
    a.structure(25).visible("Kamstrup_V0001");
    a.obis(Obis::new(1, 1, 0, 0, 5, 255)).visible("5706567274389702");
    a.obis(Obis::new(1, 1, 96, 1, 1, 255)).visible("6841121BN243101040");
    for (c, v) in [(1, 1000 + i), (2, 0), (3, 0), (4, 200), (31, 389), (51, 135), (71, 255)] {
        a.obis(Obis::new(1, 1, c, 7, 0, 255)).u32(v);
    }
    for c in [32, 52, 72] {
        a.obis(Obis::new(1, 1, c, 7, 0, 255)).u16(230);
    }
    hdlc_push(&data_notification(0, None, &a.0))
}

/// A DSMR 5.0.2 3-phase telegram with gas (~880 bytes).
pub fn dsmr5(i: u32) -> Vec<u8> {
    let body = format!(
        "/ISk5\\2MT382-1000\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(101209113020W)\r\n\
0-0:96.1.1(4B384547303034303436333935353037)\r\n1-0:1.8.1(123456.789*kWh)\r\n1-0:1.8.2(123456.789*kWh)\r\n\
1-0:2.8.1(123456.789*kWh)\r\n1-0:2.8.2(123456.789*kWh)\r\n0-0:96.14.0(0002)\r\n1-0:1.7.0(01.{:03}*kW)\r\n\
1-0:2.7.0(00.000*kW)\r\n0-0:96.7.21(00004)\r\n0-0:96.7.9(00002)\r\n\
1-0:99.97.0(2)(0-0:96.7.19)(101208152415W)(0000000240*s)(101208151004W)(0000000301*s)\r\n\
1-0:32.32.0(00002)\r\n1-0:52.32.0(00001)\r\n1-0:72.32.0(00000)\r\n1-0:32.36.0(00000)\r\n1-0:52.36.0(00003)\r\n\
1-0:72.36.0(00000)\r\n0-0:96.13.0(303132333435363738393A3B3C3D3E3F303132333435363738393A3B3C3D3E3F)\r\n\
1-0:32.7.0(220.1*V)\r\n1-0:52.7.0(220.2*V)\r\n1-0:72.7.0(220.3*V)\r\n1-0:31.7.0(001*A)\r\n1-0:51.7.0(002*A)\r\n\
1-0:71.7.0(003*A)\r\n1-0:21.7.0(01.111*kW)\r\n1-0:41.7.0(02.222*kW)\r\n1-0:61.7.0(03.333*kW)\r\n\
1-0:22.7.0(04.444*kW)\r\n1-0:42.7.0(05.555*kW)\r\n1-0:62.7.0(06.666*kW)\r\n0-1:24.1.0(003)\r\n\
0-1:96.1.0(3232323241424344313233343536373839)\r\n0-1:24.2.1(101209112500W)(12785.123*m3)\r\n",
        i % 1000
    );
    dsmr_telegram(&body)
}

fn stream(make: fn(u32) -> Vec<u8>) -> Vec<u8> {
    (0..N as u32).flat_map(make).collect()
}

fn decode_all(d: &mut Decoder, s: &[u8]) -> usize {
    d.push(s);
    let mut n = 0;
    while let Some(ev) = d.next_event() {
        if let Event::Reading(r) = ev {
            n += 1;
            black_box(r);
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
        let mut d = Decoder::new(Config::default());
        assert_eq!(decode_all(&mut d, &s), N, "{name}: every frame decodes");
        g.bench_function(name, |b| b.iter(|| decode_all(&mut d, black_box(&s))));
    }
    g.finish();
}

criterion_group!(benches, bench, bench_parts);
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
