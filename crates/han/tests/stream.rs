//! The streaming decoder on streams built from the real captures:
//! back to back, with garbage between, split at every offset, fed a byte at
//! a time, cut short, and bit-flipped. Every intact frame comes out, in
//! order, and nothing else does.

use han::{Config, Decoder, Event};
use han_testkit::corpus;
use serde_json::Value as Json;

/// A capture in the stream: its bytes and the readings it gives alone.
struct Piece {
    name: String,
    bytes: Vec<u8>,
    readings: Vec<String>,
    has_crc: bool,
}

fn run(chunks: &[&[u8]]) -> (Vec<String>, usize) {
    let mut d = Decoder::new(Config::default());
    let (mut out, mut rejected) = (Vec::new(), 0);
    let mut drain = |d: &mut Decoder| {
        while let Some(e) = d.next_event() {
            match e {
                Event::Reading(r) => out.push(serde_json::to_string(&*r).expect("serialisable")),
                Event::Rejected { .. } => rejected += 1,
            }
        }
    };
    for c in chunks {
        d.push(c);
        drain(&mut d);
    }
    d.finish();
    drain(&mut d);
    (out, rejected)
}

/// The valid, unencrypted captures that are framed (not bare PDUs).
fn pieces() -> Option<Vec<Piece>> {
    let dir = corpus::dir()?;
    let mut v = Vec::new();
    for e in corpus::manifest(&dir) {
        let framing = e["framing"].as_str().unwrap_or("");
        if e["valid"] != Json::Bool(true)
            || !e["key"].is_null()
            || !["hdlc", "hdlc-segmented", "mbus", "dsmr"].contains(&framing)
        {
            continue;
        }
        let name = e["file"].as_str().expect("file").to_owned();
        let bytes = std::fs::read(dir.join(&name)).expect("readable");
        let (readings, _) = run(&[&bytes]);
        assert_eq!(readings.len() as u64, e["readings"].as_u64().unwrap_or(0), "{name} alone");
        // DSMR 2.2/3.0 and the German Q3D carry no CRC: a flipped bit there
        // is undetectable by design, so they stay out of the flip test.
        let has_crc = !(name.contains("dsmr22") || name.contains("dsmr30") || name.contains("q3d"));
        v.push(Piece { name, bytes, readings, has_crc });
    }
    assert!(v.len() > 30, "too few captures found");
    Some(v)
}

/// A small deterministic generator, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Concatenates pieces with `gap(i)` bytes before each; returns the stream,
/// each piece's byte range, and the expected readings in order.
fn build(pieces: &[&Piece], mut gap: impl FnMut(usize) -> Vec<u8>) -> (Vec<u8>, Vec<(usize, usize)>, Vec<String>) {
    let (mut s, mut ranges, mut want) = (Vec::new(), Vec::new(), Vec::new());
    for (i, p) in pieces.iter().enumerate() {
        s.extend(gap(i));
        ranges.push((s.len(), s.len() + p.bytes.len()));
        s.extend(&p.bytes);
        want.extend(p.readings.iter().cloned());
    }
    (s, ranges, want)
}

#[test]
fn back_to_back_and_byte_at_a_time() {
    let Some(pieces) = pieces() else { return };
    let all: Vec<&Piece> = pieces.iter().collect();
    let (s, _, want) = build(&all, |_| Vec::new());
    let (got, _) = run(&[&s]);
    assert_eq!(got, want);
    let bytes: Vec<&[u8]> = s.chunks(1).collect();
    assert_eq!(run(&bytes).0, want, "one byte at a time");
    let mut rng = Rng(7);
    let mut chunks = Vec::new();
    let mut rest = &s[..];
    while !rest.is_empty() {
        let n = 1 + rng.below(300).min(rest.len() - 1);
        let (a, b) = rest.split_at(n);
        chunks.push(a);
        rest = b;
    }
    assert_eq!(run(&chunks).0, want, "random chunks");
}

#[test]
fn garbage_between_frames_loses_nothing() {
    let Some(pieces) = pieces() else { return };
    let all: Vec<&Piece> = pieces.iter().collect();
    for seed in 1..=20u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (s, _, want) = build(&all, |_| {
            let n = rng.below(200);
            (0..n).map(|_| rng.next() as u8).collect()
        });
        let (got, _) = run(&[&s]);
        assert_eq!(got, want, "seed {seed}");
    }
    // Flags, CR LF and zeros between frames, as adapters really send.
    let (s, _, want) = build(&all, |i| match i % 3 {
        0 => vec![0x7E; 3],
        1 => b"\r\n\r\n".to_vec(),
        _ => vec![0; 17],
    });
    assert_eq!(run(&[&s]).0, want);
}

#[test]
fn split_at_every_offset() {
    let Some(pieces) = pieces() else { return };
    let all: Vec<&Piece> = pieces.iter().take(12).collect();
    let (s, _, want) = build(&all, |_| Vec::new());
    for cut in 0..=s.len() {
        let (a, b) = s.split_at(cut);
        assert_eq!(run(&[a, b]).0, want, "split at {cut}");
    }
}

#[test]
fn cut_short_at_every_offset() {
    let Some(pieces) = pieces() else { return };
    // Each capture alone: a prefix gives no reading unless it holds the
    // whole frame, and never anything else.
    for p in &pieces {
        for cut in 0..p.bytes.len() {
            let (got, _) = run(&[&p.bytes[..cut]]);
            assert!(got.is_empty() || got == p.readings, "{} cut at {cut}: {got:?}", p.name);
        }
    }
    // A stream cut short: what comes out is the readings of the pieces that
    // are wholly in, in order.
    let all: Vec<&Piece> = pieces.iter().take(10).collect();
    let (s, ranges, want) = build(&all, |_| Vec::new());
    for cut in 0..=s.len() {
        let (got, _) = run(&[&s[..cut]]);
        let complete: usize =
            ranges.iter().zip(&all).filter(|((_, end), _)| *end <= cut).map(|(_, p)| p.readings.len()).sum();
        let started: usize =
            ranges.iter().zip(&all).filter(|((start, _), _)| *start < cut).map(|(_, p)| p.readings.len()).sum();
        assert!(got.len() >= complete && got.len() <= started, "cut at {cut}: {} readings", got.len());
        assert_eq!(got[..], want[..got.len()], "cut at {cut}");
    }
}

#[test]
fn bit_flips_lose_only_the_hit_frame() {
    let Some(pieces) = pieces() else { return };
    let all: Vec<&Piece> = pieces.iter().filter(|p| p.has_crc).collect();
    let mut rng = Rng(0xDEAD_BEEF);
    let (s, ranges, _) = build(&all, |_| {
        let n = rng.below(40);
        (0..n).map(|_| rng.next() as u8).collect()
    });
    for trial in 0..400 {
        let at = rng.below(s.len());
        let mut flipped = s.clone();
        flipped[at] ^= 1 << rng.below(8);
        let hit = ranges.iter().position(|(a, b)| (*a..*b).contains(&at));
        let want: Vec<String> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != hit)
            .flat_map(|(_, p)| p.readings.iter().cloned())
            .collect();
        let (got, _) = run(&[&flipped]);
        // The hit frame may survive only when the flip fell outside what its
        // checksum covers (a trailing CR LF or flag).
        let with_hit: Vec<String> = all.iter().flat_map(|p| p.readings.iter().cloned()).collect();
        assert!(
            got == want || got == with_hit,
            "trial {trial}: flip at {at} (offset {:?}) in {:?}: got {} readings, want {}",
            hit.map(|h| at - ranges[h].0),
            hit.map(|h| &all[h].name),
            got.len(),
            want.len()
        );
    }
}

#[test]
fn empty_input_and_only_garbage() {
    assert_eq!(run(&[]).0.len(), 0);
    assert_eq!(run(&[b""]).0.len(), 0);
    let mut rng = Rng(99);
    let noise: Vec<u8> = (0..100_000).map(|_| rng.next() as u8).collect();
    assert!(run(&[&noise]).0.is_empty());
    // Runs of every start byte.
    for b in [0x7E, 0x68, b'/', 0xDB, 0x0F, 0xE6, 0xE0] {
        assert!(run(&[&vec![b; 5000]]).0.is_empty());
    }
}
