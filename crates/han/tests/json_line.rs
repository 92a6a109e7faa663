//! `Reading::write_json_line` (the fast path han-read uses) writes the same
//! document as the `Serialize` implementation, on every corpus reading and
//! on simulated frames, and one line each.

use chrono::TimeZone;
use han::{Config, Decoder, Event};
use han_testkit::corpus;
use serde_json::Value as Json;

/// Readings checked so far, for their `received`.
static SEQ: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

fn check(bytes: &[u8], cfg: Config, what: &str) -> usize {
    let mut d = Decoder::new(cfg);
    d.push(bytes);
    d.finish();
    let mut n = 0;
    while let Some(e) = d.next_event() {
        if let Event::Reading(mut r) = e {
            // Two readings a stamp, as a chunk of input gives several the
            // same (the writer keeps the last stamp's text), then another.
            let later = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed) / 2 * 1001;
            r.received = chrono::Utc
                .with_ymd_and_hms(2025, 3, 30, 1, 59, 59)
                .single()
                .map(|t| t + chrono::Duration::milliseconds(7 + later));
            let mut line = Vec::new();
            r.write_json_line(&mut line);
            assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1, "{what}: one line");
            assert_eq!(line.last(), Some(&b'\n'));
            let fast: Json = serde_json::from_slice(&line)
                .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", String::from_utf8_lossy(&line)));
            let serde = serde_json::to_value(&*r).expect("serialisable");
            assert_eq!(fast, serde, "{what}");
            n += 1;
        }
    }
    n
}

#[test]
fn same_document_as_serde() {
    let mut total = 0;
    for i in 0..50 {
        for make in [
            han::encode::samples::aidon_list2 as fn(u32) -> Vec<u8>,
            han::encode::samples::kaifa_list2,
            han::encode::samples::kamstrup_list1,
            han::encode::samples::dsmr5,
        ] {
            total += check(&make(i), Config::default(), "sample");
        }
    }
    let Some(dir) = corpus::dir() else { return };
    for e in corpus::manifest(&dir) {
        let file = e["file"].as_str().expect("file");
        if file.starts_with("prices/") {
            continue;
        }
        let bytes = std::fs::read(dir.join(file)).expect("capture");
        let cfg = Config { key: corpus::key(&e["key"]), auth_key: corpus::key(&e["auth_key"]), ..Config::default() };
        total += check(&bytes, cfg.clone(), file);
        let oslo = Config { tz: Some(han::Tz::Europe__Oslo), ..cfg };
        total += check(&bytes, oslo, file);
    }
    assert!(total > 250, "{total} readings checked");
}

#[test]
fn text_that_needs_escaping() {
    // A DSMR text message with a quote, a backslash, a tab and a control byte.
    let body =
        "/ISK5\\2M550T-1012\r\n\r\n1-3:0.2.8(50)\r\n0-0:96.13.0(say \"hi\"\\\t\u{1}x)\r\n9-9:9.9.9(caf\u{e9})\r\n";
    let n = check(&han::encode::dsmr_telegram(body), Config::default(), "escapes");
    assert_eq!(n, 1);
}
