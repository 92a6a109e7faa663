//! Decoding a message against the one of its layout before (the default)
//! gives exactly what decoding it from scratch (`Config::full_decode`)
//! gives: on every capture of the corpus, on every one-byte change of every
//! message in it (framed again so that its checksum holds), and on random
//! sequences of changed sample frames.

use han_testkit::corpus;
use std::sync::{Arc, Mutex};

use han::encode::{hdlc_push, samples};
use han::{Config, Decoder, Event, EventRef, Framing, Seen};
use proptest::prelude::*;
use serde_json::Value as Json;

/// Every event of a stream, as text: readings as JSON (lent: as the line
/// writer writes them), rejections with
/// their error and bytes. `lent`: through `next_event_ref` (readings lent,
/// templates' readings not copied), else `next_event` with readings handed
/// back for reuse, as a caller that keeps them does.
fn events(cfg: &Config, stream: &[u8], lent: bool) -> Vec<String> {
    let mut d = Decoder::new(cfg.clone());
    d.push(stream);
    d.finish();
    let mut out = Vec::new();
    if lent {
        while let Some(e) = d.next_event_ref() {
            out.push(match e {
                // The line writer, which copies the objects a template's
                // reading kept since its last line: held to serde's text of
                // the reading decoded from scratch.
                EventRef::Reading(r) => {
                    let mut line = Vec::new();
                    r.write_json_line(&mut line);
                    serde_json::from_slice::<Json>(&line).expect("a JSON line").to_string()
                }
                EventRef::Rejected { error, bytes } => format!("{error} {bytes:02X?}"),
            });
            out.extend(std::iter::from_fn(|| d.next_warning()).map(|w| format!("warning: {w}")));
        }
        return out;
    }
    while let Some(e) = d.next_event() {
        match e {
            Event::Reading(r) => {
                // Through a JSON value, as the lent line is: the line writer
                // writes a meter's decimals with their digits (`0.790`).
                let text = serde_json::to_string(&*r).expect("serialisable");
                out.push(serde_json::from_str::<Json>(&text).expect("JSON").to_string());
                d.recycle(r);
            }
            Event::Rejected { error, bytes } => out.push(format!("{error} {bytes:02X?}")),
        }
        out.extend(std::iter::from_fn(|| d.next_warning()).map(|w| format!("warning: {w}")));
    }
    out
}

/// Against templates (readings lent, and handed over) and from scratch,
/// compared; returns how many readings came out.
fn same_both_ways(cfg: &Config, stream: &[u8], what: &str) -> usize {
    let full = events(&Config { full_decode: true, ..cfg.clone() }, stream, false);
    for lent in [false, true] {
        let fast = events(cfg, stream, lent);
        assert_eq!(fast.len(), full.len(), "{what}: event count (lent: {lent})");
        for (i, (a, b)) in fast.iter().zip(&full).enumerate() {
            assert_eq!(a, b, "{what}: event {i} differs (left: against a template, lent: {lent}; right: from scratch)");
        }
    }
    full.iter().filter(|e| e.starts_with('{')).count()
}

/// The plaintext APDUs a stream carries, as the decoder sees them.
fn apdus(cfg: &Config, stream: &[u8]) -> Vec<Vec<u8>> {
    seen(cfg, stream, |s| match s {
        Seen::Apdu(a) => Some(a.to_vec()),
        _ => None,
    })
}

/// The DSMR telegrams a stream carries (not the encrypted ones).
fn telegrams(cfg: &Config, stream: &[u8]) -> Vec<Vec<u8>> {
    seen(cfg, stream, |s| match s {
        Seen::Frame { framing: Framing::Dsmr, bytes } if bytes.first() == Some(&b'/') => Some(bytes.to_vec()),
        _ => None,
    })
}

fn seen(cfg: &Config, stream: &[u8], pick: fn(Seen<'_>) -> Option<Vec<u8>>) -> Vec<Vec<u8>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut d = Decoder::new(cfg.clone());
    let sink = Arc::clone(&seen);
    d.observe(Box::new(move |s| {
        if let Some(b) = pick(s) {
            sink.lock().expect("not poisoned").push(b);
        }
    }));
    d.push(stream);
    d.finish();
    while d.next_event().is_some() {}
    seen.lock().expect("not poisoned").clone()
}

fn corpus() -> Vec<(String, Config, Vec<u8>)> {
    let Some(dir) = corpus::dir() else { return Vec::new() };
    corpus::manifest(&dir)
        .iter()
        .filter_map(|e: &Json| {
            let file = e["file"].as_str()?;
            if file.starts_with("prices/") {
                return None;
            }
            let cfg =
                Config { key: corpus::key(&e["key"]), auth_key: corpus::key(&e["auth_key"]), ..Config::default() };
            Some((file.to_owned(), cfg, std::fs::read(dir.join(file)).expect("capture readable")))
        })
        .collect()
}

#[test]
fn every_capture_decodes_alike_alone_and_repeated() {
    let mut readings = 0;
    for (file, cfg, bytes) in corpus() {
        readings += same_both_ways(&cfg, &bytes, &file);
        let thrice = [&bytes[..], &bytes, &bytes].concat();
        same_both_ways(&cfg, &thrice, &format!("{file} x3"));
    }
    if corpus::dir().is_some() {
        assert!(readings > 50, "the corpus gave only {readings} readings");
    }
}

/// Each message of each capture, then a copy of it with one byte changed,
/// for every byte and two kinds of change: whatever the change hits (a
/// number, a clock, a tag, a length, a code, a scaler, a text), the reading
/// or the rejection is the same both ways.
#[test]
fn every_one_byte_change_of_every_message_decodes_alike() {
    let mut messages = 0;
    let mut templated = 0;
    for (file, cfg, bytes) in corpus() {
        for apdu in apdus(&cfg, &bytes) {
            if apdu.first() != Some(&0x0F) {
                continue;
            }
            messages += 1;
            let original = hdlc_push(&apdu);
            let mut stream = original.clone();
            for at in 0..apdu.len() {
                for flip in [0x01u8, 0xA5] {
                    let mut changed = apdu.clone();
                    changed[at] ^= flip;
                    stream.extend_from_slice(&hdlc_push(&changed));
                    stream.extend_from_slice(&original);
                }
            }
            let cfg = Config { key: None, auth_key: None, ..cfg.clone() };
            templated += same_both_ways(&cfg, &stream, &format!("{file}: one-byte changes"));
        }
    }
    if corpus::dir().is_some() {
        assert!(messages > 30, "only {messages} data-notifications in the corpus");
        assert!(templated > 10 * messages, "few changed messages decoded ({templated})");
    }
}

/// Every message of the corpus in turn, three rounds, HAN frames and P1
/// telegrams in one stream: more layouts than a decoder remembers, many of
/// the same length, each read against the others' templates first. The
/// same both ways.
#[test]
fn every_capture_interleaved_decodes_alike() {
    let mut messages = Vec::new();
    for (_, cfg, bytes) in corpus() {
        if cfg.key.is_some() {
            continue;
        }
        messages.extend(apdus(&cfg, &bytes).iter().filter(|a| a.first() == Some(&0x0F)).map(|a| hdlc_push(a)));
        messages.extend(telegrams(&cfg, &bytes).iter().map(|t| [&t[..], b"\r\n"].concat()));
    }
    let stream: Vec<u8> = (0..3).flat_map(|_| messages.iter().flatten().copied()).collect();
    let readings = same_both_ways(&Config::default(), &stream, "the corpus interleaved");
    if corpus::dir().is_some() {
        assert!(messages.len() > 40, "only {} messages in the corpus", messages.len());
        assert!(readings > 2 * messages.len(), "few readings ({readings} of {} messages x3)", messages.len());
    }
}

/// Which meter, the frame number, and byte changes inside the APDU.
type SampleFrame = (usize, u32, Vec<(usize, u8)>);

/// A telegram with one byte of its body changed and its CRC (when it has
/// one) made right again.
fn changed_telegram(t: &[u8], at: usize, flip: u8) -> Vec<u8> {
    let bang = t.iter().rposition(|b| *b == b'!').expect("an end line");
    let mut body = t[..=bang].to_vec();
    body[at] ^= flip;
    let tail = &t[bang + 1..];
    let digits = tail.iter().take(4).take_while(|d| d.is_ascii_hexdigit()).count();
    if digits == 4 {
        body.extend_from_slice(format!("{:04X}", han::crc::arc(&body)).as_bytes());
        body.extend_from_slice(&tail[4..]);
    } else {
        body.extend_from_slice(tail);
    }
    body
}

/// Each telegram of each P1 capture, then a copy with one byte changed (its
/// CRC made right), for every byte of its body: the same both ways.
#[test]
fn every_one_byte_change_of_every_telegram_decodes_alike() {
    let mut telegrams_seen = 0;
    for (file, cfg, bytes) in corpus() {
        for t in telegrams(&cfg, &bytes) {
            telegrams_seen += 1;
            let bang = t.iter().rposition(|b| *b == b'!').expect("an end line");
            let mut stream = t.clone();
            for at in 1..bang {
                // A digit stays a digit or becomes a letter; anything else may.
                let flip = if at % 2 == 0 { 0x01 } else { 0x19 };
                stream.extend_from_slice(&changed_telegram(&t, at, flip));
                stream.extend_from_slice(&t);
            }
            same_both_ways(&cfg, &stream, &format!("{file}: one-byte changes"));
        }
    }
    if corpus::dir().is_some() {
        assert!(telegrams_seen > 20, "only {telegrams_seen} telegrams in the corpus");
    }
}

fn sample_frames() -> impl Strategy<Value = Vec<SampleFrame>> {
    let change = (any::<usize>(), any::<u8>());
    proptest::collection::vec((0usize..8, 0u32..5000, proptest::collection::vec(change, 0..3)), 1..24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Sequences of the sample meters' frames and telegrams (five DSMR
    /// meters whose telegrams have one length), some with bytes changed
    /// (framed again, or the CRC made right, so that the checksum holds),
    /// interleaved: the same events both ways.
    #[test]
    fn changed_sample_sequences_decode_alike(frames in sample_frames()) {
        let makers = [samples::aidon_list2 as fn(u32) -> Vec<u8>, samples::kaifa_list2, samples::kamstrup_list1];
        let mut stream = Vec::new();
        for (meter, i, changes) in frames {
            if meter >= 3 {
                // DSMR meters 3..8: the sample's identification made each
                // its own, of one length (several meters on one line).
                let mut t = samples::dsmr5(i);
                if meter > 3 {
                    let bang = t.iter().rposition(|b| *b == b'!').expect("an end line");
                    let body = std::str::from_utf8(&t[..bang]).expect("text");
                    t = han::encode::dsmr_telegram(&body.replacen("MT382-1000", &format!("MT382-100{meter}"), 1));
                }
                let bang = t.iter().rposition(|b| *b == b'!').expect("an end line");
                for (at, x) in changes {
                    t = changed_telegram(&t, 1 + at % (bang - 1), x);
                }
                stream.extend_from_slice(&t);
                continue;
            }
            let frame = makers[meter](i);
            let mut apdu = apdus(&Config::default(), &frame).pop().expect("one APDU");
            for (at, x) in changes {
                let n = apdu.len();
                apdu[at % n] ^= x;
            }
            stream.extend_from_slice(&hdlc_push(&apdu));
        }
        same_both_ways(&Config::default(), &stream, "samples");
    }
}
