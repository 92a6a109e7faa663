//! `han::anonymise` over the corpus and generated captures: what comes out
//! still decodes, to the same values but for the ids, which all changed and
//! appear nowhere in it; what does not decode is left out; anonymising is
//! deterministic and its own output goes through it again unchanged in shape.

mod common;

use common::{Trouble, keys};
use han::anonymise::{Anonymiser, anonymise};
use han::{Config, Obis};
use han_testkit::corpus;
use proptest::prelude::*;
use serde_json::Value as Json;

const SECRET: [u8; 16] = *b"han-tools test 1";

/// Readings as JSON, and the errors, of a whole input.
fn decode_all(bytes: &[u8], cfg: &Config) -> (Vec<Json>, Vec<String>) {
    common::decode_all(bytes, cfg, |t| match t {
        Trouble::Rejected(error) => Some(error.to_string()),
        Trouble::Warning(_) => None,
    })
}

/// The id codes, as docs/han-read.md lists them ("Sharing a capture"),
/// written here again so the test does not take the library's word.
fn is_id_key(key: &str) -> bool {
    let Ok(o) = key.parse::<Obis>() else { return false };
    let [a, _, c, d, e, _] = o.0;
    matches!((a, c, d), (0, 96, 1) if e != 4 && e != 7)
        || matches!((a, c, d), (0 | 1, 0, 0))
        || (a, c, d, e) == (0, 42, 0, 0)
}

/// A reading without its ids (and what writing it decrypted changes).
fn mask(r: &Json, decrypted: bool) -> Json {
    let mut r = r.clone();
    let m = r.as_object_mut().expect("object");
    m.remove("meter_id");
    if decrypted {
        m.remove("encrypted");
        m.remove("manufacturer");
        if m["framing"] == "dsmr-encrypted" {
            m.insert("framing".into(), "dsmr".into());
        }
    }
    m["obis"].as_object_mut().expect("obis").retain(|k, _| !is_id_key(k));
    if let Some(subs) = m.get_mut("submeters").and_then(Json::as_array_mut) {
        for s in subs {
            s.as_object_mut().expect("sub-meter").remove("id");
        }
    }
    r
}

/// The id objects of a reading: (key, object).
fn ids(r: &Json) -> Vec<(String, Json)> {
    r["obis"]
        .as_object()
        .expect("obis")
        .iter()
        .filter(|(k, _)| is_id_key(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether an id value holds something to hide.
fn telling(v: &Json) -> bool {
    match v {
        Json::String(s) => s.bytes().any(|c| c.is_ascii_alphanumeric()),
        Json::Number(_) => true,
        _ => false,
    }
}

/// The id strings that must appear nowhere in an anonymised capture: ids
/// long and varied enough not to turn up by chance (not `00000000`), as
/// text, and as the bytes their hex stands for.
fn secrets(r: &Json) -> Vec<Vec<u8>> {
    let mut strings: Vec<String> = Vec::new();
    for (_, o) in ids(r) {
        for k in ["value", "text"] {
            match &o[k] {
                Json::String(s) => strings.push(s.clone()),
                Json::Number(n) => strings.push(n.to_string()),
                _ => {}
            }
        }
    }
    strings.extend(r["meter_id"].as_str().map(str::to_owned));
    let mut out = Vec::new();
    for s in strings {
        let distinct = s.bytes().collect::<std::collections::BTreeSet<_>>().len();
        if s.len() < 8 || distinct < 4 {
            continue;
        }
        if s.len() % 2 == 0 && s.bytes().all(|c| c.is_ascii_hexdigit()) {
            let raw: Vec<u8> =
                (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect();
            if raw.iter().collect::<std::collections::BTreeSet<_>>().len() >= 4 {
                out.push(raw);
            }
        }
        out.push(s.into_bytes());
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn every_valid_capture_still_decodes_with_other_ids_and_no_key() {
    let Some(dir) = corpus::dir() else { return };
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in corpus::manifest(&dir) {
        let file = entry["file"].as_str().expect("file");
        if file.starts_with("prices/") || entry["valid"] != Json::Bool(true) {
            continue;
        }
        let bytes = std::fs::read(dir.join(file)).expect("capture readable");
        let cfg = keys(&entry);
        let (out, report) = anonymise(&bytes, &cfg, SECRET);
        let (before, _) = decode_all(&bytes, &cfg);
        // Decrypted: it decodes without the key.
        let (after, errors) = decode_all(&out, &Config::default());
        let mut problems = Vec::new();
        if after.len() != before.len() || !errors.is_empty() {
            problems.push(format!("{} readings, want {}; errors {errors:?}; {report:?}", after.len(), before.len()));
        }
        for (b, a) in before.iter().zip(&after) {
            let decrypted = b["encrypted"] == Json::Bool(true);
            if a.get("encrypted").is_some() {
                problems.push("still encrypted".into());
            }
            if mask(b, decrypted) != mask(a, decrypted) {
                problems.push(format!("values differ:\n      {}\n      {}", mask(b, decrypted), mask(a, decrypted)));
            }
            for (key, o) in ids(b) {
                if telling(&o["value"]) && a["obis"][&key]["value"] == o["value"] {
                    problems.push(format!("{key} unchanged: {}", o["value"]));
                }
                if a["obis"].get(&key).is_none_or(|n| json_shape(n) != json_shape(&o)) {
                    problems.push(format!("{key} changed shape: {o} -> {}", a["obis"][&key]));
                }
            }
            if b["meter_id"].is_string() && a["meter_id"] == b["meter_id"] {
                problems.push("meter_id unchanged".into());
            }
            for s in secrets(b) {
                if contains(&out, &s) {
                    problems.push(format!("the original id {:?} is in the output", String::from_utf8_lossy(&s)));
                }
            }
        }
        if decrypted_any(&before) && report.decrypted == 0 {
            problems.push("an encrypted capture, and the report says none was decrypted".into());
        }
        checked += 1;
        if !problems.is_empty() {
            failures.push(format!("{file}:\n    {}", problems.join("\n    ")));
        }
    }
    assert!(checked >= 60, "only {checked} valid captures");
    assert!(failures.is_empty(), "{} captures wrong:\n{}", failures.len(), failures.join("\n"));
}

fn decrypted_any(readings: &[Json]) -> bool {
    readings.iter().any(|r| r["encrypted"] == Json::Bool(true))
}

/// An object's shape: the length and character classes of its text (the
/// decoded text of a hex-encoded DSMR id, and the hex's length), or its kind.
fn json_shape(o: &Json) -> String {
    let classes = |s: &str| -> String {
        s.bytes()
            .map(|c| match c {
                b'0'..=b'9' => '9',
                b'a'..=b'z' => 'a',
                b'A'..=b'Z' => 'A',
                c => char::from(c),
            })
            .collect()
    };
    match (&o["value"], &o["text"]) {
        (Json::String(v), Json::String(t)) => format!("{} ({} hex)", classes(t), v.len()),
        (Json::String(s), _) => classes(s),
        (v, _) => (if v.is_number() { "number" } else { "other" }).to_owned(),
    }
}

#[test]
fn invalid_captures_are_left_out_whole() {
    let Some(dir) = corpus::dir() else { return };
    let mut failures = Vec::new();
    for entry in corpus::manifest(&dir) {
        let file = entry["file"].as_str().expect("file");
        if file.starts_with("prices/") || entry["valid"] != Json::Bool(false) {
            continue;
        }
        let bytes = std::fs::read(dir.join(file)).expect("capture readable");
        let (out, report) = anonymise(&bytes, &keys(&entry), SECRET);
        // Nothing but the flags and line ends between frames.
        if !out.iter().all(|b| matches!(b, 0x7E | b'\r' | b'\n')) || report.messages != 0 {
            failures.push(format!("{file}: wrote {} bytes, {report:?}", out.len()));
        }
        if report.left_out_bytes == 0 || report.reasons.is_empty() {
            failures.push(format!("{file}: nothing said to be left out: {report:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_same_secret_gives_the_same_ids_another_other_ids() {
    let Some(dir) = corpus::dir() else { return };
    let bytes = std::fs::read(dir.join("han/aidon-6534-list3-01.bin")).expect("capture");
    let (a, _) = anonymise(&bytes, &Config::default(), SECRET);
    let (b, _) = anonymise(&bytes, &Config::default(), SECRET);
    let (c, _) = anonymise(&bytes, &Config::default(), [9; 16]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!((a.len(), c.len()), (bytes.len(), bytes.len()), "a plain frame keeps its length");
    let id = |x: &[u8]| decode_all(x, &Config::default()).0[0]["meter_id"].clone();
    assert_ne!(id(&a), id(&c));
    // Every byte but the id's sixteen and the FCS's two is the original's.
    let differ = bytes.iter().zip(&a).filter(|(x, y)| x != y).count();
    assert!((2..=18).contains(&differ), "{differ} bytes differ");
}

/// A capture of generated frames: an Aidon, a Kaifa and a Kamstrup list with
/// the given meter id (16 digits), a DSMR telegram, between flags and line ends.
fn capture(id: &str, i: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for f in [
        han::encode::samples::aidon_list2(i),
        han::encode::samples::kaifa_list2(i),
        han::encode::samples::kamstrup_list1(i),
        han::encode::samples::dsmr5(i),
    ] {
        out.extend(f);
    }
    // The samples' own ids, swapped for this one (same length; `fix`
    // computes the checksums again).
    for own in ["7359992890941742", "6970631403275928", "5706567274389702"] {
        replace(&mut out, own.as_bytes(), id.as_bytes());
    }
    out
}

fn replace(hay: &mut [u8], from: &[u8], to: &[u8]) {
    let mut i = 0;
    while i + from.len() <= hay.len() {
        if &hay[i..i + from.len()] == from {
            hay[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Anonymising is deterministic, does not depend on how the input is
    /// cut, and its output goes through again: every frame written again,
    /// nothing left out, the same values, the same length, new ids.
    #[test]
    fn anonymising_twice_is_stable(id in "[0-9]{16}", i in 0u32..1000, cuts in proptest::collection::vec(1usize..200, 1..20)) {
        let x = fix(&capture(&id, i));
        let (a1, r1) = anonymise(&x, &Config::default(), SECRET);
        prop_assert_eq!(r1.left_out_frames, 0, "{:?}", r1);
        prop_assert_eq!(r1.messages, 4);
        prop_assert_eq!(&anonymise(&x, &Config::default(), SECRET).0, &a1);
        // In chunks.
        let mut a = Anonymiser::new(Config::default(), SECRET);
        let (mut chunked, mut at) = (Vec::new(), 0);
        for c in cuts.iter().cycle() {
            if at >= x.len() { break; }
            let end = (at + c).min(x.len());
            a.push(&x[at..end]);
            a.take_output(&mut chunked);
            at = end;
        }
        a.finish();
        a.take_output(&mut chunked);
        prop_assert_eq!(&chunked, &a1);
        // Twice.
        let (a2, r2) = anonymise(&a1, &Config::default(), SECRET);
        prop_assert_eq!(r2.left_out_frames, 0);
        prop_assert_eq!(r2.messages, r1.messages);
        prop_assert_eq!(r2.ids, r1.ids);
        prop_assert_eq!(a2.len(), a1.len());
        let (d0, d1, d2) = (decode_all(&x, &Config::default()).0, decode_all(&a1, &Config::default()).0, decode_all(&a2, &Config::default()).0);
        prop_assert_eq!(d1.len(), 4);
        for ((r0, r1), r2) in d0.iter().zip(&d1).zip(&d2) {
            prop_assert_eq!(mask(r0, false), mask(r1, false));
            prop_assert_eq!(mask(r1, false), mask(r2, false));
            prop_assert_ne!(&r1["meter_id"], &r0["meter_id"]);
            prop_assert_ne!(&r2["meter_id"], &r1["meter_id"]);
        }
        prop_assert!(!contains(&a1, id.as_bytes()));
    }

    /// Whatever comes in, the anonymiser neither panics nor writes a byte
    /// that is no flag, no line end and no part of a frame that decodes.
    #[test]
    fn never_panics_and_writes_only_what_decodes(noise in proptest::collection::vec(any::<u8>(), 0..600)) {
        let (out, report) = anonymise(&noise, &Config::default(), SECRET);
        let (readings, errors) = decode_all(&out, &Config::default());
        prop_assert_eq!(readings.len() as u64, report.messages);
        prop_assert!(errors.is_empty(), "{:?}", errors);
        if readings.is_empty() {
            prop_assert!(out.iter().all(|b| matches!(b, 0x7E | b'\r' | b'\n')));
        }
    }

    /// A damaged capture: every frame written decodes, none carries the
    /// original id, and the damaged ones are left out.
    #[test]
    fn damaged_frames_are_left_out_the_rest_written(
        id in "[0-9]{16}",
        i in 0u32..1000,
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), 1u8..=255), 0..4),
    ) {
        let mut x = fix(&capture(&id, i));
        for (at, mask) in &flips {
            let at = at.index(x.len());
            x[at] ^= mask;
        }
        let (out, report) = anonymise(&x, &Config::default(), SECRET);
        let (readings, errors) = decode_all(&out, &Config::default());
        prop_assert_eq!(readings.len() as u64, report.messages, "{:?}", report);
        prop_assert!(errors.is_empty(), "{:?}", errors);
        prop_assert!(report.messages + report.left_out_frames >= 4 - flips.len() as u64);
        prop_assert!(!contains(&out, id.as_bytes()));
    }
}

/// The generated capture with its checksums made right: each frame's
/// checksum over the bytes it has now.
fn fix(x: &[u8]) -> Vec<u8> {
    let mut out = x.to_vec();
    // HDLC frames back to back from the start, then the telegram.
    let mut at = 0;
    while out.get(at) == Some(&0x7E) {
        let len = ((usize::from(out[at + 1]) & 0x07) << 8) | usize::from(out[at + 2]);
        let fcs = han::crc::x25(&out[at + 1..at + len - 1]).to_le_bytes();
        out[at + len - 1..at + len + 1].copy_from_slice(&fcs);
        at += len + 2;
    }
    out
}
